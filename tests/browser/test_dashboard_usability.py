"""What a new household sees: no stray text, empty states, labels, layout and dialogs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.apphelpers import USER_PASSWORD, running_demo, wait_until
from tests.browser.conftest import WAIT_MS, PageErrors, open_dashboard, tile
from tests.browser.test_dashboard_modules import blank_page  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


async def sign_in_as_user(context: BrowserContext, url: str, username: str) -> None:
    reply = await context.request.post(
        url + "/api/auth/login",
        data={"username": username, "password": USER_PASSWORD},
        headers={"origin": url},
    )
    assert reply.status == 200


async def assert_no_null_text(page: Page, selector: str) -> None:
    text = await page.locator(selector).inner_text()
    assert "null" not in text


async def test_detail_view_shows_no_null(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/thermostats")
        await tile(page, "main:88").focus()
        await page.keyboard.press("Enter")
        detail = page.locator("#detail-dialog")
        await expect(detail.locator("h2")).to_have_text("Hallway Thermostat")
        await expect(detail.locator("[data-command='setHeatingSetpoint']")).to_be_visible(
            timeout=WAIT_MS
        )
        await assert_no_null_text(page, "#detail-dialog")
        assert page_errors.errors == []


@pytest.mark.parametrize("role", ["admin", "user"])
async def test_devices_tab_shows_no_null(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors, role: str
) -> None:
    async with running_demo(tmp_path) as demo:
        if role == "admin":
            page = await open_dashboard(context, demo.url, page_errors, "#/settings/devices")
        else:
            await demo.add_user("viewer")
            await sign_in_as_user(context, demo.url, "viewer")
            page = page_errors.watch(await context.new_page())
            await page.goto(demo.url + "/#/settings/devices")
        await expect(page.get_by_role("heading", name="Hidden devices")).to_be_visible(
            timeout=WAIT_MS
        )
        await expect(page.get_by_text("No device is hidden.")).to_be_visible(timeout=WAIT_MS)
        if role == "admin":
            await expect(page.get_by_text("Merge two devices")).to_be_visible(timeout=WAIT_MS)
        await assert_no_null_text(page, ".settings-body")
        assert page_errors.errors == []


async def test_removed_hub_tiles_disappear(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path, hubs=("main", "garage")) as demo:
        page = await open_dashboard(context, demo.url, page_errors)
        for uid in ("main:mode", "main:hsm", "garage:mode", "garage:hsm"):
            await expect(tile(page, uid)).to_have_count(1, timeout=WAIT_MS)
        reply = await demo.client.delete("/api/hub-config/garage")
        assert reply.status_code in (200, 204)
        await expect(tile(page, "garage:mode")).to_have_count(0, timeout=WAIT_MS)
        await expect(tile(page, "garage:hsm")).to_have_count(0)
        await expect(tile(page, "main:mode")).to_have_count(1)
        await page.goto(demo.url + "/#/section/all")
        await expect(tile(page, "main:mode")).to_have_count(1, timeout=WAIT_MS)
        await expect(tile(page, "garage:mode")).to_have_count(0)
        assert page_errors.errors == []


@pytest.mark.parametrize(
    ("device", "expected"),
    [
        (
            {"hubUrl": "http://127.0.0.1:39001/device/edit/12", "hubIp": "127.0.0.1"},
            "http://127.0.0.1:39001/device/edit/12",
        ),
        ({"hubUrl": "javascript:alert(1)", "hubIp": "10.0.0.2", "deviceId": "12"}, None),
        ({"hubUrl": None, "hubIp": "10.0.0.2", "deviceId": "12"}, "http://10.0.0.2/device/edit/12"),
        ({"hubIp": "10.0.0.2", "deviceId": "12"}, "http://10.0.0.2/device/edit/12"),
        ({"deviceId": "12"}, None),
    ],
)
async def test_hub_link_keeps_port(
    blank_page: Page,  # noqa: F811
    device: dict[str, Any],
    expected: str | None,
) -> None:
    href = await blank_page.evaluate(
        "async (device) => (await import('/js/tiles/base-tile.js')).hubDeviceUrl(device)", device
    )
    assert href == expected


async def test_tile_hub_link_has_port(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/lights")
        port = demo.sims["main"].port
        link = tile(page, "main:12").locator("a[href*='/device/edit/']")
        await expect(link).to_have_attribute(
            "href", f"http://127.0.0.1:{port}/device/edit/12", timeout=WAIT_MS
        )
        assert page_errors.errors == []


async def test_celsius_setpoint_steps_half_degree(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        reply = await demo.client.put(
            "/api/user/preferences/appearance/temperatureUnit", json={"value": "C"}
        )
        assert reply.status_code == 200
        page = await open_dashboard(context, demo.url, page_errors, "#/section/thermostats")
        hallway = tile(page, "main:88")
        dial = hallway.locator(".dial")
        await expect(dial).to_have_attribute("aria-valuenow", "20", timeout=WAIT_MS)
        sim = demo.sims["main"]
        for expected_c, expected_f in (("20.5", "68.9"), ("21", "69.8")):
            sent = len(sim.command_log)
            await hallway.get_by_role("button", name="Raise setpoint").click()
            await wait_until(lambda n=sent: len(sim.command_log) > n, 15.0, "setpoint command")
            assert sim.command_log[-1][2] == [expected_f]
            await expect(dial).to_have_attribute("aria-valuenow", expected_c, timeout=WAIT_MS)
        assert page_errors.errors == []


async def test_pluralize_counts(blank_page: Page) -> None:  # noqa: F811
    words = await blank_page.evaluate(
        "async () => { const m = await import('/js/format.js');"
        " return [0, 1, 2].map((n) => m.pluralize(n, 'second')); }"
    )
    assert words == ["0 seconds", "1 second", "2 seconds"]


async def test_hub_removal_uses_page_dialog(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path, hubs=("main", "garage")) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/settings/hubs")
        native_dialogs: list[str] = []
        page.on("dialog", lambda dialog: native_dialogs.append(dialog.message))
        row = page.locator(".hub-list > li").filter(has_text="garage")
        await row.get_by_role("button", name="Remove").click(timeout=WAIT_MS)
        confirm = page.locator("#confirm-dialog")
        await expect(confirm).to_be_visible()
        await confirm.get_by_role("button", name="Cancel").click()
        await expect(confirm).to_be_hidden()
        assert "garage" in (await demo.client.get("/api/hub-config")).text

        await row.get_by_role("button", name="Remove").click()
        await confirm.get_by_role("button", name="Remove").click()
        await expect(page.locator(".hub-list > li")).to_have_count(1, timeout=WAIT_MS)
        assert native_dialogs == []
        assert page_errors.errors == []


@pytest.mark.parametrize("role", ["admin", "user"])
async def test_fresh_install_explains_no_hub(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors, role: str
) -> None:
    async with running_demo(tmp_path, hubs=()) as demo:
        if role == "admin":
            page = await open_dashboard(context, demo.url, page_errors)
        else:
            await demo.add_user("viewer")
            await sign_in_as_user(context, demo.url, "viewer")
            page = page_errors.watch(await context.new_page())
            await page.goto(demo.url + "/")
        notice = page.locator(".empty-state")
        await expect(notice).to_contain_text("No hub is connected yet", timeout=WAIT_MS)
        await expect(page.locator(".landing .card")).to_have_count(0)
        link = notice.get_by_role("link", name="Connect a hub in Settings")
        if role == "admin":
            await expect(link).to_have_attribute("href", "#/settings/hubs")
        else:
            await expect(link).to_have_count(0)
            await expect(notice).to_contain_text("Ask your admin")
        assert page_errors.errors == []


async def test_dashboard_with_hubs_shows_cards(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors)
        await expect(page.locator(".landing .card").first).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator(".empty-state")).to_have_count(0)


STATS_SCRIPT = """async ([devices, indoor, outdoor]) => {
  const m = await import('/js/section-stats.js');
  const stats = m.computeStats(devices, { indoor: new Set(indoor), outdoor: new Set(outdoor) });
  return { power: stats.power, temperatures: stats.temperatures.map((t) => t.value) };
}"""


def reading(uid: str, kind: str, **attributes: float) -> dict[str, Any]:
    return {
        "uid": uid,
        "kind": kind,
        "hasPowerMeter": "power" in attributes,
        "attributes": {name: {"value": value, "unit": None} for name, value in attributes.items()},
    }


@pytest.mark.parametrize(
    ("indoor", "outdoor", "temperatures"),
    [
        ([], [], [70.0, 104.9]),
        (["h:living"], [], [70.0]),
        ([], ["h:attic"], [70.0, 41.0]),
    ],
)
async def test_stats_pick_indoor_sensors(
    blank_page: Page,  # noqa: F811
    indoor: list[str],
    outdoor: list[str],
    temperatures: list[float],
) -> None:
    devices = [
        reading("h:living", "sensor", temperature=70.0),
        reading("h:attic", "sensor", temperature=104.9),
        {**reading("h:yard", "sensor", temperature=41.0), "outdoor": True},
        reading("h:hall", "thermostat", temperature=66.0),
    ]
    stats = await blank_page.evaluate(STATS_SCRIPT, [devices, indoor, outdoor])
    assert stats["temperatures"] == temperatures


async def test_stats_power_skips_house_meter(blank_page: Page) -> None:  # noqa: F811
    loads = [reading("h:dryer", "switch", power=2.0), reading("h:heater", "outlet", power=1450.0)]
    meter = reading("h:house", "power_meter", power=9000.0)
    with_meter = await blank_page.evaluate(STATS_SCRIPT, [[*loads, meter], [], []])
    assert with_meter["power"] == 1452.0
    meter_only = await blank_page.evaluate(STATS_SCRIPT, [[meter], [], []])
    assert meter_only["power"] == 9000.0


async def test_sensors_tab_ticks_outdoor_sensors(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        devices = (await demo.client.get("/api/devices")).json()["devices"]
        sensors = [device for device in devices if "temperature" in device["attributes"]]
        outdoor = {device["uid"] for device in sensors if device.get("outdoor") is True}
        assert outdoor
        page = await open_dashboard(context, demo.url, page_errors, "#/settings/sensors")
        rows = page.locator(".settings-table tbody tr")
        await expect(rows).to_have_count(len(sensors), timeout=WAIT_MS)
        for device in sensors:
            row = page.locator(f".settings-table tr[data-uid='{device['uid']}']")
            is_outdoor = device["uid"] in outdoor
            outdoor_box = row.locator("input[data-type='temperature_outdoor']")
            indoor_box = row.locator("input[data-type='temperature_indoor']")
            assert await outdoor_box.is_checked() == is_outdoor, device["uid"]
            if device.get("kind") != "thermostat":
                assert await indoor_box.is_checked() == (not is_outdoor), device["uid"]
        assert page_errors.errors == []


async def test_tablet_nav_shows_current_section(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/locks")
        nav = await page.locator("#section-nav").bounding_box()
        current = await page.locator("#section-nav [aria-current='page']").bounding_box()
        assert nav is not None
        assert current is not None
        assert current["x"] >= nav["x"] - 1
        assert current["x"] + current["width"] <= nav["x"] + nav["width"] + 1
        assert page_errors.errors == []


async def test_phone_header_fits_two_rows(tmp_path: Path, browser: Any) -> None:
    phone = await browser.new_context(viewport={"width": 390, "height": 844})
    try:
        async with running_demo(tmp_path) as demo:
            page = await open_dashboard(phone, demo.url, PageErrors(), "#/section/lights")
            header = await page.locator(".topbar").bounding_box()
            assert header is not None
            # Two rows of 48 px touch targets plus padding and gaps.
            assert header["height"] <= 2 * 48 + 24
            await expect(page.locator("#search")).to_be_visible()
            await expect(page.locator("#settings-button")).to_be_visible()
    finally:
        await phone.close()


async def test_settings_page_highlights_no_section(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/lights")
        await expect(page.locator("#section-nav [aria-current='page']")).to_have_count(1)
        await page.goto(demo.url + "/#/settings/about")
        await expect(page.locator(".settings-facts")).to_contain_text("Version", timeout=WAIT_MS)
        await expect(page.locator("#section-nav [aria-current='page']")).to_have_count(0)
        await page.goto(demo.url + "/#/")
        home = page.locator("#section-nav [data-section='home']")
        await expect(home).to_have_attribute("aria-current", "page", timeout=WAIT_MS)
        assert page_errors.errors == []


async def test_search_without_match_says_so(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/lights")
        await page.locator("#search").fill("zzqx")
        notice = page.locator(".search-empty")
        await expect(notice).to_have_text("No devices match “zzqx”.")
        await page.locator("#search").fill("kitchen")
        await expect(notice).to_have_count(0)
        await expect(tile(page, "main:12")).to_be_visible()
        assert page_errors.errors == []


LONG_TILE_SCRIPT = """async (label) => {
  const { DeviceFactory } = await import('/js/tiles/device-factory.js');
  const { DeviceStateManager } = await import('/js/device-state-manager.js');
  const state = new DeviceStateManager();
  const device = {
    uid: 'h:long', kind: 'switch', label, room: label, hubName: 'Main',
    attributes: { switch: { value: 'on' } }, commands: ['on', 'off'],
  };
  state.replaceAll([device]);
  const context = {
    state,
    commands: { send: async () => true },
    ui: { openDetail() {}, confirm: async () => false },
    units: { displayUnit: () => 'F', toDisplay: () => null, label: (v) => `${v}°F`,
             format: () => '' },
    backgrounds: { apply() {} },
  };
  const tile = new DeviceFactory(context).create(device);
  document.querySelector('.tile-grid').prepend(tile.root);
  const box = tile.root.getBoundingClientRect();
  const labelNode = tile.root.querySelector('.tile-label');
  const room = tile.root.querySelector('.tile-sub');
  const result = {
    height: box.height,
    labelTitle: labelNode.title,
    roomFits: room.getBoundingClientRect().right <= box.right + 1,
    roomTitle: room.title,
  };
  tile.destroy();
  tile.root.remove();
  return result;
}"""


async def test_long_label_is_clamped(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/switches")
        label = "Very long label " * 19
        normal = await tile(page, "main:53").bounding_box()
        result = await page.evaluate(LONG_TILE_SCRIPT, label)
        assert normal is not None
        assert result["height"] <= normal["height"] + 3 * 24
        assert result["labelTitle"] == label
        assert result["roomFits"] is True
        assert result["roomTitle"].startswith(label)
        assert page_errors.errors == []
