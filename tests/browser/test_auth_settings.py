"""Security settings panel and the change-password dialog in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.apphelpers import ADMIN_PASSWORD, ADMIN_USERNAME, USER_PASSWORD, running_demo
from tests.browser.conftest import WAIT_MS, PageErrors
from tests.browser.test_auth_admin import sign_in_page
from tests.browser.test_auth_signin import api_errors_only

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def test_security_panel_saves_and_manages_tokens(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await demo.add_user("kiosk")
        page = await sign_in_page(context, demo.url, page_errors, ADMIN_USERNAME, ADMIN_PASSWORD)
        await page.click("#account-button")
        await page.click(".account-security")
        panel = page.locator("#security-dialog .security-panel")
        await expect(panel.locator(".security-form")).to_be_visible(timeout=WAIT_MS)

        await panel.locator(".network-add").click()
        await panel.locator("input[name='cidr']").fill("192.168.50.0/24")
        await panel.locator("input[name='username']").fill("kiosk")
        await panel.locator("input[name='registrationEnabled']").check()
        await panel.locator("input[name='sessionIdleMinutes']").fill("90")
        await panel.locator(".security-save").click()
        await expect(panel.locator(".security-message")).to_have_text(
            "Security settings saved.", timeout=WAIT_MS
        )
        stored = (await demo.client.get("/api/auth/settings")).json()
        assert stored["trustedNetworks"] == [
            {"cidr": "192.168.50.0/24", "username": "kiosk", "allowAdmin": False}
        ]
        assert stored["registrationEnabled"] is True
        assert stored["sessionIdleMinutes"] == 90

        # An invalid network is rejected by the server, which names the field.
        await panel.locator("input[name='cidr']").fill("not-a-network")
        await panel.locator(".security-save").click()
        await expect(panel.locator(".security-message")).to_contain_text(
            "trustedNetworks", timeout=WAIT_MS
        )

        # A token is shown once, works as a bearer token, and stops working when revoked.
        await panel.locator("input[name='tokenName']").fill("backup script")
        await panel.locator(".token-create button[type='submit']").click()
        secret = panel.locator(".security-tokens .secret-value")
        await expect(secret).to_be_visible(timeout=WAIT_MS)
        token = await secret.text_content() or ""
        bearer = {"authorization": f"Bearer {token}"}
        async with demo.anonymous_client() as script:
            assert (await script.get("/api/devices", headers=bearer)).status_code == 200
            await panel.locator(".token-revoke").click()
            await expect(panel.locator(".token-revoke")).to_have_count(0, timeout=WAIT_MS)
            assert (await script.get("/api/devices", headers=bearer)).status_code == 401
        assert api_errors_only(page_errors) == []


async def test_change_password_dialog(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await demo.add_user("carol")
        page = await sign_in_page(context, demo.url, page_errors, "carol", USER_PASSWORD)
        await page.click("#account-button")
        await page.click(".account-change-password")
        dialog = page.locator("#password-dialog")
        await dialog.locator("input[name='current-password']").fill("not my password")
        await dialog.locator("input[name='new-password']").fill("carol new password")
        await dialog.locator("input[name='repeat-password']").fill("carol new password")
        await dialog.locator("button[type='submit']").click()
        await expect(dialog.locator(".auth-message")).to_contain_text(
            "current password is wrong", timeout=WAIT_MS
        )

        await dialog.locator("input[name='current-password']").fill(USER_PASSWORD)
        await dialog.locator("button[type='submit']").click()
        await expect(dialog).to_be_hidden(timeout=WAIT_MS)
        await expect(page.locator("#toasts")).to_contain_text("Password changed")
        # This browser has the new session: the stream reconnects and the page stays.
        await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
        assert await page.evaluate("document.documentElement.dataset.auth") == "signed-in"
        async with demo.anonymous_client() as other:
            old = await other.post(
                "/api/auth/login", json={"username": "carol", "password": USER_PASSWORD}
            )
            assert old.status_code == 401
            new = await other.post(
                "/api/auth/login", json={"username": "carol", "password": "carol new password"}
            )
            assert new.status_code == 200
        assert api_errors_only(page_errors) == []
