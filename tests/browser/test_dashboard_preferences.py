"""Preferences: a change shows at once, reaches the server, survives a reload, reaches a
second open tab, and is not lost while the server is unreachable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.apphelpers import Demo, running_demo, wait_until
from tests.browser.conftest import WAIT_MS, PageErrors, open_dashboard, tile
from tests.browser.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def server_preference(demo: Demo, category: str, key: str) -> Any:
    reply = await demo.client.get("/api/user/preferences")
    assert reply.status_code == 200, reply.text
    return reply.json().get(category, {}).get(key)


async def wait_for_server_preference(demo: Demo, category: str, key: str, value: Any) -> None:
    async def stored() -> bool:
        return await server_preference(demo, category, key) == value

    await wait_until(stored, 15.0, f"preference {category}/{key} = {value!r} on the server")


async def choose_theme(page: Page, theme: str) -> None:
    await page.get_by_role("button", name="Settings").click()
    dialog = page.locator("#settings-dialog")
    await dialog.get_by_label("Theme").select_option(theme)
    await dialog.get_by_role("button", name="Close").click()


async def test_theme_reaches_server_reload_and_second_tab(
    tmp_path: Path, browser: Browser, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        first = await open_dashboard(context, demo.url, page_errors)
        second = await open_dashboard(context, demo.url, page_errors)

        await choose_theme(first, "dark")
        await expect(first.locator("html")).to_have_attribute("data-theme", "dark")
        await wait_for_server_preference(demo, "appearance", "theme", "dark")
        await expect(second.locator("html")).to_have_attribute(
            "data-theme", "dark", timeout=WAIT_MS
        )

        await first.reload()
        await first.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
        await expect(first.locator("html")).to_have_attribute("data-theme", "dark")

        # A browser with empty localStorage reads the preference from the server.
        other = await browser.new_context()
        try:
            fresh = await open_dashboard(other, demo.url, page_errors)
            await expect(fresh.locator("html")).to_have_attribute(
                "data-theme", "dark", timeout=WAIT_MS
            )
        finally:
            await other.close()
        assert page_errors.errors == []


async def test_hidden_device_reaches_second_tab(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        first = await open_dashboard(context, demo.url, page_errors, "#/section/lights")
        second = await open_dashboard(context, demo.url, page_errors, "#/section/lights")
        await expect(tile(second, "main:12")).to_be_visible()

        await first.get_by_role("button", name="Edit layout").click()
        await tile(first, "main:12").get_by_role("button", name="Hide Kitchen Ceiling").click()
        await first.get_by_role("button", name="Edit layout").click()
        await expect(tile(first, "main:12")).to_have_count(0)

        await wait_for_server_preference(demo, "devices", "hidden", ["main:12"])
        await expect(tile(second, "main:12")).to_have_count(0, timeout=WAIT_MS)
        await second.reload()
        await second.wait_for_selector(".tile-grid [data-uid]", timeout=WAIT_MS)
        await expect(tile(second, "main:12")).to_have_count(0)
        assert page_errors.errors == []


async def test_unsent_preference_survives_outage_and_reload(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        host, port = demo.url.removeprefix("http://").split(":")
        async with TcpProxy(host, int(port)) as proxy:
            page = await open_dashboard(context, proxy.url, page_errors)
            proxy.refusing = True
            proxy.drop_all()
            await choose_theme(page, "light")
            await expect(page.locator("html")).to_have_attribute("data-theme", "light")
            pending = await page.evaluate(
                "JSON.parse(localStorage.getItem('tiles.preferences.pending.v1'))"
            )
            assert pending == [
                {"category": "appearance", "key": "theme", "op": "put", "value": "light"}
            ]
            assert await server_preference(demo, "appearance", "theme") is None

            proxy.refusing = False
            await page.reload()
            await wait_for_server_preference(demo, "appearance", "theme", "light")
            await page.wait_for_function(
                "localStorage.getItem('tiles.preferences.pending.v1') === '[]'",
                timeout=WAIT_MS,
            )
        # Failed loads while the proxy refused connections are expected console errors.
        unexpected = [error for error in page_errors.errors if "ERR_" not in error]
        assert unexpected == []


# A 1x1 transparent PNG.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


async def test_tile_background_color_and_image(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        first = await open_dashboard(context, demo.url, page_errors, "#/section/switches")
        second = await open_dashboard(context, demo.url, page_errors, "#/section/switches")
        porch = tile(first, "main:53")
        await porch.locator(".tile-label").dblclick()
        detail = first.locator("#detail-dialog")
        await detail.get_by_label("Tile background color").fill("#aa3300")
        await detail.get_by_role("button", name="Use color").click()
        bg_of = "node => node.style.getPropertyValue('--tile-bg')"
        await first.wait_for_function(
            f"() => ({bg_of})(document.querySelector(\"[data-uid='main:53']\")) === '#aa3300'",
            timeout=WAIT_MS,
        )
        await second.wait_for_function(
            f"() => ({bg_of})(document.querySelector(\"[data-uid='main:53']\")) === '#aa3300'",
            timeout=WAIT_MS,
        )

        await detail.get_by_label("Tile background image").set_input_files(
            {"name": "dot.png", "mimeType": "image/png", "buffer": TINY_PNG}
        )
        image_of = "node => node.style.getPropertyValue('--tile-bg-image')"
        await first.wait_for_function(
            f"() => ({image_of})(document.querySelector(\"[data-uid='main:53']\"))"
            ".startsWith('url(\"/api/user/backgrounds/')",
            timeout=WAIT_MS,
        )
        stored = (await demo.client.get("/api/user/backgrounds")).json()
        assert stored["main:53"]["type"] == "image"
        image = await demo.client.get(stored["main:53"]["url"])
        assert image.status_code == 200
        assert image.content == TINY_PNG
        assert page_errors.errors == []
