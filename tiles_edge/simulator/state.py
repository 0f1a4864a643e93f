"""Device state of a simulated hub and the JSON shapes the Maker API serves for it.

The shapes follow real captures. ``/devices/all`` carries a flat attribute map, with the bogus
``dataType`` and ``values`` keys kept wherever the loaded dump had them. ``/devices/{id}``
carries an attribute list with ``dataType`` and enum ``values``. ``/devices/{id}/events`` is
a newest-first list with ``device_id`` spelled with an underscore.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

# Keys that real hubs leak into the flat attribute map of /devices/all.
BOGUS_ATTRIBUTE_KEYS = ("dataType", "values")

EVENT_HISTORY_SIZE = 50

TEMPERATURE_ATTRIBUTES = frozenset(
    {
        "temperature",
        "heatingSetpoint",
        "coolingSetpoint",
        "thermostatSetpoint",
        "feelsLike",
        "outdoorTemperature",
        "dewPoint",
    }
)

UNITS: dict[str, str] = {
    "humidity": "%",
    "level": "%",
    "battery": "%",
    "position": "%",
    "volume": "%",
    "saturation": "%",
    "hue": "%",
    "filter": "%",
    "power": "W",
    "energy": "kWh",
    "voltage": "V",
    "amperage": "A",
    "illuminance": "lux",
    "colorTemperature": "K",
}

ENUM_VALUES: dict[str, list[str]] = {
    "switch": ["on", "off"],
    "motion": ["inactive", "active"],
    "contact": ["closed", "open"],
    "acceleration": ["inactive", "active"],
    "tamper": ["clear", "detected"],
    "water": ["dry", "wet"],
    "presence": ["present", "not present"],
    "lock": ["locked", "unlocked with timeout", "unlocked", "unknown"],
    "door": ["unknown", "open", "closing", "closed", "opening"],
    "windowShade": ["opening", "partially open", "closed", "open", "closing", "unknown"],
    "valve": ["open", "closed"],
    "smoke": ["clear", "tested", "detected"],
    "carbonMonoxide": ["clear", "tested", "detected"],
    "mute": ["unmuted", "muted"],
    "colorMode": ["CT", "RGB"],
    "thermostatMode": ["auto", "off", "heat", "emergency heat", "cool"],
    "thermostatFanMode": ["auto", "circulate", "on"],
    "thermostatOperatingState": [
        "heating",
        "pending cool",
        "pending heat",
        "vent economizer",
        "idle",
        "cooling",
        "fan only",
    ],
    "speed": ["low", "medium-low", "medium", "medium-high", "high", "on", "off", "auto"],
}

# Argument types per command as /devices/{id}/commands lists them; any other command takes none.
COMMAND_ARGUMENT_TYPES: dict[str, list[str]] = {
    "setLevel": ["NUMBER", "NUMBER"],
    "setColor": ["COLOR_MAP"],
    "setHue": ["NUMBER"],
    "setSaturation": ["NUMBER"],
    "setColorTemperature": ["NUMBER", "NUMBER", "NUMBER"],
    "startLevelChange": ["ENUM"],
    "setCode": ["NUMBER", "STRING", "STRING"],
    "deleteCode": ["NUMBER"],
    "setCodeLength": ["NUMBER"],
    "setPosition": ["NUMBER"],
    "startPositionChange": ["ENUM"],
    "setSpeed": ["ENUM"],
    "setThermostatMode": ["ENUM"],
    "setThermostatFanMode": ["ENUM"],
    "setHeatingSetpoint": ["NUMBER"],
    "setCoolingSetpoint": ["NUMBER"],
    "push": ["NUMBER"],
    "hold": ["NUMBER"],
    "doubleTap": ["NUMBER"],
    "release": ["NUMBER"],
    "setVolume": ["NUMBER"],
    "setMode": ["ENUM"],
    "playText": ["STRING"],
    "playTrack": ["STRING"],
}

# The attribute a capability declares, listed after it in the /devices/{id} capability list.
CAPABILITY_ATTRIBUTES: dict[str, str] = {
    "Thermostat": "thermostatMode",
    "TemperatureMeasurement": "temperature",
    "FanControl": "speed",
    "SwitchLevel": "level",
    "PowerMeter": "power",
}


def hub_date(at: datetime | None = None) -> str:
    """Format a time the way hubs do: ``2026-11-28T14:03:22+0000``."""
    moment = at or datetime.now(UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def unit_for(attribute: str, temperature_scale: str) -> str | None:
    if attribute in TEMPERATURE_ATTRIBUTES:
        return f"°{temperature_scale}"
    return UNITS.get(attribute)


def _looks_numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def data_type_for(attribute: str, value: Any) -> str:
    if attribute in ENUM_VALUES:
        return "ENUM"
    if attribute.startswith("supported") or attribute == "lockCodes":
        return "JSON_OBJECT"
    if attribute == "threeAxis":
        return "VECTOR3"
    if _looks_numeric(value) or attribute in UNITS or attribute in TEMPERATURE_ATTRIBUTES:
        return "NUMBER"
    return "STRING"


@dataclass(slots=True)
class SimEvent:
    """One event of the simulated hub, rendered into the eventsocket and webhook shapes."""

    source: str
    """``DEVICE``, ``LOCATION`` or ``APP``."""
    name: str
    value: Any
    display_name: str
    device_id: int
    """The numeric device id, ``0`` for location and app events."""
    unit: str | None = None
    event_type: str | None = None
    description: str | None = None
    data: str | None = None
    installed_app_id: int = 0
    date: str = field(default_factory=hub_date)

    def to_eventsocket(self) -> dict[str, Any]:
        """Render the eventsocket frame: numeric ids, absent fields as the string ``"null"``."""
        return {
            "source": self.source,
            "name": self.name,
            "displayName": self.display_name,
            "value": _text_or_null(self.value),
            "type": _text_or_null(self.event_type),
            "unit": _text_or_null(self.unit),
            "deviceId": self.device_id,
            "hubId": 0,
            "installedAppId": self.installed_app_id,
            "descriptionText": _text_or_null(self.description),
        }

    def to_webhook(self) -> dict[str, Any]:
        """Render the postURL body: string device id, ``null`` for location events."""
        event_type = self.event_type
        if event_type is None and self.source == "LOCATION" and self.name == "mode":
            event_type = "LOCATION_MODE_CHANGE"
        return {
            "content": {
                "name": self.name,
                "value": None if self.value is None else _text(self.value),
                "displayName": self.display_name,
                "deviceId": str(self.device_id) if self.source == "DEVICE" else None,
                "descriptionText": self.description,
                "unit": self.unit,
                "type": event_type,
                "data": self.data,
            }
        }


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _text_or_null(value: Any) -> str:
    return "null" if value is None else _text(value)


@dataclass(slots=True)
class SimDevice:
    device_id: str
    name: str
    label: str | None
    type: str
    room: str | None
    date: str | None
    model: Any
    manufacturer: Any
    capabilities: list[str]
    attributes: dict[str, Any]
    bogus: dict[str, Any]
    """The ``dataType`` / ``values`` keys of the loaded dump, served again in /devices/all."""
    commands: list[str]
    command_types: list[dict[str, Any]] | None = None
    hidden: bool = False
    """Hidden devices exist on the hub (and on the eventsocket) but not in the Maker API."""
    history: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=EVENT_HISTORY_SIZE))

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @property
    def numeric_id(self) -> int:
        try:
            return int(self.device_id)
        except ValueError:
            return 0

    def to_summary(self) -> dict[str, Any]:
        return {
            "id": self.device_id,
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "room": self.room,
        }

    def to_full(self) -> dict[str, Any]:
        """Render the /devices/all entry."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "id": self.device_id,
            "date": self.date,
            "model": self.model,
            "manufacturer": self.manufacturer,
            "room": self.room,
            "capabilities": list(self.capabilities),
            "attributes": {**self.bogus, **self.attributes},
            "commands": [{"command": command} for command in self.commands],
        }

    def to_detail(self) -> dict[str, Any]:
        """Render the /devices/{id} entry: attribute list, capabilities mixed with objects."""
        attributes = []
        for name, value in self.attributes.items():
            data_type = data_type_for(name, value)
            entry: dict[str, Any] = {"name": name, "currentValue": value, "dataType": data_type}
            if data_type == "ENUM":
                entry["values"] = list(ENUM_VALUES[name])
            attributes.append(entry)
        capabilities: list[Any] = []
        for capability in self.capabilities:
            capabilities.append(capability)
            attribute = CAPABILITY_ATTRIBUTES.get(capability)
            if attribute is not None and attribute in self.attributes:
                capabilities.append({"attributes": [{"name": attribute, "dataType": None}]})
        return {
            "id": self.device_id,
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "room": self.room,
            "attributes": attributes,
            "capabilities": capabilities,
            "commands": list(self.commands),
        }

    def to_commands(self) -> list[dict[str, Any]]:
        """Render /devices/{id}/commands: argument types, ``["n/a"]`` for none."""
        if self.command_types is not None:
            return [dict(entry) for entry in self.command_types]
        return [
            {"command": command, "type": list(COMMAND_ARGUMENT_TYPES.get(command, ["n/a"]))}
            for command in self.commands
        ]

    def record(self, event: SimEvent) -> None:
        self.history.appendleft(
            {
                "device_id": self.device_id,
                "label": self.display_name,
                "room": self.room,
                "name": event.name,
                "value": None if event.value is None else _text(event.value),
                "date": event.date,
                "unit": event.unit,
                "isStateChange": None,
                "source": "DEVICE",
            }
        )
        self.date = event.date


