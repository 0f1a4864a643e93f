"""The Settings page's Security tab requests admin routes only for admins."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.apphelpers import ADMIN_PASSWORD, ADMIN_USERNAME, USER_PASSWORD, running_demo
from tests.browser.conftest import WAIT_MS, PageErrors
from tests.browser.test_auth_admin import sign_in_page

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def test_user_security_tab_skips_admin_routes(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await demo.add_user("dave")
        page = await sign_in_page(context, demo.url, page_errors, "dave", USER_PASSWORD)
        admin_requests: list[str] = []
        page.on(
            "request",
            lambda request: (
                admin_requests.append(request.url)
                if "/api/auth/settings" in request.url or "/api/auth/users" in request.url
                else None
            ),
        )
        for _ in range(2):
            await page.goto(demo.url + "/#/settings/about")
            await page.goto(demo.url + "/#/settings/security")
            panel = page.locator(".security-panel")
            await expect(panel.locator(".security-tokens form")).to_be_visible(timeout=WAIT_MS)

        await expect(panel.locator(".security-form")).to_have_count(0)
        assert admin_requests == []
        assert page_errors.errors == []


async def test_admin_security_tab_shows_settings(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await sign_in_page(context, demo.url, page_errors, ADMIN_USERNAME, ADMIN_PASSWORD)
        await page.goto(demo.url + "/#/settings/security")
        panel = page.locator(".security-panel")
        await expect(panel.locator(".security-form")).to_be_visible(timeout=WAIT_MS)
        assert page_errors.errors == []
