"""Typing of the text hubs send: attribute values, list attributes, units and display labels.

Hubitat sends attribute values as strings even when they are numbers, sometimes as JSON
numbers, ``null``, the string ``"null"`` or junk such as ``"unknown"`` and ``"Battery 76%"``.
Every function here accepts any JSON-compatible input and never raises.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

# Attributes whose value is a number. For these, text such as "Battery 76%" yields the first
# number in it, and text without any number ("unknown", "PowerOn", "Harmful") yields None.
NUMERIC_ATTRIBUTES = frozenset(
    {
        "airQualityIndex",
        "amperage",
        "battery",
        "carbonDioxide",
        "codeLength",
        "colorTemperature",
        "coolingSetpoint",
        "current",
        "dewPoint",
        "doubleTapped",
        "energy",
        "feelsLike",
        "frequency",
        "heatingSetpoint",
        "held",
        "hue",
        "humidity",
        "illuminance",
        "level",
        "lqi",
        "maxCodes",
        "numberOfButtons",
        "outdoorTemperature",
        "pm10",
        "pm25",
        "position",
        "power",
        "powerFactor",
        "pressure",
        "pushed",
        "released",
        "rssi",
        "saturation",
        "temperature",
        "thermostatSetpoint",
        "tilt",
        "ultravioletIndex",
        "voc",
        "voltage",
        "volume",
        "windGust",
        "windSpeed",
    }
)

# Electrical readings are always floats, so "1843" and "1843.0" both type as 1843.0.
FLOAT_ATTRIBUTES = frozenset(
    {"amperage", "current", "energy", "frequency", "power", "powerFactor", "voltage"}
)

# Enumerations that must stay text even when a driver sends a digit ("speed": "3").
TEXT_ATTRIBUTES = frozenset(
    {
        "acceleration",
        "carbonMonoxide",
        "colorMode",
        "colorName",
        "contact",
        "door",
        "hsmAlert",
        "hsmStatus",
        "lock",
        "mode",
        "motion",
        "mute",
        "powerSource",
        "presence",
        "smoke",
        "sound",
        "speed",
        "status",
        "switch",
        "tamper",
        "thermostatFanMode",
        "thermostatMode",
        "thermostatOperatingState",
        "valve",
        "water",
        "windowBlind",
        "windowShade",
    }
)

# Every attribute named "supported…" is a list too.
LIST_ATTRIBUTES = frozenset({"availableModes", "availableInputs", "supportedButtonValues"})

_TEMPERATURE_ATTRIBUTES = frozenset(
    {
        "coolingSetpoint",
        "dewPoint",
        "feelsLike",
        "heatingSetpoint",
        "outdoorTemperature",
        "temperature",
        "thermostatSetpoint",
    }
)

_DEFAULT_UNITS = {
    "amperage": "A",
    "battery": "%",
    "carbonDioxide": "ppm",
    "colorTemperature": "K",
    "current": "A",
    "energy": "kWh",
    "humidity": "%",
    "illuminance": "lux",
    "level": "%",
    "position": "%",
    "power": "W",
    "saturation": "%",
    "voltage": "V",
    "volume": "%",
}

_UNIT_ALIASES = {
    "f": "°F",
    "°f": "°F",
    "ºf": "°F",
    "degf": "°F",
    "fahrenheit": "°F",
    "c": "°C",
    "°c": "°C",
    "ºc": "°C",
    "degc": "°C",
    "celsius": "°C",
    "lx": "lux",
    "lux": "lux",
    "kwh": "kWh",
    "w": "W",
}

_CLEAN_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")
_FIRST_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_AXIS_PAIR = re.compile(r"\s*([A-Za-z]\w*)\s*[:=]\s*(-?\d+(?:\.\d+)?)\s*")
# Python rejects int() of more than 4300 digits by default (sys.get_int_max_str_digits).
_MAX_DIGITS = 4000


_INVALID = object()


def _loads(text: str) -> Any:
    """Decode JSON text, or return ``_INVALID``. Deep nesting counts as invalid too."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _INVALID


def is_null(raw: Any) -> bool:
    """Return whether a hub value means "no value": ``None``, ``"null"`` or blank text."""
    return raw is None or (isinstance(raw, str) and raw.strip() in ("", "null"))


def parse_list(raw: Any) -> list[str] | None:
    """Parse a list attribute sent as JSON text, as a Groovy list or as a real list.

    ``'["off","heat"]'``, ``"[off, heat]"`` and ``["off", "heat"]`` all yield
    ``["off", "heat"]``. ``None``, ``"null"``, blank text and values that are no list yield
    ``None``.
    """
    if isinstance(raw, list):
        return _list_items(raw)
    if not isinstance(raw, str) or is_null(raw):
        return None
    text = raw.strip()
    decoded = _loads(text)
    if isinstance(decoded, list):
        return _list_items(decoded)
    if decoded is not _INVALID or text.startswith("{"):
        # Valid JSON that is no list (a number, a map): not a list attribute value.
        return None
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    items = (part.strip().strip("\"'").strip() for part in text.split(","))
    return [item for item in items if item]


def _list_items(items: list[Any]) -> list[str]:
    result: list[str] = []
    for item in items:
        text = _scalar_text(item)
        if text is not None:
            result.append(text)
    return result


def _scalar_text(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return raw
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float) and math.isfinite(raw):
        return repr(raw)
    return None


