"""Tile kinds and the facts derived from a parsed device.

The kind is the first match of a priority chain over Hubitat capability names. A device
whose capabilities match no link of the chain is classified by its attribute names instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from tiles_edge.hubs.model import Device, Kind
from tiles_edge.hubs.values import display_label, lock_codes_readable

# First match wins. Capability names are compared case-insensitively.
_CHAIN: tuple[tuple[Kind, frozenset[str]], ...] = (
    ("thermostat", frozenset({"thermostat", "thermostatoperatingstate"})),
    ("lock", frozenset({"lock"})),
    ("garage_door", frozenset({"garagedoorcontrol", "doorcontrol"})),
    ("shade", frozenset({"windowshade", "windowblind"})),
    ("fan", frozenset({"fancontrol"})),
    ("valve", frozenset({"valve"})),
    ("smoke_co", frozenset({"smokedetector", "carbonmonoxidedetector"})),
    ("media", frozenset({"musicplayer", "audiovolume"})),
    ("color_light", frozenset({"colorcontrol", "colortemperature"})),
    ("dimmer", frozenset({"switchlevel"})),
    (
        "button",
        frozenset({"pushablebutton", "holdablebutton", "doubletapablebutton", "releasablebutton"}),
    ),
)

# Sensor capabilities in the order that picks the sensor type.
_SENSOR_CAPABILITIES: tuple[tuple[str, str], ...] = (
    ("watersensor", "water"),
    ("motionsensor", "motion"),
    ("contactsensor", "contact"),
    ("presencesensor", "presence"),
    ("temperaturemeasurement", "temperature"),
    ("relativehumiditymeasurement", "humidity"),
    ("illuminancemeasurement", "illuminance"),
)

# The capability an attribute implies, for devices whose capabilities match no kind.
_ATTRIBUTE_CAPABILITIES = {
    "thermostatMode": "thermostat",
    "thermostatOperatingState": "thermostatoperatingstate",
    "lock": "lock",
    "door": "garagedoorcontrol",
    "windowShade": "windowshade",
    "windowBlind": "windowblind",
    "speed": "fancontrol",
    "valve": "valve",
    "smoke": "smokedetector",
    "carbonMonoxide": "carbonmonoxidedetector",
    "volume": "audiovolume",
    "hue": "colorcontrol",
    "colorTemperature": "colortemperature",
    "level": "switchlevel",
    "pushed": "pushablebutton",
    "held": "holdablebutton",
    "doubleTapped": "doubletapablebutton",
    "released": "releasablebutton",
    "water": "watersensor",
    "motion": "motionsensor",
    "contact": "contactsensor",
    "presence": "presencesensor",
    "temperature": "temperaturemeasurement",
    "humidity": "relativehumiditymeasurement",
    "illuminance": "illuminancemeasurement",
    "power": "powermeter",
    "switch": "switch",
}

_LIGHT_TYPES = ("color bulb", "dimmer switch")

_KNOWN_CAPABILITIES = frozenset(
    {name for _, names in _CHAIN for name in names}
    | {capability for capability, _ in _SENSOR_CAPABILITIES}
    | {"powermeter", "switch", "light"}
)

# The speeds of Hubitat's FanControl capability, for fans that list no speeds of their own.
STANDARD_FAN_SPEEDS = ("low", "medium-low", "medium", "medium-high", "high", "on", "off", "auto")


def classify(
    capabilities: Iterable[str], device_type: str, attribute_names: Iterable[str]
) -> tuple[Kind, str | None]:
    """Return ``(kind, sensor_type)``, where ``sensor_type`` is set only for sensors."""
    present = {_fold_capability(name) for name in capabilities if isinstance(name, str)}
    if not present & _KNOWN_CAPABILITIES:
        present |= {
            _ATTRIBUTE_CAPABILITIES[name]
            for name in attribute_names
            if name in _ATTRIBUTE_CAPABILITIES
        }

    for kind, names in _CHAIN:
        if present & names:
            return kind, None
    for capability, sensor_type in _SENSOR_CAPABILITIES:
        if capability in present:
            return "sensor", sensor_type
    if "powermeter" in present and "switch" not in present:
        return "power_meter", None
    if "switch" in present:
        return "switch", None
    folded_type = device_type.casefold() if isinstance(device_type, str) else ""
    if "light" in present or any(name in folded_type for name in _LIGHT_TYPES):
        return "light", None
    return "generic", None


def _fold_capability(name: str) -> str:
    # Accept the prefixed form "capability.switch" as well as "Switch".
    return name.strip().removeprefix("capability.").casefold()


def enrich(device: Device, hub_names: Iterable[str]) -> None:
    """Set the display label and every derived fact of a parsed device.

    Sets ``label``, ``kind``, ``sensor_type``, ``has_power_meter``, ``outdoor``,
    ``hue_scale``, ``fan_speeds`` and ``lock_codes_readable``. Run it again after the
    attributes change. A hue scale of 360, once seen, stays, and ``fan_speeds`` set by the
    parser from a ``speed`` enumeration stay unless the device lists its supported speeds.
    """
    label = display_label(device.raw_label, device.name, hub_names)
    device.label = label or f"Device {device.device_id}"

    attributes = device.attributes
    device.kind, device.sensor_type = classify(device.capabilities, device.type, attributes)
    capabilities = {_fold_capability(name) for name in device.capabilities}

    power = attributes.get("power")
    device.has_power_meter = "powermeter" in capabilities and _is_number(
        power.value if power else None
    )
    device.outdoor = "outdoor" in device.label.casefold() or "outdoorTemperature" in attributes

    device.hue_scale = _hue_scale(device, capabilities)
    device.fan_speeds = _fan_speeds(device, capabilities)

    lock_codes = attributes.get("lockCodes")
    device.lock_codes_readable = lock_codes_readable(lock_codes.raw if lock_codes else None)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _hue_scale(device: Device, capabilities: set[str]) -> int | None:
    hue = device.attributes.get("hue")
    if "colorcontrol" not in capabilities and hue is None:
        return None
    if device.hue_scale == 360:
        return 360
    # Hue is 0-100 in Hubitat, but some drivers report 0-360: a hue above 100 proves it.
    if hue is not None and _is_number(hue.value) and hue.value > 100:
        return 360
    return 100


def _fan_speeds(device: Device, capabilities: set[str]) -> list[str] | None:
    if "fancontrol" not in capabilities and device.kind != "fan":
        return None
    supported = device.attributes.get("supportedFanSpeeds")
    if supported is not None and isinstance(supported.value, list) and supported.value:
        return list(supported.value)
    if device.fan_speeds:
        return device.fan_speeds
    return list(STANDARD_FAN_SPEEDS)
