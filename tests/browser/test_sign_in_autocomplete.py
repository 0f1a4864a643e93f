"""Password managers get the right autocomplete hints on the sign-in screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.apphelpers import running_demo
from tests.browser.conftest import PageErrors
from tests.browser.test_auth_signin import open_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def test_confirm_password_is_new_password(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_sign_in(context, demo.url, page_errors)
        await expect(page.locator("#auth-confirm")).to_have_attribute(
            "autocomplete", "new-password"
        )
        await expect(page.locator("#auth-username")).to_have_attribute("autocomplete", "username")
        assert page_errors.errors == []
