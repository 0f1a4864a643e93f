"""Tolerant parsing of Maker API replies and hub events into the records of ``model``.

Three device shapes arrive. ``/devices`` is a short list. ``/devices/all`` sends attributes
as a flat map polluted with the bogus keys ``dataType`` and ``values``, and commands as
``{"command": …}`` objects. ``/devices/{id}`` sends attributes as a list of
``{name, currentValue, dataType, values}``, capabilities mixing strings and objects, and
commands as plain strings. Both full parsers accept either attribute and command shape. Events
arrive as eventsocket frames or webhook bodies and all pass through ``normalize_event``.

Every function takes any JSON-compatible input (or JSON text) and never raises. Entries
that cannot be read are skipped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from tiles_edge.hubs.classify import enrich
from tiles_edge.hubs.model import Attribute, CommandSpec, Device, EventSource, HubEvent
from tiles_edge.hubs.values import (
    display_label,
    is_null,
    parse_list,
    parse_value,
    unit_for,
)

__all__ = [
    "apply_units",
    "display_label",
    "normalize_event",
    "parse_command_specs",
    "parse_device_detail",
    "parse_device_events",
    "parse_device_list",
    "parse_devices_all",
    "parse_list",
    "parse_value",
    "unit_for",
]

# Keys in the /devices/all attribute map that are no attributes.
_BOGUS_ATTRIBUTE_KEYS = frozenset({"dataType", "values"})

# The argument type /devices/{id}/commands lists for a command without arguments.
_NO_ARGUMENT = "n/a"


def _decode(payload: Any) -> Any:
    """Decode JSON text, which hubs serve as text/html. Anything else passes through."""
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except (ValueError, RecursionError):
            return None
    return payload


def _text(raw: Any) -> str | None:
    """Return a hub text field as ``str``, or ``None`` for null, ``"null"`` and blanks."""
    if isinstance(raw, bool) or is_null(raw):
        return None
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float) and math.isfinite(raw):
        return repr(raw)
    return None


def _id(raw: Any) -> str | None:
    """Return a device id as a string. Numbers become ``"12"``, and 0 means no device."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        return str(raw) if raw != 0 else None
    text = _text(raw)
    if text is None:
        return None
    text = text.strip()
    return text if text and text != "0" else None


def parse_devices_all(
    payload: Any, hub_id: str, hub_name: str, *, hub_names: Iterable[str] | None = None
) -> list[Device]:
    """Parse ``GET /devices/all`` into devices, skipping entries without an id.

    The display label drops a trailing ``" on <name>"`` for ``hub_name`` and every name in
    ``hub_names``. Pass all configured hub names so Hub Mesh copies read like their source.
    Attribute units stay ``None`` until ``apply_units``.
    """
    entries = _decode(payload)
    if not isinstance(entries, list):
        return []
    names = _label_hub_names(hub_name, hub_names)
    devices: list[Device] = []
    seen: set[str] = set()
    for entry in entries:
        device = _parse_device(entry, hub_id, names)
        if device is None or device.device_id in seen:
            continue
        seen.add(device.device_id)
        devices.append(device)
    return devices


def parse_device_detail(
    payload: Any, hub_id: str, hub_name: str, *, hub_names: Iterable[str] | None = None
) -> Device | None:
    """Parse ``GET /devices/{id}``, or return ``None`` when it contains no device id.

    When ``supportedFanSpeeds`` is empty, the ``values`` of the ``speed`` enumeration become
    the fan speeds.
    """
    return _parse_device(_decode(payload), hub_id, _label_hub_names(hub_name, hub_names))


def _label_hub_names(hub_name: str, hub_names: Iterable[str] | None) -> list[str]:
    names = [hub_name] if isinstance(hub_name, str) else []
    if hub_names is not None:
        names.extend(name for name in hub_names if isinstance(name, str))
    return names


def _parse_device(entry: Any, hub_id: str, hub_names: list[str]) -> Device | None:
    if not isinstance(entry, dict):
        return None
    device_id = _id(entry.get("id"))
    if device_id is None:
        return None

    attributes, speed_values = _parse_attributes(entry.get("attributes"))
    name = _text(entry.get("name"))
    device = Device(
        hub_id=hub_id,
        device_id=device_id,
        name=name.strip() if name else "",
        label="",
        raw_label=_text(entry.get("label")),
        type=(_text(entry.get("type")) or "").strip(),
        room=_text(entry.get("room")),
        capabilities=_parse_capabilities(entry.get("capabilities")),
        attributes=attributes,
        commands=_parse_commands(entry.get("commands")),
        last_activity=_text(entry.get("date")),
    )
    if speed_values:
        device.fan_speeds = speed_values
    enrich(device, hub_names)
    return device


def _parse_attributes(raw: Any) -> tuple[dict[str, Attribute], list[str] | None]:
    """Parse either attribute shape. Also returns the ``values`` of a ``speed`` enumeration."""
    attributes: dict[str, Attribute] = {}
    speed_values: list[str] | None = None
    if isinstance(raw, dict):
        for name, value in raw.items():
            if name in _BOGUS_ATTRIBUTE_KEYS or not name:
                continue
            attributes[name] = Attribute(value=parse_value(name, value), raw=value)
    elif isinstance(raw, list):
        # Names may repeat in the /devices/{id} shape: the last one wins.
        for item in raw:
            if not isinstance(item, dict):
                continue
            name = item.get("name")
            if not isinstance(name, str) or not name:
                continue
            value = item.get("currentValue")
            attributes[name] = Attribute(value=parse_value(name, value), raw=value)
            if name == "speed":
                speed_values = parse_list(item.get("values")) or speed_values
    return attributes, speed_values


