"""The Settings dialog's section order list follows custom sections as they change."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, expect

from tests.apphelpers import running_demo
from tests.browser.conftest import WAIT_MS, PageErrors, open_dashboard

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def test_section_order_lists_added_section(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors)
        await page.get_by_role("button", name="Settings").click()
        dialog = page.locator("#settings-dialog")
        order = dialog.locator(".section-order li")
        before = await order.count()

        await dialog.locator("input[name='sectionName']").fill("Garage")
        await dialog.locator("input[name='sectionKeywords']").fill("garage")
        await dialog.get_by_role("button", name="Add section").click()

        await expect(order).to_have_count(before + 1, timeout=WAIT_MS)
        await expect(order.last).to_contain_text("Garage")
        await expect(dialog.get_by_role("button", name="Move Garage up")).to_be_enabled()

        await dialog.get_by_role("button", name="Remove section Garage").click()
        await expect(order).to_have_count(before, timeout=WAIT_MS)
        assert page_errors.errors == []
