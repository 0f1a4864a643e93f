"""Optimistic tile values end on the hub's state after quick taps and unchanged values."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, expect

from tests.apphelpers import Demo, running_demo, wait_until
from tests.browser.conftest import PageErrors, open_dashboard, tile, wait_for_command
from tests.browser.test_dashboard_modules import blank_page  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

# Confirmation timeout the page uses in these tests, in milliseconds.
CONFIRM_MS = 1500

# Toasts disappear after a few seconds, so the page keeps the text of every warning shown.
RECORD_TOASTS = """() => {
  window.shownWarnings = [];
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.classList?.contains('toast-warn')) window.shownWarnings.push(node.textContent);
      }
    }
  }).observe(document.body, { subtree: true, childList: true });
}"""


async def shown_warnings(page: Page) -> list[str]:
    return list(await page.evaluate("window.shownWarnings"))


@contextlib.asynccontextmanager
async def dashboard(
    tmp_path: Path, context: BrowserContext, errors: PageErrors, section: str
) -> AsyncIterator[tuple[Demo, Page]]:
    async with running_demo(tmp_path, command_confirm_timeout_s=CONFIRM_MS / 1000) as demo:
        page = await open_dashboard(context, demo.url, errors, f"#/section/{section}")
        await page.evaluate(RECORD_TOASTS)
        yield demo, page
        assert errors.errors == []


async def tap(page: Page, toggle: Any, times: int) -> None:
    """Click ``times`` in a row without waiting for the hub in between."""
    for _ in range(times):
        await toggle.click()
        await page.wait_for_timeout(60)


@pytest.mark.parametrize("taps", [3, 4])
async def test_quick_taps_end_on_hub_state(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors, taps: int
) -> None:
    async with dashboard(tmp_path, context, page_errors, "switches") as (demo, page):
        sim = demo.sims["main"]
        dryer = tile(page, "main:201")
        toggle = dryer.locator("button.toggle")
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await tap(page, toggle, taps)

        def all_ran() -> bool:
            return len([entry for entry in sim.command_log if entry[0] == "201"]) == taps

        await wait_until(all_ran, 15.0, f"{taps} switch commands for the dryer")
        final = sim.device("201")["attributes"]["switch"]
        assert final == ("off" if taps % 2 else "on")
        devices = (await demo.client.get("/api/devices")).json()["devices"]
        served = next(d for d in devices if d["uid"] == "main:201")["attributes"]["switch"]
        assert served["value"] == final
        # Wait past the confirmation timeout so that a wrong rollback would show.
        await page.wait_for_timeout(CONFIRM_MS * 2)
        await expect(toggle).to_have_attribute("aria-pressed", str(final == "on").lower())
        await expect(dryer.locator(".tile-status")).to_contain_text(final.title())
        assert await shown_warnings(page) == []


@pytest.mark.parametrize("level", ["72", "35"])
async def test_dimming_lit_light_does_not_warn(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors, level: str
) -> None:
    async with dashboard(tmp_path, context, page_errors, "lights") as (demo, page):
        kitchen = tile(page, "main:12")
        await expect(kitchen.locator(".slider-row .readout")).to_have_text("72%")
        await kitchen.locator("input[type=range]").fill(level)
        await wait_for_command(demo.sims["main"], "12", "setLevel")
        # Wait past the confirmation timeout so that a warning about an unchanged value shows.
        await page.wait_for_timeout(CONFIRM_MS * 2)
        assert await shown_warnings(page) == []
        await expect(kitchen.locator(".slider-row .readout")).to_have_text(f"{level}%")
        await expect(kitchen.locator("button.toggle")).to_have_attribute("aria-pressed", "true")


# Drives a CommandTracker with a real DeviceStateManager, an API client whose every post
# succeeds, and a recorded toast list. `arg` lists steps: ["send", value] taps,
# ["event", value] hub reports, ["wait"] lets the confirmation timeout pass.
TRACKER_SCRIPT = """async (steps) => {
  const { CommandTracker } = await import('/js/command-tracker.js');
  const { DeviceStateManager } = await import('/js/device-state-manager.js');
  const state = new DeviceStateManager();
  state.replaceAll([{ uid: 'h:1', label: 'Dryer', attributes: { switch: { value: 'on' } } }]);
  const toasts = [];
  const tracker = new CommandTracker({
    api: { post: async () => ({}) },
    state,
    ui: { toast: (message) => toasts.push(message) },
    timeoutMs: 50,
  });
  const shown = [];
  for (const [step, value] of steps) {
    if (step === 'send') await tracker.send('h:1', value, [], { switch: value });
    if (step === 'event') {
      const attribute = { value, raw: value, unit: null };
      state.updateAttribute('h:1', 'switch', attribute);
      tracker.confirm('h:1', 'switch', attribute);
    }
    if (step === 'wait') await new Promise((resolve) => setTimeout(resolve, 120));
    shown.push(state.get('h:1').attributes.switch.value);
  }
  return { shown, toasts, pending: tracker.pendingCount };
}"""


@pytest.mark.parametrize(
    ("steps", "shown", "warned"),
    [
        # Three taps, all confirmed in order: intermediate events keep the newest request.
        (
            [["send", "off"], ["send", "on"], ["send", "off"], ["event", "off"], ["event", "on"]],
            ["off", "on", "off", "off", "off"],
            False,
        ),
        # The last event is lost: the tile returns to what the hub reported last, with a warning.
        (
            [
                ["send", "off"],
                ["send", "on"],
                ["send", "off"],
                ["event", "off"],
                ["event", "on"],
                ["wait", None],
            ],
            ["off", "on", "off", "off", "off", "on"],
            True,
        ),
        # No event at all, but the last request equals the hub's state: nothing to warn about.
        ([["send", "off"], ["send", "on"], ["wait", None]], ["off", "on", "on"], False),
        # The hub reports another value: that value is restored, never the optimistic one.
        ([["send", "off"], ["event", "on"], ["wait", None]], ["off", "off", "on"], True),
        # The hub's state already equals the request: no event will come and none is awaited.
        ([["send", "on"], ["wait", None]], ["on", "on"], False),
    ],
)
async def test_tracker_restores_hub_value(
    blank_page: Page,  # noqa: F811
    steps: list[list[Any]],
    shown: list[str],
    warned: bool,
) -> None:
    result = await blank_page.evaluate(TRACKER_SCRIPT, steps)
    assert result["shown"] == shown
    assert bool(result["toasts"]) == warned
    if steps[-1][0] == "wait":
        assert result["pending"] == 0
