"""The dashboard's pure modules, imported into a page as the browser loads them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import BrowserContext, Page

from tests.apphelpers import running_demo

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def blank_page(tmp_path: Path, context: BrowserContext) -> AsyncIterator[Page]:
    """A page on the server's origin that has not started the dashboard."""
    async with running_demo(tmp_path, hubs=()) as demo:
        page = await context.new_page()
        await page.goto(demo.url + "/manifest.webmanifest")
        yield page


async def run(page: Page, module: str, body: str, arg: Any = None) -> Any:
    """Import ``/js/<module>`` as ``m`` and return the value of ``body``."""
    script = f"async (arg) => {{ const m = await import('/js/{module}'); {body} }}"
    return await page.evaluate(script, arg)


async def test_event_parser_handles_split_chunks(blank_page: Page) -> None:
    events = await run(
        blank_page,
        "event-stream.js",
        """
        const seen = [];
        const parser = new m.EventParser((event) => seen.push(event));
        for (const chunk of arg) parser.push(chunk);
        return seen;
        """,
        [
            "retry: 3000\n: connected\n\n",
            "id: 7\nevent: dev",
            'ice\ndata: {"a":',
            "1}\r",
            "\n\r\n",
            "id: 8\r\nevent: hub\r\ndata: line1\ndata: line2\n\n",
            ": heartbeat\n\n",
        ],
    )
    assert events == [
        {"id": None, "type": "message", "data": None, "retry": 3000},
        {"id": "7", "type": "device", "data": '{"a":1}', "retry": None},
        {"id": "8", "type": "hub", "data": "line1\nline2", "retry": None},
    ]


@pytest.mark.parametrize(
    ("width", "items", "expected"),
    [
        (1920, 9, 5),
        (1920, 8, 8),
        (1920, 4, 5),
        (1280, 8, 5),
        (390, 8, 2),
        (100, 8, 1),
        (1920, 1, 1),
        (1920, 0, 1),
    ],
)
async def test_fibonacci_columns(blank_page: Page, width: int, items: int, expected: int) -> None:
    columns = await run(
        blank_page,
        "device-sectionizer.js",
        "return m.DeviceSectionizer.columns(arg[0], arg[1], 180);",
        [width, items],
    )
    assert columns == expected


async def test_cache_diff_ignores_attribute_values(blank_page: Page) -> None:
    diff = await run(
        blank_page,
        "data-cache-manager.js",
        """
        const on = { switch: { value: 'on' } };
        const a = { uid: 'h:1', kind: 'switch', label: 'A', attributes: on };
        const b = { uid: 'h:2', kind: 'dimmer', label: 'B', attributes: {} };
        const valueOnly = m.DataCacheManager.diff([a, b], [
          { ...a, attributes: { switch: { value: 'off' } } }, b,
        ]);
        const structural = m.DataCacheManager.diff([a, b], [
          { ...a, kind: 'light' }, { uid: 'h:3', kind: 'lock', label: 'C', attributes: {} },
        ]);
        return { valueOnly, structural };
        """,
    )
    assert diff["valueOnly"] == {"added": [], "removed": [], "changed": [], "structural": False}
    assert diff["structural"]["added"] == ["h:3"]
    assert diff["structural"]["removed"] == ["h:2"]
    assert diff["structural"]["changed"] == ["h:1"]
    assert diff["structural"]["structural"] is True


async def test_request_queue_drops_superseded_task(blank_page: Page) -> None:
    result = await run(
        blank_page,
        "api-client.js",
        """
        const queue = new m.RequestQueue(1);
        let release;
        const gate = new Promise((resolve) => (release = resolve));
        const ran = [];
        const first = queue.enqueue(async () => { await gate; ran.push('first'); return 1; });
        const second = queue.enqueue(async () => { ran.push('second'); return 2; }, 'level');
        const third = queue.enqueue(async () => { ran.push('third'); return 3; }, 'level');
        release();
        return { results: await Promise.all([first, second, third]), ran };
        """,
    )
    assert result["results"] == [1, {"superseded": True}, 3]
    assert result["ran"] == ["first", "third"]


@pytest.mark.parametrize(
    ("time", "start", "end", "expected"),
    [
        ("23:00", "22:00", "06:30", True),
        ("05:00", "22:00", "06:30", True),
        ("12:00", "22:00", "06:30", False),
        ("06:30", "22:00", "06:30", False),
        ("13:00", "12:00", "14:00", True),
        ("13:00", "bad", "14:00", False),
    ],
)
async def test_night_window(
    blank_page: Page, time: str, start: str, end: str, expected: bool
) -> None:
    inside = await run(
        blank_page,
        "ui-manager.js",
        """
        const [hours, minutes] = arg[0].split(':').map(Number);
        const date = new Date(2026, 0, 1, hours, minutes);
        return m.inWindow(date, arg[1], arg[2]);
        """,
        [time, start, end],
    )
    assert inside is expected


async def test_temperature_conversion(blank_page: Page) -> None:
    shown = await run(
        blank_page,
        "temperature-units.js",
        """
        const prefs = { get: (category, key, fallback) => arg[key] ?? fallback };
        const units = new m.TemperatureUnits(prefs, 'F');
        return [
          units.format(72, '°F'), units.format(22, 'C'), units.format(20, null),
          units.toDevice(21.5, '°F'), units.format('unknown', '°F'),
        ];
        """,
        {"temperatureUnit": "C"},
    )
    assert shown == ["22.2°C", "22°C", "-6.7°C", 70.7, ""]


async def test_tile_destroy_removes_listeners(blank_page: Page) -> None:
    counts = await run(
        blank_page,
        "tiles/device-factory.js",
        """
        const { DeviceStateManager } = await import('/js/device-state-manager.js');
        const state = new DeviceStateManager();
        const kinds = Object.keys(m.TILE_CLASSES);
        const devices = kinds.map((kind, index) => ({
          uid: `h:${index}`, kind, label: kind, attributes: {}, commands: ['on', 'off'],
        }));
        state.replaceAll(devices);
        const context = {
          state,
          commands: { send: async () => true },
          ui: { openDetail() {}, confirm: async () => false },
          units: { displayUnit: () => 'F', toDisplay: () => null, label: (v) => `${v}°F`,
                   format: () => '' },
          backgrounds: { apply() {} },
        };
        const factory = new m.DeviceFactory(context);
        const tiles = devices.map((device) => factory.create(device));
        const during = state.listenerCount();
        const rootsFilled = tiles.every((tile) => tile.root.dataset.uid && tile.root.dataset.kind);
        for (const tile of tiles) tile.destroy();
        return { kinds: kinds.length, during, after: state.listenerCount(), rootsFilled };
        """,
    )
    assert counts["kinds"] == 16
    assert counts["during"] == 16
    assert counts["after"] == 0
    assert counts["rootsFilled"] is True
