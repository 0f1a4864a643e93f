"""The dashboard renders every tile kind of the demo home, shows hub text as text, and is
captured at phone, tablet and desktop sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext

from tests.apphelpers import running_demo, wait_until
from tests.browser.conftest import SCREENSHOT_DIR, WAIT_MS, PageErrors, open_dashboard, tile

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

ALL_KINDS = {
    "thermostat", "lock", "garage_door", "shade", "fan", "valve", "smoke_co", "media",
    "color_light", "dimmer", "button", "sensor", "power_meter", "switch", "light", "generic",
}  # fmt: skip
XSS_LABEL = "<img src=x onerror=alert(1)>"

EXTRA_DEVICES: list[dict[str, Any]] = [
    {
        "id": "901",
        "name": "Hallway Sconce",
        "label": "Hallway Sconce",
        "type": "Generic Light",
        "room": "Hallway",
        "capabilities": ["Light", "Actuator"],
        "attributes": {"switch": "off"},
        "commands": [{"command": "on"}, {"command": "off"}],
    },
    {
        "id": "902",
        "name": "Weather Station Bridge",
        "label": XSS_LABEL,
        "type": "Custom Bridge",
        "room": "<b>Attic</b>",
        "capabilities": ["Refresh"],
        "attributes": {"status": "<script>alert(2)</script>"},
        "commands": [{"command": "refresh"}],
    },
]


async def add_devices_and_resync(demo: Any, devices: list[dict[str, Any]]) -> None:
    """Add devices to the main hub and wait until the server's snapshot has them."""
    sim = demo.sims["main"]
    for device in devices:
        sim.add_device(device)
    # The hub link re-reads the whole device list after every eventsocket reconnect.
    await sim.drop_eventsockets()
    wanted = {f"main:{device['id']}" for device in devices}

    async def listed() -> bool:
        reply = await demo.client.get("/api/devices")
        uids = {device["uid"] for device in reply.json()["devices"]}
        return wanted <= uids

    await wait_until(listed, 30.0, "the added devices in /api/devices")


async def test_every_kind_renders(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await add_devices_and_resync(demo, EXTRA_DEVICES)
        devices = (await demo.client.get("/api/devices")).json()["devices"]
        page = await open_dashboard(context, demo.url, page_errors, "#/section/all")
        await page.wait_for_function(
            "n => document.querySelectorAll('.tile-grid [data-uid]').length >= n",
            arg=len(devices),
            timeout=WAIT_MS,
        )
        for device in devices:
            kind = await tile(page, device["uid"]).get_attribute("data-kind")
            assert kind == device["kind"], device["uid"]
        rendered = set(
            await page.eval_on_selector_all(
                ".tile-grid [data-uid]", "nodes => nodes.map(n => n.dataset.kind)"
            )
        )
        assert ALL_KINDS - rendered == set()
        for hub_id in demo.sims:
            assert await tile(page, f"{hub_id}:mode").count() == 1
            assert await tile(page, f"{hub_id}:hsm").count() == 1
        assert page_errors.errors == []


async def test_hub_text_shown_as_text(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await add_devices_and_resync(demo, EXTRA_DEVICES[1:])
        dialogs: list[str] = []
        page = await open_dashboard(context, demo.url, page_errors, "#/section/all")
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        node = tile(page, "main:902")
        await node.wait_for(timeout=WAIT_MS)
        assert await node.locator(".tile-label").text_content() == XSS_LABEL
        assert await node.locator("img").count() == 0
        assert await node.locator(".tile-sub").text_content() == "<b>Attic</b> · Main Hub"
        body_text = await node.locator(".tile-body").text_content() or ""
        assert "<script>alert(2)</script>" in body_text
        assert await page.locator("img, b, script:not([src])").count() == 0
        await node.dblclick()
        detail = page.locator("#detail-dialog")
        await detail.locator("h2").wait_for(timeout=WAIT_MS)
        assert await detail.locator("h2").text_content() == XSS_LABEL
        assert await detail.locator("img").count() == 0
        assert dialogs == []
        assert page_errors.errors == []


@pytest.mark.parametrize(
    ("name", "width", "height"),
    [("phone", 390, 844), ("tablet", 1280, 800), ("desktop", 1920, 1080)],
)
async def test_screenshots_at_three_sizes(
    tmp_path: Path,
    context: BrowserContext,
    page_errors: PageErrors,
    name: str,
    width: int,
    height: int,
) -> None:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors)
        await page.set_viewport_size({"width": width, "height": height})
        await page.wait_for_selector(".landing .card .pills", timeout=WAIT_MS)
        home = SCREENSHOT_DIR / f"{name}-home.png"
        await page.screenshot(path=str(home))
        await page.goto(demo.url + "/#/section/all")
        await page.wait_for_selector(".tile-grid [data-uid='main:88']", timeout=WAIT_MS)
        section = SCREENSHOT_DIR / f"{name}-all.png"
        await page.screenshot(path=str(section))
        assert home.stat().st_size > 0
        assert section.stat().st_size > 0
        # Nothing wider than the viewport: no horizontal scrolling on any size.
        scroll_width = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width
        assert page_errors.errors == []