def _parse_capabilities(raw: Any) -> list[str]:
    """Return the capability names without the ``{"attributes": …}`` objects."""
    if not isinstance(raw, list):
        return []
    capabilities: list[str] = []
    for item in raw:
        if isinstance(item, str) and item.strip() and item.strip() not in capabilities:
            capabilities.append(item.strip())
    return capabilities


def _parse_commands(raw: Any) -> dict[str, CommandSpec]:
    if not isinstance(raw, list):
        return {}
    commands: dict[str, CommandSpec] = {}
    for item in raw:
        spec = _command_spec(item)
        if spec is not None:
            commands[spec.name] = spec
    return commands


def _command_spec(item: Any) -> CommandSpec | None:
    """Parse ``"on"``, ``{"command": "on"}`` or ``{"command": "setLevel", "type": [...]}``."""
    if isinstance(item, str):
        name = item.strip()
        return CommandSpec(name=name) if name else None
    if not isinstance(item, dict):
        return None
    command = _text(item.get("command"))
    if command is None or not command.strip():
        return None
    name = command.strip()
    types = item.get("type")
    if isinstance(types, str) and not is_null(types) and not types.strip().startswith("["):
        arg_types: list[str] | None = [types]
    else:
        arg_types = parse_list(types)
    if arg_types is None:
        return CommandSpec(name=name)
    return CommandSpec(
        name=name,
        arg_types=[t.strip() for t in arg_types if t.strip() and t.strip() != _NO_ARGUMENT],
        arg_types_known=True,
    )


def parse_device_list(payload: Any) -> list[dict[str, str | None]]:
    """Parse ``GET /devices`` into ``{id, name, label, type, room}`` maps with string ids."""
    entries = _decode(payload)
    if not isinstance(entries, list):
        return []
    devices: list[dict[str, str | None]] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        device_id = _id(entry.get("id"))
        if device_id is None:
            continue
        devices.append(
            {
                "id": device_id,
                "name": _text(entry.get("name")),
                "label": _text(entry.get("label")),
                "type": _text(entry.get("type")),
                "room": _text(entry.get("room")),
            }
        )
    return devices


def parse_command_specs(payload: Any) -> dict[str, CommandSpec]:
    """Parse ``GET /devices/{id}/commands``. ``["n/a"]`` means the command takes no argument."""
    return _parse_commands(_decode(payload))


def parse_device_events(payload: Any) -> dict[str, str]:
    """Return attribute name → the newest unit in ``GET /devices/{id}/events``.

    The list is newest first, and events without a unit do not hide an older one.
    """
    entries = _decode(payload)
    if not isinstance(entries, list):
        return {}
    units: dict[str, str] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        name = _text(entry.get("name"))
        unit = _text(entry.get("unit"))
        if name and unit and name not in units:
            units[name] = unit.strip()
    return units


def apply_units(device: Device, units: dict[str, str], temperature_scale: str) -> None:
    """Set the unit of every attribute: a unit from ``units`` first, then the one it has."""
    for name, attribute in device.attributes.items():
        attribute.unit = unit_for(name, units.get(name) or attribute.unit, temperature_scale)


def normalize_event(hub_id: str, payload: Any, source: EventSource) -> HubEvent | None:
    """Parse an eventsocket frame or a webhook body into a ``HubEvent``.

    Accepts the webhook body with or without its ``{"content": …}`` wrapper. Returns
    ``None`` when the payload contains no event name. The string ``"null"`` becomes ``None``
    for every field except ``value``, which stays as sent. ``origin`` is the hub's
    ``source`` when present, else ``LOCATION`` without a device id and ``DEVICE`` with one.
    """
    body = _decode(payload)
    if not isinstance(body, dict):
        return None
    content = body.get("content")
    if isinstance(content, dict):
        body = content

    name = _text(body.get("name"))
    if name is None or not name.strip():
        return None
    device_id = _id(body.get("deviceId"))
    origin = _text(body.get("source"))
    if origin is None or not origin.strip():
        origin = "DEVICE" if device_id is not None else "LOCATION"

    return HubEvent(
        hub_id=hub_id,
        device_id=device_id,
        name=name.strip(),
        value=body.get("value"),
        unit=_text(body.get("unit")),
        display_name=_text(body.get("displayName")),
        description=_text(body.get("descriptionText")),
        event_type=_text(body.get("type")),
        origin=origin.strip().upper(),
        source=source,
        data=_event_data(body.get("data")),
    )


def _event_data(raw: Any) -> str | None:
    """Return the opaque ``data`` field as text, serialising a JSON map or list."""
    if isinstance(raw, (dict, list)):
        try:
            return json.dumps(raw)
        except (TypeError, ValueError, RecursionError):
            return None
    return _text(raw)
