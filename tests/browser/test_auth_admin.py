"""Accounts administration in Chromium: a non-admin sees no admin controls and gets 403
from admin routes; the admin creates, disables and resets a user in the users dialog."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.apphelpers import ADMIN_PASSWORD, ADMIN_USERNAME, USER_PASSWORD, running_demo
from tests.browser.conftest import WAIT_MS, PageErrors
from tests.browser.test_auth_signin import (
    FETCH_STATUS,
    api_errors_only,
    open_sign_in,
    submit_form,
)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

ADMIN_ROUTES = [
    ("GET", "/api/auth/users"),
    ("POST", "/api/auth/users"),
    ("PATCH", "/api/auth/users/1"),
    ("DELETE", "/api/auth/users/1"),
    ("POST", "/api/auth/users/1/reset-password"),
    ("POST", "/api/auth/users/1/unlock"),
    ("POST", "/api/users/1/toggle-auth"),
    ("GET", "/api/auth/settings"),
    ("PATCH", "/api/auth/settings"),
]


async def sign_in_page(
    context: BrowserContext, url: str, errors: PageErrors, user: str, password: str
) -> Page:
    page = await open_sign_in(context, url, errors)
    await submit_form(page, user, password)
    await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
    return page


async def open_users(page: Page) -> None:
    await page.click("#account-button")
    await page.click(".account-manage-users")
    await expect(page.locator("#users-dialog [data-username]").first).to_be_visible(timeout=WAIT_MS)


def user_row(page: Page, username: str) -> Locator:
    return page.locator(f"#users-dialog tr[data-username='{username}']")


async def test_non_admin_sees_no_admin_controls(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await demo.add_user("alice")
        page = await sign_in_page(context, demo.url, page_errors, "alice", USER_PASSWORD)
        assert await page.evaluate("document.documentElement.dataset.role") == "user"

        await page.click("#account-button")
        actions = page.locator("#account-dialog .account-actions")
        await expect(actions).to_be_visible()
        await expect(actions.locator(".account-change-password")).to_be_visible()
        await expect(actions.locator(".account-sign-out")).to_be_visible()
        assert await actions.locator(".account-manage-users").count() == 0
        assert await actions.locator(".account-security").count() == 0
        assert await page.locator("#users-dialog, #security-dialog").count() == 0

        for method, path in ADMIN_ROUTES:
            status = await page.evaluate(FETCH_STATUS, [method, path])
            assert (method, path, status) == (method, path, 403)
        # The dashboard stays signed in: 403 is not 401.
        assert await page.evaluate("document.documentElement.dataset.auth") == "signed-in"
        assert api_errors_only(page_errors) == []


async def test_admin_creates_disables_resets_user(
    tmp_path: Path, browser: Browser, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await sign_in_page(context, demo.url, page_errors, ADMIN_USERNAME, ADMIN_PASSWORD)
        await open_users(page)
        dialog = page.locator("#users-dialog")

        # Create: the temporary password is shown once.
        await dialog.locator("input[name='new-username']").fill("bob")
        await dialog.locator(".users-create button[type='submit']").click()
        secret = dialog.locator(".secret-box .secret-value")
        await expect(secret).to_be_visible(timeout=WAIT_MS)
        first_password = await secret.text_content() or ""
        assert len(first_password) >= 10
        await expect(user_row(page, "bob")).to_be_visible()
        await expect(user_row(page, "bob").locator(".user-last-login")).to_have_text("Never")

        # Bob signs in from a second browser.
        bob_context = await browser.new_context()
        try:
            bob = await sign_in_page(bob_context, demo.url, page_errors, "bob", first_password)

            # Disable: bob's browser returns to the sign-in screen at once.
            await user_row(page, "bob").locator(".user-active").click()
            await expect(user_row(page, "bob").locator(".user-active")).to_have_text(
                "Disabled", timeout=WAIT_MS
            )
            stored = await demo.services.storage.get_user_by_username("bob")
            assert stored.active is False
            await expect(bob.locator("#auth-screen")).to_be_visible(timeout=WAIT_MS)
            await expect(bob.locator(".auth-message")).to_have_text(
                "Your session has ended. Sign in again."
            )
            await submit_form(bob, "bob", first_password)
            await expect(bob.locator(".auth-message")).to_contain_text("disabled", timeout=WAIT_MS)

            # Enable again, then reset: only the new temporary password works.
            await user_row(page, "bob").locator(".user-active").click()
            await expect(user_row(page, "bob").locator(".user-active")).to_have_text(
                "Active", timeout=WAIT_MS
            )
            await user_row(page, "bob").locator(".user-reset").click()
            await page.locator("#confirm-dialog .confirm-ok").click()
            await expect(dialog.locator(".secret-box strong")).to_contain_text(
                "New temporary password for bob", timeout=WAIT_MS
            )
            second_password = await secret.text_content() or ""
            assert second_password not in ("", first_password)

            await submit_form(bob, "bob", first_password)
            await expect(bob.locator(".auth-message")).to_have_text(
                "Wrong username or password.", timeout=WAIT_MS
            )
            await submit_form(bob, "bob", second_password)
            await bob.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
        finally:
            await bob_context.close()

        # The last active admin cannot demote itself, and the page shows the server's reason.
        await user_row(page, ADMIN_USERNAME).locator("select[name='role']").select_option("user")
        message = dialog.locator(".users-message")
        await expect(message).to_contain_text("would leave no active admin", timeout=WAIT_MS)
        admin = await demo.services.storage.get_user_by_username(ADMIN_USERNAME)
        assert admin.role == "admin"
        assert api_errors_only(page_errors) == []
