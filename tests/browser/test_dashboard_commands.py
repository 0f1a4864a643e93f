"""Controls on the tiles reach the simulated hub, and the hub's events come back to the tile."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.apphelpers import Demo, running_demo, wait_until
from tests.browser.conftest import WAIT_MS, PageErrors, open_dashboard, tile, wait_for_command

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


class BusWatch:
    """Device events the server published, read from the real event bus."""

    def __init__(self, demo: Demo) -> None:
        self.subscription = demo.services.bus.subscribe()

    async def wait_for(self, uid: str, name: str, value: Any, timeout_s: float = 15.0) -> None:
        async with asyncio.timeout(timeout_s):
            async for event in self.subscription:
                data = event.data
                if (
                    event.type == "device"
                    and data.get("uid") == uid
                    and data.get("name") == name
                    and str(data.get("value")) == str(value)
                ):
                    return


@contextlib.asynccontextmanager
async def dashboard(
    tmp_path: Path, context: BrowserContext, errors: PageErrors, section: str
) -> AsyncIterator[tuple[Demo, Page, BusWatch]]:
    async with running_demo(tmp_path) as demo:
        watch = BusWatch(demo)
        try:
            page = await open_dashboard(context, demo.url, errors, f"#/section/{section}")
            yield demo, page, watch
        finally:
            watch.subscription.close()
        assert errors.errors == []


def device_value(devices: list[dict[str, Any]], uid: str, name: str) -> Any:
    device = next(device for device in devices if device["uid"] == uid)
    return device["attributes"][name]["value"]


async def test_switch_toggle_round_trip(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "switches") as (demo, page, watch):
        porch = tile(page, "main:53")
        toggle = porch.locator("button.toggle")
        before = await toggle.get_attribute("aria-pressed")
        target = "off" if before == "true" else "on"
        await toggle.click()
        await wait_for_command(demo.sims["main"], "53", target)
        await watch.wait_for("main:53", "switch", target)
        await expect(toggle).to_have_attribute(
            "aria-pressed", "true" if target == "on" else "false", timeout=WAIT_MS
        )
        await expect(porch.locator(".tile-status")).to_have_text(target.title())


async def test_dimmer_level_round_trip(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "lights") as (demo, page, watch):
        kitchen = tile(page, "main:12")
        await kitchen.locator("input[type=range]").fill("35")
        args = await wait_for_command(demo.sims["main"], "12", "setLevel")
        assert args == ["35"]
        await watch.wait_for("main:12", "level", 35)
        await expect(kitchen.locator(".slider-row .readout")).to_have_text("35%")
        await expect(kitchen.locator("input[type=range]")).to_have_value("35")


async def test_thermostat_setpoint_round_trip(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "thermostats") as (demo, page, watch):
        devices = (await demo.client.get("/api/devices")).json()["devices"]
        assert device_value(devices, "main:88", "thermostatMode") == "heat"
        start = device_value(devices, "main:88", "heatingSetpoint")
        hallway = tile(page, "main:88")
        await hallway.get_by_role("button", name="Raise setpoint").click()
        args = await wait_for_command(demo.sims["main"], "88", "setHeatingSetpoint")
        assert float(args[0]) == start + 1
        await watch.wait_for("main:88", "heatingSetpoint", args[0])
        await expect(hallway.locator(".dial")).to_have_attribute(
            "aria-valuenow", str(int(start + 1))
        )
        await expect(hallway.locator(".setpoints")).to_contain_text(f"Heat {int(start + 1)}°F")


async def test_lock_asks_before_unlocking(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "locks") as (demo, page, watch):
        sim = demo.sims["main"]
        sim.set_attribute("104", "lock", "locked")
        await watch.wait_for("main:104", "lock", "locked")
        front = tile(page, "main:104")
        action = front.locator("button.toggle")
        await expect(action).to_have_text("Unlock")
        dialog = page.locator("#confirm-dialog")

        await action.click()
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_be_hidden()
        assert [entry for entry in sim.command_log if entry[0] == "104"] == []

        await action.click()
        await dialog.get_by_role("button", name="Unlock").click()
        await wait_for_command(sim, "104", "unlock")
        await watch.wait_for("main:104", "lock", "unlocked")
        await expect(action).to_have_text("Lock")
        await expect(front.locator(".tile-status")).to_have_text("Unlocked")


async def test_button_push_round_trip(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "sensors") as (demo, page, watch):
        remote = tile(page, "main:190")
        await (
            remote.get_by_role("group", name="Button number")
            .get_by_role("button", name="2", exact=True)
            .click()
        )
        await remote.get_by_role("button", name="Push").click()
        args = await wait_for_command(demo.sims["main"], "190", "push")
        assert args == ["2"]
        await watch.wait_for("main:190", "pushed", 2)
        await expect(remote.locator(".last-event")).to_contain_text("Button 2 pushed")


async def test_shade_position_round_trip(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "switches") as (demo, page, watch):
        shade = tile(page, "main:210")
        await shade.locator("input[type=range]").fill("30")
        args = await wait_for_command(demo.sims["main"], "210", "setPosition")
        assert args == ["30"]
        await watch.wait_for("main:210", "position", 30)
        await expect(shade.locator(".slider-row .readout")).to_have_text("30%")


async def test_fan_speed_round_trip(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "switches") as (demo, page, watch):
        fan = tile(page, "main:74")
        high = fan.get_by_role("group", name="Fan speed").get_by_role(
            "button", name="High", exact=True
        )
        await high.click()
        args = await wait_for_command(demo.sims["main"], "74", "setSpeed")
        assert args == ["high"]
        await watch.wait_for("main:74", "speed", "high")
        await expect(high).to_have_attribute("aria-pressed", "true")
        await expect(fan.locator(".tile-status")).to_have_text("On · High")


async def test_rejected_command_rolls_back(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "switches") as (demo, page, _watch):
        porch = tile(page, "main:53")
        toggle = porch.locator("button.toggle")
        before = await toggle.get_attribute("aria-pressed")
        demo.sims["main"].faults.error_status = 500
        await toggle.click()
        await expect(page.locator(".toast-error")).to_contain_text("Porch Light", timeout=WAIT_MS)
        await expect(toggle).to_have_attribute("aria-pressed", before or "false")
        demo.sims["main"].faults.error_status = None


async def test_mode_and_hsm_tiles_round_trip(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with dashboard(tmp_path, context, page_errors, "all") as (demo, page, _watch):
        sim = demo.sims["main"]
        mode = tile(page, "main:mode")
        night = mode.get_by_role("button", name="Night", exact=True)
        await night.click()
        await wait_until(
            lambda: any(entry["name"] == "Night" and entry["active"] for entry in sim.modes),
            15.0,
            "mode Night active on the hub",
        )
        await expect(night).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
        await expect(mode.locator(".tile-status")).to_have_text("Night")

        security = tile(page, "main:hsm")
        await security.get_by_role("button", name="Away").click()
        await wait_until(lambda: sim.hsm == "armedAway", 15.0, "HSM armedAway on the hub")
        await expect(security.locator(".tile-status")).to_have_text("Armed away", timeout=WAIT_MS)

        sim.emit_location("hsmAlert", "intrusion")
        await expect(security.locator(".tile-status")).to_have_text(
            "Alert: Intrusion · Armed away", timeout=WAIT_MS
        )
        sim.emit_location("hsmAlert", "cancel")
        await expect(security.locator(".tile-status")).to_have_text("Armed away")
