"""A URL naming a section that does not exist shows Home with a notice."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.apphelpers import running_demo, sign_in_browser
from tests.browser.conftest import WAIT_MS, PageErrors

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def test_unknown_section_shows_home_notice(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await sign_in_browser(context, demo.url)
        page = page_errors.watch(await context.new_page())
        await page.goto(demo.url + "/#/section/nonexistent")

        await expect(page.locator(".toast")).to_have_text(
            'No section named "nonexistent" — showing Home', timeout=WAIT_MS
        )
        await page.wait_for_function("() => location.hash === '#/'", timeout=WAIT_MS)
        await expect(page.locator(".card[data-section='lights']")).to_be_visible(timeout=WAIT_MS)

        # A known section still opens from its URL.
        await page.goto(demo.url + "/#/section/lights")
        await expect(page.locator(".tile-grid [data-uid]").first).to_be_visible(timeout=WAIT_MS)
        assert page_errors.errors == []


async def test_server_custom_section_opens_by_url(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        garage = {"id": "garage", "name": "Garage", "keywords": ["garage"], "uids": []}
        reply = await demo.client.put(
            "/api/user/preferences/sections/custom", json={"value": [garage]}
        )
        assert reply.status_code == 200, reply.text

        # The browser has no local copy, so the section is known only after the server's
        # preferences arrive.
        await sign_in_browser(context, demo.url)
        page = page_errors.watch(await context.new_page())
        await page.goto(demo.url + "/#/section/custom-garage")

        await expect(page.locator(".section-title")).to_have_text("Garage", timeout=WAIT_MS)
        assert await page.evaluate("location.hash") == "#/section/custom-garage"
        await expect(page.locator(".toast")).to_have_count(0)
        assert page_errors.errors == []
