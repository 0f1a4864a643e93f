"""Background activity that makes a simulated home feel alive.

Each step reports power on every power meter, and now and then flips a motion sensor or a
door contact, drifts a temperature, toggles the hidden device and emits an app event. With a
seed, the sequence of steps is the same on every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import TYPE_CHECKING

from tiles_edge.simulator.commands import Change, format_number
from tiles_edge.simulator.state import SimDevice

if TYPE_CHECKING:
    from tiles_edge.simulator.hub import SimulatedHub

logger = logging.getLogger(__name__)

MOTION_FLIP_CHANCE = 0.15
CONTACT_FLIP_CHANCE = 0.08
TEMPERATURE_DRIFT_CHANCE = 0.25
HIDDEN_TOGGLE_CHANCE = 0.2
APP_EVENT_CHANCE = 0.1
POWER_JITTER = 0.05
# Watts assumed for a switched load whose catalog reading was zero, once it is on.
DEFAULT_LOAD_W = 60.0


def _as_float(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class DemoGenerator:
    """Drive ``hub`` with generated events every ``interval_s`` seconds."""

    def __init__(self, hub: SimulatedHub, *, seed: int | None, interval_s: float) -> None:
        self._hub = hub
        self._rng = random.Random(seed)
        self.interval_s = interval_s
        self._baselines: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self.steps = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"generator {self._hub.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            self.step()

    def step(self) -> None:
        """Emit one round of generated events."""
        self.steps += 1
        for device in self._hub.all_devices():
            if device.hidden:
                self._toggle_hidden(device)
                continue
            attributes = device.attributes
            if (
                "PowerMeter" in device.capabilities
                and _as_float(attributes.get("power")) is not None
            ):
                self._report_power(device)
            if "motion" in attributes:
                self._maybe_flip(device, "motion", ("active", "inactive"), MOTION_FLIP_CHANCE)
            if "contact" in attributes and "door" not in attributes:
                self._maybe_flip(device, "contact", ("open", "closed"), CONTACT_FLIP_CHANCE)
            if _as_float(attributes.get("temperature")) is not None:
                self._drift_temperature(device)
        if self._rng.random() < APP_EVENT_CHANCE:
            value = self._rng.choice(("running", "idle"))
            self._hub.emit_app_event("ruleState", value, 412, "Evening Lights Rule")

    def _report_power(self, device: SimDevice) -> None:
        reading = _as_float(device.attributes.get("power")) or 0.0
        baseline = self._baselines.setdefault(
            device.device_id, reading if reading > 0 else DEFAULT_LOAD_W
        )
        if device.attributes.get("switch") == "off":
            watts = 0.0
        else:
            watts = baseline * (1 + self._rng.uniform(-POWER_JITTER, POWER_JITTER))
        change = Change("power", format_number(round(watts, 1)), force=True)
        self._hub.apply_change(device, change, None)

    def _maybe_flip(
        self, device: SimDevice, name: str, values: tuple[str, str], chance: float
    ) -> None:
        if self._rng.random() >= chance:
            return
        current = device.attributes.get(name)
        value = values[1] if current == values[0] else values[0]
        self._hub.apply_change(device, Change(name, value), "physical")

    def _drift_temperature(self, device: SimDevice) -> None:
        if self._rng.random() >= TEMPERATURE_DRIFT_CHANCE:
            return
        current = _as_float(device.attributes.get("temperature"))
        if current is None:
            return
        drifted = round(current + self._rng.choice((-0.2, -0.1, 0.1, 0.2)), 1)
        self._hub.apply_change(device, Change("temperature", f"{drifted:.1f}"), None)

    def _toggle_hidden(self, device: SimDevice) -> None:
        if "switch" in device.attributes:
            self._maybe_flip(device, "switch", ("on", "off"), HIDDEN_TOGGLE_CHANCE)