def parse_device(entry: Any) -> SimDevice | None:
    """Build a device from a /devices/all or /devices/{id} entry; ``None`` for junk entries."""
    if not isinstance(entry, dict):
        return None
    raw_id = entry.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or str(raw_id).strip() == "":
        return None
    device_id = str(raw_id).strip()

    name = entry.get("name")
    label = entry.get("label")
    device_type = entry.get("type")
    room = entry.get("room")
    name_text = name if isinstance(name, str) else f"Device {device_id}"
    attributes, bogus = _parse_attributes(entry.get("attributes"))
    return SimDevice(
        device_id=device_id,
        name=name_text,
        label=label if isinstance(label, str) else None,
        type=device_type if isinstance(device_type, str) else name_text,
        room=room if isinstance(room, str) else None,
        date=entry.get("date") if isinstance(entry.get("date"), str) else None,
        model=entry.get("model"),
        manufacturer=entry.get("manufacturer"),
        capabilities=_parse_capabilities(entry.get("capabilities")),
        attributes=attributes,
        bogus=bogus,
        commands=_parse_commands(entry.get("commands")),
    )


def _parse_attributes(raw: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    attributes: dict[str, Any] = {}
    bogus: dict[str, Any] = {}
    if isinstance(raw, dict):
        for name, value in raw.items():
            if not isinstance(name, str):
                continue
            if name in BOGUS_ATTRIBUTE_KEYS:
                bogus[name] = value
            else:
                attributes[name] = value
    elif isinstance(raw, list):
        # The /devices/{id} shape: names may repeat, and the last one wins.
        for item in raw:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                attributes[item["name"]] = item.get("currentValue")
    return attributes, bogus


def _parse_capabilities(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    return [item for item in raw if isinstance(item, str)]


def _parse_commands(raw: Any) -> list[str]:
    if not isinstance(raw, list):
        return []
    commands: list[str] = []
    for item in raw:
        command = item.get("command") if isinstance(item, dict) else item
        if isinstance(command, str) and command and command not in commands:
            commands.append(command)
    return commands


def parse_devices(entries: Any) -> list[SimDevice]:
    """Build devices from a dump, skipping junk entries and repeated ids."""
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        logger.warning("device dump is a %s, not a list of devices: loaded none", type(entries))
        return []
    devices: list[SimDevice] = []
    seen: set[str] = set()
    skipped = 0
    for entry in entries:
        device = parse_device(entry)
        if device is None or device.device_id in seen:
            skipped += 1
            continue
        seen.add(device.device_id)
        devices.append(device)
    if skipped:
        logger.warning("skipped %d device entries without a usable or unique id", skipped)
    return devices
