"""Live state: hub changes reach tiles without a reload, a dropped event stream resumes with
no missed event, and an offline hub marks its tiles."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Request, expect

from tests.apphelpers import running_demo, wait_until
from tests.browser.conftest import WAIT_MS, PageErrors, open_dashboard, tile
from tests.browser.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

RECORD_TEXT_CHANGES = """
([selector, key]) => {
  const node = document.querySelector(selector);
  const seen = [];
  new MutationObserver((records) => {
    for (const record of records) {
      for (const added of record.addedNodes) seen.push(added.textContent);
    }
  }).observe(node, { childList: true, characterData: true, subtree: true });
  document.documentElement.dataset[key] = '';
  window.addEventListener('tiles-test-read', () => {
    document.documentElement.dataset[key] = JSON.stringify(seen);
  });
}
"""


async def test_hub_change_updates_tile(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/sensors")
        front = tile(page, "main:131")
        loads: list[str] = []
        page.on("load", lambda _page: loads.append("load"))
        demo.sims["main"].set_attribute("131", "contact", "open")
        await expect(front.locator(".big-value")).to_have_text("Open", timeout=WAIT_MS)
        await expect(front).to_have_class(re.compile(r"\bis-alert\b"))
        demo.sims["main"].set_attribute("131", "contact", "closed")
        await expect(front.locator(".big-value")).to_have_text("Closed", timeout=WAIT_MS)
        assert loads == []
        assert page_errors.errors == []


async def test_dropped_stream_resumes_without_loss(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        host, port = demo.url.removeprefix("http://").split(":")
        async with TcpProxy(host, int(port)) as proxy:
            device_lists: list[str] = []
            stream_requests: list[dict[str, str]] = []

            def on_request(request: Request) -> None:
                if request.url.endswith("/api/devices"):
                    device_lists.append(request.url)
                if "/api/events/stream" in request.url:
                    stream_requests.append(request.headers)

            context.on("request", on_request)
            page = await open_dashboard(context, proxy.url, page_errors, "#/section/all")
            await tile(page, "main:190").wait_for(timeout=WAIT_MS)
            # One event first, so that the page has an event id to resume from.
            demo.sims["main"].set_attribute("190", "pushed", 4)
            await expect(tile(page, "main:190").locator(".last-event")).to_contain_text(
                "Button 4 pushed", timeout=WAIT_MS
            )
            await page.evaluate(
                RECORD_TEXT_CHANGES, ["[data-uid='main:190'] .last-event", "pushes"]
            )
            lists_before = len(device_lists)

            proxy.refusing = True
            proxy.drop_all()
            await page.wait_for_selector("html:not([data-stream='open'])", timeout=WAIT_MS)

            sim = demo.sims["main"]
            bus = demo.services.bus
            first_missed = bus.last_id + 1
            for number in (1, 2, 3):
                sim.set_attribute("190", "pushed", number)
            sim.set_attribute("53", "switch", "on")
            sim.set_attribute("53", "switch", "off")

            def published() -> bool:
                return bus.last_id >= first_missed + 4

            await wait_until(published, 15.0, "five device events on the bus")

            proxy.refusing = False
            # The page checks its stream at once when the browser reports the network back.
            await page.evaluate("window.dispatchEvent(new Event('online'))")
            await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
            await expect(tile(page, "main:190").locator(".last-event")).to_contain_text(
                "Button 3 pushed", timeout=WAIT_MS
            )
            await expect(tile(page, "main:53").locator(".tile-status")).to_have_text("Off")

            await page.evaluate("window.dispatchEvent(new Event('tiles-test-read'))")
            seen: list[Any] = await page.evaluate(
                "JSON.parse(document.documentElement.dataset.pushes)"
            )
            pushes = [text.split(" · ")[0] for text in seen if text.startswith("Button")]
            assert pushes == ["Button 1 pushed", "Button 2 pushed", "Button 3 pushed"]
            # The events were replayed from the server's ring, not re-read as a snapshot.
            assert len(device_lists) == lists_before
            resumed = stream_requests[-1]
            assert int(resumed["last-event-id"]) < first_missed
            assert page_errors.errors == []


async def test_offline_hub_marks_its_tiles(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path, hub_backoff_max_s=1.0) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/all")
        garage_door = tile(page, "garage:11")
        await expect(garage_door.locator(".offline-mark")).to_be_hidden()
        await demo.sims["garage"].stop()

        def garage_offline() -> bool:
            return any(
                hub.hub_id == "garage" and hub.state == "offline"
                for hub in demo.services.manager.health()
            )

        await wait_until(garage_offline, 60.0, "hub 'garage' offline")
        await expect(garage_door.locator(".offline-mark")).to_be_visible(timeout=WAIT_MS)
        await expect(garage_door).to_have_class(re.compile(r"\bis-offline\b"))
        await expect(tile(page, "garage:mode")).to_have_class(re.compile(r"\bis-offline\b"))
        await expect(tile(page, "main:220").locator(".offline-mark")).to_be_hidden()
        assert page_errors.errors == []
