"""Large font sizes keep section card titles inside their cards and the page unscrolled
sideways."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.apphelpers import running_demo, sign_in_browser
from tests.browser.conftest import WAIT_MS, PageErrors

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

# Each card whose title content is wider than the card, as "name: content > card" text.
OVERFLOWING_CARDS = """() => [...document.querySelectorAll('.landing .card')]
  .filter((card) => card.querySelector('.card-head').scrollWidth > card.clientWidth
    || card.querySelector('.card-name').scrollWidth > card.querySelector('.card-name').clientWidth)
  .map((card) => card.dataset.section + ': ' + card.querySelector('.card-head').scrollWidth
    + ' > ' + card.clientWidth)"""


async def open_landing(
    browser: Browser, url: str, width: int, height: int, errors: PageErrors
) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": height})
    await sign_in_browser(context, url)
    page = errors.watch(await context.new_page())
    await page.goto(url + "/")
    await page.wait_for_selector(".landing .card[data-section='thermostats']", timeout=WAIT_MS)
    return page


@pytest.mark.parametrize(
    ("scale", "width", "height"),
    [(1.4, 1280, 800), (1.5, 1280, 800), (1.6, 1280, 800), (1.6, 390, 844)],
)
async def test_large_font_fits_cards_and_page(
    tmp_path: Path,
    browser: Browser,
    page_errors: PageErrors,
    scale: float,
    width: int,
    height: int,
) -> None:
    async with running_demo(tmp_path) as demo:
        reply = await demo.client.put(
            "/api/user/preferences/appearance/fontScale", json={"value": scale}
        )
        assert reply.status_code == 200, reply.text
        page = await open_landing(browser, demo.url, width, height, page_errors)
        try:
            await page.wait_for_function(
                f"() => getComputedStyle(document.documentElement).fontSize === '{16 * scale:g}px'",
                timeout=WAIT_MS,
            )
            assert await page.evaluate(OVERFLOWING_CARDS) == []
            page_width = await page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert page_width[0] <= page_width[1], page_width
            assert page_errors.errors == []
        finally:
            await page.context.close()