def parse_value(name: str, raw: Any) -> Any:
    """Return the typed value of attribute ``name`` for the raw value a hub sent.

    Known numeric attributes yield an int or float (electrical readings always a float), or
    ``None`` when the text contains no number. List attributes yield a list of strings,
    ``threeAxis`` a map of axis to number, and ``lockCodes`` a map without the codes.
    Anything else stays text, except that a clean number under an unknown name becomes a
    number. ``None`` and ``"null"`` yield ``None``.
    """
    if is_null(raw):
        return None
    if name in NUMERIC_ATTRIBUTES:
        number = _number(raw, lenient=True)
        if number is not None and name in FLOAT_ATTRIBUTES:
            return float(number)
        return number
    if name in LIST_ATTRIBUTES or name.startswith("supported"):
        return parse_list(raw)
    if name == "threeAxis":
        return _parse_three_axis(raw)
    if name == "lockCodes":
        return _redact_lock_codes(raw)
    if name in TEXT_ATTRIBUTES:
        return _scalar_text(raw) if not isinstance(raw, (dict, list)) else raw
    return _parse_unknown(raw)


def _parse_unknown(raw: Any) -> Any:
    if isinstance(raw, bool):
        # Values are typed by attribute name, not by dataType, so BOOLEAN reads as text.
        return "true" if raw else "false"
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else None
    if isinstance(raw, str):
        text = raw.strip()
        number = _number(text, lenient=False)
        return raw if number is None else number
    return raw


def _number(raw: Any, *, lenient: bool) -> int | float | None:
    """Return ``raw`` as a number. With ``lenient``, text yields its first number."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return raw if math.isfinite(raw) else None
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    match = _FIRST_NUMBER.search(text) if lenient else _CLEAN_NUMBER.fullmatch(text)
    if match is None:
        return None
    digits = match.group(0)
    if len(digits) > _MAX_DIGITS:
        return None
    if "." in digits:
        value = float(digits)
        return value if math.isfinite(value) else None
    return int(digits)


def _parse_three_axis(raw: Any) -> Any:
    """Parse ``"[x:1,y:2,z:3]"`` (or a JSON map) into ``{"x": 1, "y": 2, "z": 3}``."""
    if isinstance(raw, dict):
        numbers = {str(key): _number(value, lenient=False) for key, value in raw.items()}
        return numbers if numbers and None not in numbers.values() else raw
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if text.startswith("{"):
        decoded = _loads(text)
        return _parse_three_axis(decoded) if isinstance(decoded, dict) else raw
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    axes: dict[str, int | float | None] = {}
    for part in text.split(","):
        match = _AXIS_PAIR.fullmatch(part)
        if match is None:
            return raw
        axes[match.group(1)] = _number(match.group(2), lenient=False)
    if not axes or None in axes.values():
        return raw
    return axes


def _redact_lock_codes(raw: Any) -> dict[str, Any] | None:
    """Return the code slots of a ``lockCodes`` map with only their names.

    Drivers send the map as JSON text, a map or encrypted text. The codes themselves never
    leave this function, and encrypted or malformed text yields ``None``.
    """
    decoded = _loads(raw) if isinstance(raw, str) else raw
    if not isinstance(decoded, dict):
        return None
    slots: dict[str, Any] = {}
    for slot, entry in decoded.items():
        name = entry.get("name") if isinstance(entry, dict) else None
        slots[str(slot)] = {"name": name if isinstance(name, str) else None}
    return slots


def lock_codes_readable(raw: Any) -> bool | None:
    """Return whether a ``lockCodes`` value is a readable JSON map.

    ``False`` for encrypted text (or anything else that is no map), ``None`` when absent.
    """
    if is_null(raw):
        return None
    if isinstance(raw, dict):
        return True
    return isinstance(raw, str) and isinstance(_loads(raw), dict)


def is_temperature_attribute(name: str) -> bool:
    if name in _TEMPERATURE_ATTRIBUTES:
        return True
    return name != "colorTemperature" and name.endswith(("Temperature", "Setpoint"))


def unit_for(name: str, unit: str | None, temperature_scale: str) -> str | None:
    """Return the unit to show for attribute ``name``.

    A unit the hub sent wins, spelt the standard way (``"F"`` becomes ``"°F"``). Without
    one, temperatures take the hub's ``temperature_scale`` (``"F"`` or ``"C"``). Other
    known attributes take their usual unit (W, kWh, %, lux, …), and the rest have none.
    """
    if isinstance(unit, str) and not is_null(unit):
        text = unit.strip()
        return _UNIT_ALIASES.get(text.casefold(), text)
    if is_temperature_attribute(name):
        scale = temperature_scale.strip().upper() if isinstance(temperature_scale, str) else ""
        return "°C" if scale in ("C", "°C") else "°F"
    return _DEFAULT_UNITS.get(name)


def display_label(label: Any, name: Any, hub_names: Iterable[str]) -> str:
    """Return the label to show: ``label``, else ``name``, minus a trailing hub suffix.

    The suffix is ``" on <hub name>"`` for any name in ``hub_names`` (a mapping contributes
    its values), matched case-insensitively. Returns ``""`` when both are missing.
    """
    for candidate in (label, name):
        text = _scalar_text(candidate)
        if text is None or is_null(text):
            continue
        text = text.strip()
        base = strip_hub_suffix(text, hub_names)
        return base if base is not None else text
    return ""


def strip_hub_suffix(text: str, hub_names: Iterable[str]) -> str | None:
    """Return ``text`` without a trailing ``" on <hub name>"``, or ``None`` without one.

    The longest matching hub name wins. A suffix that would leave nothing does not count.
    """
    names = hub_names.values() if isinstance(hub_names, Mapping) else hub_names
    best: str | None = None
    for hub_name in names:
        if not isinstance(hub_name, str) or not hub_name.strip():
            continue
        suffix = " on " + hub_name.strip()
        if len(text) <= len(suffix) or text[-len(suffix) :].casefold() != suffix.casefold():
            continue
        base = text[: -len(suffix)].strip()
        if base and (best is None or len(base) < len(best)):
            best = base
    return best
