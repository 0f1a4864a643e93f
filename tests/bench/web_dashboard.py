"""Front-end benchmarks of the tile dashboard in headless Chromium.

    .venv/bin/python -m tests.bench.web_dashboard [--events 100000] [--runs 5]

Measures, against the real server and simulated hubs on loopback:

- first render of 600 tiles: from the moment the device list is parsed to the end of the
  synchronous render, and to the first painted frame after it (median of ``--runs``);
- one SSE event to its tile patched: from the event's arrival in the page to the end of the
  DOM patch, over 300 events sent by the simulated hub;
- JS heap after ``--events`` device events, sampled every tenth, after a forced GC;
- total size of ``web/``.

The 600-device list is the demo home padded with copies under new uids, served to the page
in place of ``/api/devices``. Timings come from ``performance.measure`` entries that the page
records only when opened with ``?bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gzip
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, Route, async_playwright

from tests.apphelpers import Demo, running_demo, sign_in_browser
from tests.bench.harness import machine_info, percentile

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_ROOT = REPO_ROOT / "web"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TILE_COUNT = 600
PATCH_EVENTS = 300
BATCH = 500
WAIT_MS = 60_000


def padded_devices(devices: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    result = list(devices)
    index = 0
    while len(result) < count:
        clone = copy.deepcopy(devices[index % len(devices)])
        device_id = str(100_000 + index)
        clone["uid"] = f"{clone['hubId']}:{device_id}"
        clone["deviceId"] = device_id
        clone["label"] = f"{clone['label']} {index}"
        clone["twins"] = []
        clone["twinOf"] = None
        result.append(clone)
        index += 1
    return result


async def open_with_devices(browser: Browser, demo: Demo, body: str, query: str) -> Page:
    context = await browser.new_context(viewport={"width": 1920, "height": 1080})
    await sign_in_browser(context, demo.url)
    page = await context.new_page()

    async def fulfill(route: Route) -> None:
        await route.fulfill(status=200, content_type="application/json", body=body)

    await page.route("**/api/devices", fulfill)
    await page.goto(f"{demo.url}/{query}#/section/all")
    await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
    await page.wait_for_function(
        "n => document.querySelectorAll('.tile-grid [data-uid]').length >= n",
        arg=TILE_COUNT,
        timeout=WAIT_MS,
    )
    return page


async def measures(page: Page, name: str) -> list[float]:
    durations: list[float] = await page.evaluate(
        "name => performance.getEntriesByName(name).map(entry => entry.duration)", name
    )
    return durations


async def bench_first_render(browser: Browser, demo: Demo, body: str, runs: int) -> dict[str, Any]:
    render: list[float] = []
    frame: list[float] = []
    for _ in range(runs):
        page = await open_with_devices(browser, demo, body, "?bench")
        await page.wait_for_function(
            "performance.getEntriesByName('tiles:first-frame').length > 0", timeout=WAIT_MS
        )
        # The first list builds every tile; a later identical list changes no structure.
        render.append((await measures(page, "tiles:first-render"))[0])
        frame.append((await measures(page, "tiles:first-frame"))[0])
        await page.context.close()
    return {"render_ms": statistics.median(render), "frame_ms": statistics.median(frame)}


async def bench_event_patch(browser: Browser, demo: Demo, body: str) -> dict[str, Any]:
    page = await open_with_devices(browser, demo, body, "?bench")
    sim = demo.sims["main"]
    power = page.locator("[data-uid='main:61'] .power")
    for index in range(PATCH_EVENTS):
        # Distinct values: the server drops a repeat of the same value within its dedupe window.
        watts = 100 + index
        sim.set_attribute("61", "power", watts)
        await power.filter(has_text=f"{watts} W").wait_for(timeout=WAIT_MS)
    durations = await measures(page, "tiles:event-to-patch")
    await page.context.close()
    return {
        "count": len(durations),
        "median_ms": statistics.median(durations),
        "p95_ms": percentile(durations, 0.95),
        "max_ms": max(durations),
    }


async def heap_used(page: Page) -> int:
    session = await page.context.new_cdp_session(page)
    await session.send("HeapProfiler.collectGarbage")
    usage = await session.send("Runtime.getHeapUsage")
    await session.detach()
    return int(usage["usedSize"])


async def bench_heap(browser: Browser, demo: Demo, body: str, events: int) -> list[tuple[int, int]]:
    # Without ?bench the page keeps no performance entries, as in normal use.
    page = await open_with_devices(browser, demo, body, "")
    sim = demo.sims["main"]
    power = page.locator("[data-uid='main:61'] .power")
    samples = [(0, await heap_used(page))]
    step = max(BATCH, events // 10)
    sent = 0
    while sent < events:
        for _ in range(min(BATCH, events - sent)):
            sent += 1
            # Distinct values, so the server's duplicate filter keeps every event.
            sim.set_attribute("61", "power", 1000 + sent % 5000 + sent / 1_000_000)
        last = 1000 + sent % 5000 + sent / 1_000_000
        expected = f"{last / 1000:.2f} kW" if last >= 1000 else f"{round(last * 10) / 10} W"
        await power.filter(has_text=expected).wait_for(timeout=WAIT_MS)
        if sent % step == 0 or sent == events:
            samples.append((sent, await heap_used(page)))
    resyncs = await page.evaluate("performance.getEntriesByType('resource').length")
    await page.context.close()
    print(f"resource entries after the heap run: {resyncs}", file=sys.stderr)
    return samples


def web_size() -> tuple[int, int, int]:
    files = [path for path in WEB_ROOT.rglob("*") if path.is_file()]
    raw = sum(path.stat().st_size for path in files)
    zipped = sum(len(gzip.compress(path.read_bytes(), 9)) for path in files)
    return len(files), raw, zipped


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--events", type=int, default=100_000, help="device events for the heap run"
    )
    parser.add_argument("--runs", type=int, default=5, help="page loads for the first render")
    args = parser.parse_args(argv)
    load_start = os.getloadavg()

    with tempfile.TemporaryDirectory() as state:
        async with running_demo(Path(state), sse_queue_size=4096) as demo:
            devices = (await demo.client.get("/api/devices")).json()["devices"]
            body = json.dumps({"devices": padded_devices(devices, TILE_COUNT)})
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                first = await bench_first_render(browser, demo, body, args.runs)
                patch = await bench_event_patch(browser, demo, body)
                heap = await bench_heap(browser, demo, body, args.events)
                await browser.close()

    count, raw, zipped = web_size()
    info = machine_info()
    load_end = os.getloadavg()
    print(f"machine: {json.dumps(info)}")
    print(f"1-minute load average: {load_start[0]:.1f} at start, {load_end[0]:.1f} at end")
    print(
        f"first render of {TILE_COUNT} tiles (median of {args.runs}): "
        f"{first['render_ms']:.1f} ms rendered, {first['frame_ms']:.1f} ms to the first frame"
    )
    print(
        f"SSE event to tile patched ({patch['count']} events): median {patch['median_ms']:.3f} ms, "
        f"p95 {patch['p95_ms']:.3f} ms, max {patch['max_ms']:.3f} ms"
    )
    print("JS heap after N device events (used, after GC):")
    for sent, used in heap:
        print(f"  {sent:>7} events: {used / 1024 / 1024:.2f} MiB")
    print(f"web/: {count} files, {raw / 1024:.1f} KiB, {zipped / 1024:.1f} KiB gzipped per file")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
