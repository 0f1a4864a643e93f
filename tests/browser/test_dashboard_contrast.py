"""Tile text stays readable on colored and image tile backgrounds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.apphelpers import running_demo
from tests.browser.conftest import WAIT_MS, PageErrors, open_dashboard, tile

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

# A 1x1 transparent PNG.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def relative_luminance(css_rgb: str) -> float:
    """Return the WCAG 2.1 relative luminance of an ``rgb(r, g, b)`` string."""
    channels = [int(value) / 255 for value in re.findall(r"\d+", css_rgb)[:3]]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


async def label_and_background(page: Page, uid: str) -> tuple[str, str]:
    colors: list[str] = await tile(page, uid).evaluate(
        "node => [getComputedStyle(node.querySelector('.tile-label')).color,"
        " getComputedStyle(node).backgroundColor]"
    )
    return colors[0], colors[1]


async def test_default_dark_color_gets_light_text(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/switches")
        await page.get_by_role("button", name="Settings").click()
        dialog = page.locator("#settings-dialog")
        await expect(dialog.get_by_label("Default tile color")).to_have_value("#1f2937")
        await dialog.get_by_role("button", name="Use for all tiles").click()
        await dialog.get_by_role("button", name="Close").click()
        await expect(tile(page, "main:53")).to_have_attribute(
            "data-bg-tone", "dark", timeout=WAIT_MS
        )

        label, background = await label_and_background(page, "main:53")
        assert background == "rgb(31, 41, 55)"
        assert contrast_ratio(label, background) >= 4.5, (label, background)
        assert page_errors.errors == []


async def test_tile_colors_pick_text_by_luminance(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/switches")
        await page.evaluate("document.documentElement.dataset.theme = 'dark'")
        detail = page.locator("#detail-dialog")
        for color, tone in (("#aa3300", "dark"), ("#fde68a", "light")):
            await tile(page, "main:53").locator(".tile-label").dblclick()
            await detail.get_by_label("Tile background color").fill(color)
            await detail.get_by_role("button", name="Use color").click()
            await detail.get_by_role("button", name="Close").click()
            await expect(tile(page, "main:53")).to_have_attribute(
                "data-bg-tone", tone, timeout=WAIT_MS
            )
            label, background = await label_and_background(page, "main:53")
            assert contrast_ratio(label, background) >= 4.5, (color, label, background)

        await tile(page, "main:53").locator(".tile-label").dblclick()
        await detail.get_by_label("Tile background image").set_input_files(
            {"name": "dot.png", "mimeType": "image/png", "buffer": TINY_PNG}
        )
        await expect(tile(page, "main:53")).to_have_attribute(
            "data-bg-tone", "image", timeout=WAIT_MS
        )
        image = await tile(page, "main:53").evaluate(
            "node => getComputedStyle(node).backgroundImage"
        )
        assert image.startswith("linear-gradient("), image
        assert page_errors.errors == []
