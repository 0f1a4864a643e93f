"""The live device state cache: every update, whatever its transport, goes through here.

Snapshots (``apply_snapshot``) and single events (``apply_event``) from the eventsocket, the
webhook and the poll loop all end in this one place, which types the value, remembers units,
drops duplicate frames and returns the "device" event payloads to publish.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tiles_edge.hubs.model import Attribute, Device, EventSource, HubEvent, public_raw
from tiles_edge.hubs.normalize import apply_units, parse_value, unit_for

logger = logging.getLogger(__name__)

# Button events repeat with identical content when a button is pushed twice: never dedupe them.
BUTTON_EVENTS: frozenset[str] = frozenset({"pushed", "held", "doubleTapped", "released"})

# Device fields whose change makes browsers re-fetch the device list.
_LISTED_FIELDS = ("name", "label", "room", "type", "capabilities", "kind")

# Dedupe entries are pruned once the table contains this many keys.
_DEDUPE_PRUNE_AT = 4096


@dataclass(slots=True)
class SnapshotDiff:
    """The changes one snapshot made: device events to publish and device list changes."""

    changes: list[dict[str, Any]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    relisted: list[str] = field(default_factory=list)
    """Uids whose label, room, type, capabilities or kind changed."""

    @property
    def needs_resync(self) -> bool:
        return bool(self.added or self.removed or self.relisted)


class DeviceState:
    """Devices of every hub, keyed by hub id and device id, in the order the hub listed them."""

    def __init__(
        self,
        *,
        temperature_scale: str = "F",
        dedupe_window_ms: int = 1500,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.temperature_scale = temperature_scale
        self._dedupe_window_s = dedupe_window_ms / 1000
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._devices: dict[str, dict[str, Device]] = {}
        # Last unit seen per (hub, device) and attribute: device JSON carries none.
        self._units: dict[tuple[str, str], dict[str, str]] = {}
        self._recent: dict[tuple[str, str, str, str, str | None], float] = {}

    def has_snapshot(self, hub_id: str) -> bool:
        return hub_id in self._devices

    def hub_devices(self, hub_id: str) -> list[Device]:
        return list(self._devices.get(hub_id, {}).values())

    def get(self, hub_id: str, device_id: str) -> Device | None:
        return self._devices.get(hub_id, {}).get(device_id)

    def find(self, device_id: str) -> list[Device]:
        """Return every device with this bare id, on any hub."""
        return [d for devices in self._devices.values() if (d := devices.get(device_id))]

    def drop_hub(self, hub_id: str) -> list[str]:
        """Forget a hub's devices and return their uids."""
        devices = self._devices.pop(hub_id, {})
        for device_id in devices:
            self._units.pop((hub_id, device_id), None)
        self._recent = {key: t for key, t in self._recent.items() if key[0] != hub_id}
        return [device.uid for device in devices.values()]

    def apply_snapshot(
        self, hub_id: str, devices: Iterable[Device], *, source: EventSource = "snapshot"
    ) -> SnapshotDiff:
        """Replace a hub's devices with a fresh snapshot and return what changed.

        Units learned from events and known command argument types carry over from the
        previous snapshot. The first snapshot of a hub reports every device as added and no
        attribute change.
        """
        previous = self._devices.get(hub_id)
        fresh: dict[str, Device] = {}
        diff = SnapshotDiff()
        for device in devices:
            if device.device_id in fresh:
                logger.debug("hub %r: device %s listed twice, last kept", hub_id, device.device_id)
            old = previous.get(device.device_id) if previous else None
            self._carry_over(device, old)
            fresh[device.device_id] = device
            if old is None:
                diff.added.append(device.uid)
                continue
            if any(getattr(old, name) != getattr(device, name) for name in _LISTED_FIELDS):
                diff.relisted.append(device.uid)
            if previous is not None:
                diff.changes.extend(self._attribute_changes(old, device, source))
        if previous is not None:
            diff.removed = [d.uid for key, d in previous.items() if key not in fresh]
            for device_id in previous.keys() - fresh.keys():
                self._units.pop((hub_id, device_id), None)
        self._devices[hub_id] = fresh
        return diff

    def apply_event(self, event: HubEvent) -> dict[str, Any] | None:
        """Apply one device event; return the "device" payload, or ``None`` when dropped.

        Dropped: events of devices this Maker API instance does not expose (the eventsocket
        streams every device on the hub), and a frame identical to one applied less than the
        dedupe window ago, unless it is a button event.
        """
        if event.device_id is None:
            return None
        device = self.get(event.hub_id, event.device_id)
        if device is None:
            return None

        raw = event.value
        if self._is_duplicate(event, device):
            logger.debug(
                "hub %r: duplicate %s=%r for device %s dropped",
                event.hub_id,
                event.name,
                raw,
                event.device_id,
            )
            return None

        unit = self._unit_for_event(device, event)
        value = parse_value(event.name, raw)
        device.attributes[event.name] = Attribute(value=value, raw=raw, unit=unit)
        device.last_activity = _hub_timestamp(self._wall_clock())
        return self._device_payload(device, event.name, event.source)

    def _carry_over(self, device: Device, old: Device | None) -> None:
        units = self._units.get((device.hub_id, device.device_id), {})
        apply_units(device, units, self.temperature_scale)
        if old is None:
            return
        # A snapshot's ``date`` can be older than the last event seen live; keep the newer.
        # Both are UTC in the hub's format, so they compare as text.
        if old.last_activity and (device.last_activity or "") < old.last_activity:
            device.last_activity = old.last_activity
        for name, spec in device.commands.items():
            old_spec = old.commands.get(name)
            if old_spec is not None and old_spec.arg_types_known and not spec.arg_types_known:
                device.commands[name] = old_spec

    def _attribute_changes(
        self, old: Device, new: Device, source: EventSource
    ) -> list[dict[str, Any]]:
        changes = []
        for name, attribute in new.attributes.items():
            before = old.attributes.get(name)
            if before is None or not _same_raw(before.raw, attribute.raw):
                changes.append(self._device_payload(new, name, source))
        return changes

    def _unit_for_event(self, device: Device, event: HubEvent) -> str | None:
        previous = device.attributes.get(event.name)
        if event.unit:
            unit = unit_for(event.name, event.unit, self.temperature_scale)
            if unit:
                self._units.setdefault((device.hub_id, device.device_id), {})[event.name] = unit
                return unit
        if previous is not None and previous.unit:
            return previous.unit
        return unit_for(event.name, None, self.temperature_scale)

    def _is_duplicate(self, event: HubEvent, device: Device) -> bool:
        """Return whether ``event`` repeats a frame rather than reporting a change.

        A frame is a duplicate when the same frame came within the window and the attribute
        still has that value. So on, off, on within the window are three real changes.
        """
        if event.name in BUTTON_EVENTS or self._dedupe_window_s <= 0:
            return False
        assert event.device_id is not None
        key = (event.hub_id, event.device_id, event.name, str(event.value), event.unit)
        now = self._monotonic()
        seen = self._recent.get(key)
        current = device.attributes.get(event.name)
        unchanged = current is not None and _same_raw(current.raw, event.value)
        if seen is not None and now - seen < self._dedupe_window_s and unchanged:
            return True
        self._recent[key] = now
        if len(self._recent) > _DEDUPE_PRUNE_AT:
            horizon = now - self._dedupe_window_s
            self._recent = {k: t for k, t in self._recent.items() if t >= horizon}
        return False

    def _device_payload(self, device: Device, name: str, source: EventSource) -> dict[str, Any]:
        attribute = device.attributes[name]
        return {
            "uid": device.uid,
            "hubId": device.hub_id,
            "deviceId": device.device_id,
            "name": name,
            "value": attribute.value,
            "raw": public_raw(name, attribute),
            "unit": attribute.unit,
            "ts": int(self._wall_clock() * 1000),
            "source": source,
        }


def _hub_timestamp(epoch_s: float) -> str:
    """Format a time as hubs write ``date``: ``2026-11-28T14:03:22+0000``."""
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(epoch_s))


def _same_raw(a: Any, b: Any) -> bool:
    # REST sends "72" where a frame may have carried 72: compare the text form too.
    return bool(a == b or (a is not None and b is not None and str(a) == str(b)))
