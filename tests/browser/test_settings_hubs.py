"""Settings → Hubs in Chromium: an admin adds a hub by token and its tiles appear live."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.apphelpers import DEMO_HUB_NAMES, running_demo, start_simulator
from tests.browser.conftest import WAIT_MS, PageErrors, open_dashboard

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def test_admin_adds_the_garage_hub_and_sees_its_tiles(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    sim, config = await start_simulator("garage", DEMO_HUB_NAMES["garage"])
    try:
        async with running_demo(tmp_path, hubs=("main",)) as demo:
            page = await open_dashboard(context, demo.url, page_errors, "#/settings/hubs")
            hubs = page.locator(".hub-list .hub-row")
            await expect(hubs).to_have_count(1, timeout=WAIT_MS)
            await expect(hubs.first.locator(".hub-state")).to_have_text("online")

            await page.get_by_role("button", name="Add a hub").click()
            form = page.locator("form.hub-form")
            await form.locator("[name=hubId]").fill("garage")
            await form.locator("[name=name]").fill("Garage Hub")
            await form.locator("[name=host]").fill(config.host)
            await form.locator("[name=appId]").fill(config.app_id)
            await form.locator("[name=token]").fill("wrong-token-1234")
            await form.get_by_role("button", name="Test connection").click()
            await expect(form.locator(".settings-status")).to_contain_text(
                "rejected the access token", timeout=WAIT_MS
            )

            await form.locator("[name=token]").fill(config.token)
            await form.get_by_role("button", name="Test connection").click()
            await expect(form.locator(".settings-status")).to_contain_text(
                "connected", timeout=WAIT_MS
            )
            await form.get_by_role("button", name="Save").click()

            garage_row = page.locator(".hub-row[data-hub-id=garage]")
            await expect(garage_row.locator(".hub-state")).to_have_text("online", timeout=WAIT_MS)
            await expect(garage_row).not_to_contain_text(config.token)

            await page.get_by_role("link", name="Back to the dashboard").click()
            await page.goto(demo.url + "/#/section/all")
            await expect(page.locator(".tile-grid [data-uid^='garage:']").first).to_be_visible(
                timeout=WAIT_MS
            )
            assert page_errors.errors == []
    finally:
        await sim.stop()


async def test_user_sees_no_hubs_tab(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        await demo.add_user("viewer")
        reply = await context.request.post(
            demo.url + "/api/auth/login",
            data={"username": "viewer", "password": "user password 12"},
            headers={"origin": demo.url},
        )
        assert reply.status == 200
        page = page_errors.watch(await context.new_page())
        await page.goto(demo.url + "/#/settings/hubs")
        tabs = page.locator(".settings-tabs")
        await expect(tabs.get_by_role("link", name="About")).to_be_visible(timeout=WAIT_MS)
        await expect(tabs.get_by_role("link", name="Hubs")).to_be_hidden()
        await expect(page.get_by_role("heading", name="Appearance")).to_be_visible()
        await tabs.get_by_role("link", name="About").click()
        await expect(page.locator(".settings-facts")).to_contain_text("Version", timeout=WAIT_MS)
