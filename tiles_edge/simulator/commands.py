"""Command effects on a simulated device: the attribute changes each command causes, in order.

Only the effects the demo device kinds need are modelled. A command the device lists but this
module does not know (``configure``, ``setCode``, ``nextTrack`` …) is accepted and changes
nothing, the way a real driver that only logs would behave.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tiles_edge.simulator.state import ENUM_VALUES, SimDevice


class CommandArgumentError(ValueError):
    """A command argument is missing or has the wrong type."""


@dataclass(slots=True, frozen=True)
class Change:
    """One attribute change caused by a command, ``delay_s`` seconds after it."""

    name: str
    value: Any
    delay_s: float = 0.0
    force: bool = False
    """Emit an event even when the value is unchanged (every button press is an event)."""


_THERMOSTAT_MODE_COMMANDS = {
    "heat": "heat",
    "cool": "cool",
    "auto": "auto",
    "off": "off",
    "emergencyHeat": "emergency heat",
}
_FAN_MODE_COMMANDS = {"fanAuto": "auto", "fanOn": "on", "fanCirculate": "circulate"}
_BUTTON_COMMANDS = {
    "push": "pushed",
    "hold": "held",
    "doubleTap": "doubleTapped",
    "release": "released",
}
_MEDIA_STATUS = {"play": "playing", "pause": "paused", "stop": "stopped"}


def format_number(value: float) -> str:
    """Format a number as hubs send it in attribute values: ``"72"``, ``"68.5"``."""
    if float(value).is_integer():
        return str(int(value))
    return str(round(value, 2))


def plan_command(
    device: SimDevice, command: str, args: list[str], *, travel_s: float
) -> list[Change]:
    """Return the attribute changes ``command`` causes on ``device``.

    Raises ``CommandArgumentError`` when a required argument is missing or not a number.
    ``travel_s`` is how long a garage door or shade takes between ``opening`` and ``open``.
    """
    attributes = device.attributes
    if "thermostatMode" in attributes and command in _THERMOSTAT_MODE_COMMANDS:
        return _thermostat_mode(device, _THERMOSTAT_MODE_COMMANDS[command])
    if command in _FAN_MODE_COMMANDS:
        return [Change("thermostatFanMode", _FAN_MODE_COMMANDS[command])]
    if command in _BUTTON_COMMANDS:
        button = format_number(_number(args, 0, command)) if args else "1"
        return [Change(_BUTTON_COMMANDS[command], button, force=True)]
    if command in ("open", "close"):
        return _open_close(device, command == "open", travel_s)
    if command == "stop" and "windowShade" in attributes:
        return _stop_shade(device)
    if command in _MEDIA_STATUS:
        return [Change("status", _MEDIA_STATUS[command])]
    handler = _HANDLERS.get(command)
    if handler is None:
        return []
    return handler(device, args, command)


def _number(args: list[str], index: int, command: str) -> float:
    if index >= len(args) or args[index].strip() == "":
        raise CommandArgumentError(f"{command} needs argument {index + 1}")
    text = args[index].strip()
    try:
        return float(text)
    except ValueError:
        raise CommandArgumentError(
            f"{command} argument {index + 1} must be a number, got {text!r}"
        ) from None


def _text_arg(args: list[str], index: int, command: str) -> str:
    if index >= len(args) or args[index].strip() == "":
        raise CommandArgumentError(f"{command} needs argument {index + 1}")
    return args[index].strip()


def _percent(value: float) -> str:
    return format_number(round(min(max(value, 0.0), 100.0)))


def _on_off(device: SimDevice, value: str) -> list[Change]:
    return [Change("switch", value)] if "switch" in device.attributes else []


def _set_switch(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return [Change("switch", command)]


def _set_level(device: SimDevice, args: list[str], command: str) -> list[Change]:
    level = _percent(_number(args, 0, command))
    if "windowShade" in device.attributes:
        return _shade_position(device, level)
    changes = [Change("level", level)]
    changes += _on_off(device, "off" if level == "0" else "on")
    return changes


def parse_color_map(text: str) -> dict[str, Any]:
    """Parse a ``setColor`` map: JSON ``{"hue":30}``, else Groovy ``[hue:30, saturation:90]``."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return parsed
    pairs = re.findall(r"(\w+)\s*:\s*([-\d.]+)", text)
    if not pairs:
        raise CommandArgumentError(f"setColor needs a color map, got {text!r}")
    return {key: value for key, value in pairs}


def _set_color(device: SimDevice, args: list[str], command: str) -> list[Change]:
    # An unencoded JSON map arrives split at its commas: rejoin before parsing.
    color = parse_color_map(",".join(args))
    changes: list[Change] = []
    for key in ("hue", "saturation", "level"):
        if key in color:
            changes.append(Change(key, _percent(_number([str(color[key])], 0, command))))
    if not changes:
        raise CommandArgumentError(f"setColor needs hue, saturation or level, got {color!r}")
    if "colorMode" in device.attributes:
        changes.append(Change("colorMode", "RGB"))
    return changes + _on_off(device, "on")


def _set_hue(device: SimDevice, args: list[str], command: str) -> list[Change]:
    # Drivers that report hue in 0-360 take it in that scale, so only negative hues are clamped.
    hue = format_number(round(max(_number(args, 0, command), 0.0)))
    return [Change("hue", hue), *_color_mode(device, "RGB")]


def _set_saturation(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return [Change("saturation", _percent(_number(args, 0, command))), *_color_mode(device, "RGB")]


def _set_color_temperature(device: SimDevice, args: list[str], command: str) -> list[Change]:
    kelvin = format_number(round(_number(args, 0, command)))
    changes = [Change("colorTemperature", kelvin), *_color_mode(device, "CT")]
    if len(args) > 1 and args[1].strip():
        changes.append(Change("level", _percent(_number(args, 1, command))))
    return changes + _on_off(device, "on")


def _color_mode(device: SimDevice, mode: str) -> list[Change]:
    return [Change("colorMode", mode)] if "colorMode" in device.attributes else []


def _lock(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return [Change("lock", "locked" if command == "lock" else "unlocked")]


def _open_close(device: SimDevice, opening: bool, travel_s: float) -> list[Change]:
    attributes = device.attributes
    if "door" in attributes:
        moving, final = ("opening", "open") if opening else ("closing", "closed")
        changes = [Change("door", moving), Change("door", final, delay_s=travel_s)]
        if "contact" in attributes:
            changes.append(Change("contact", final, delay_s=travel_s))
        return changes
    if "windowShade" in attributes:
        moving, final = ("opening", "open") if opening else ("closing", "closed")
        position = "100" if opening else "0"
        changes = [Change("windowShade", moving), Change("position", position, delay_s=travel_s)]
        if "level" in attributes:
            changes.append(Change("level", position, delay_s=travel_s))
        return [*changes, Change("windowShade", final, delay_s=travel_s)]
    if "valve" in attributes:
        return [Change("valve", "open" if opening else "closed")]
    if "contact" in attributes:
        return [Change("contact", "open" if opening else "closed")]
    return []


def _shade_position(device: SimDevice, position: str) -> list[Change]:
    changes = [Change("position", position)]
    if "level" in device.attributes:
        changes.append(Change("level", position))
    state = {"0": "closed", "100": "open"}.get(position, "partially open")
    return [*changes, Change("windowShade", state)]


def _set_position(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return _shade_position(device, _percent(_number(args, 0, command)))


def _start_position_change(device: SimDevice, args: list[str], command: str) -> list[Change]:
    direction = _text_arg(args, 0, command)
    if direction not in ("open", "close"):
        raise CommandArgumentError(f"{command} takes open or close, got {direction!r}")
    return [Change("windowShade", "opening" if direction == "open" else "closing")]


def _stop_shade(device: SimDevice) -> list[Change]:
    if device.attributes.get("windowShade") in ("opening", "closing"):
        return [Change("windowShade", "partially open")]
    return []


def _stop_position_change(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return _stop_shade(device)


def parse_list(value: Any) -> list[str]:
    """Parse a list attribute sent as JSON text, a Groovy list ``"[a, b]"`` or a real list."""
    if isinstance(value, list):
        return [str(item) for item in value]
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if isinstance(parsed, list):
        return [str(item) for item in parsed]
    inner = value.strip().removeprefix("[").removesuffix("]")
    return [item.strip().strip("\"'") for item in inner.split(",") if item.strip()]


def _set_speed(device: SimDevice, args: list[str], command: str) -> list[Change]:
    speed = _text_arg(args, 0, command)
    return [Change("speed", speed), *_on_off(device, "off" if speed == "off" else "on")]


def _cycle_speed(device: SimDevice, args: list[str], command: str) -> list[Change]:
    speeds = parse_list(device.attributes.get("supportedFanSpeeds")) or ENUM_VALUES["speed"]
    speeds = [speed for speed in speeds if speed not in ("on", "off", "auto")]
    if not speeds:
        return []
    current = device.attributes.get("speed")
    index = speeds.index(current) + 1 if current in speeds else 0
    speed = speeds[index % len(speeds)]
    return [Change("speed", speed), *_on_off(device, "on")]


def _float_attribute(attributes: dict[str, Any], name: str) -> float | None:
    value = attributes.get(name)
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _operating_state(attributes: dict[str, Any], mode: str) -> str:
    temperature = _float_attribute(attributes, "temperature")
    heating = _float_attribute(attributes, "heatingSetpoint")
    cooling = _float_attribute(attributes, "coolingSetpoint")
    wants_heat = temperature is not None and heating is not None and temperature < heating
    wants_cool = temperature is not None and cooling is not None and temperature > cooling
    if mode == "emergency heat" or (mode in ("heat", "auto") and wants_heat):
        return "heating"
    if mode in ("cool", "auto") and wants_cool:
        return "cooling"
    if mode == "fan":
        return "fan only"
    return "idle"


def _thermostat_follow_up(attributes: dict[str, Any], mode: str) -> list[Change]:
    """Return the operating state and active setpoint that follow from ``attributes``."""
    changes: list[Change] = []
    if "thermostatOperatingState" in attributes:
        changes.append(Change("thermostatOperatingState", _operating_state(attributes, mode)))
    if mode in ("heat", "emergency heat"):
        setpoint_name: str | None = "heatingSetpoint"
    elif mode == "cool":
        setpoint_name = "coolingSetpoint"
    else:
        setpoint_name = None
    if setpoint_name and "thermostatSetpoint" in attributes:
        setpoint = attributes.get(setpoint_name)
        if setpoint is not None:
            changes.append(Change("thermostatSetpoint", setpoint))
    return changes


def _thermostat_mode(device: SimDevice, mode: str) -> list[Change]:
    return [Change("thermostatMode", mode), *_thermostat_follow_up(device.attributes, mode)]


def _set_thermostat_mode(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return _thermostat_mode(device, _text_arg(args, 0, command))


def _set_setpoint(device: SimDevice, args: list[str], command: str) -> list[Change]:
    name = "heatingSetpoint" if command == "setHeatingSetpoint" else "coolingSetpoint"
    value = format_number(_number(args, 0, command))
    after = {**device.attributes, name: value}
    mode = str(device.attributes.get("thermostatMode", "off"))
    return [Change(name, value), *_thermostat_follow_up(after, mode)]


def _set_fan_mode(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return [Change("thermostatFanMode", _text_arg(args, 0, command))]


def _set_volume(device: SimDevice, args: list[str], command: str) -> list[Change]:
    volume = _percent(_number(args, 0, command))
    changes = [Change("volume", volume)]
    if "level" in device.attributes:
        changes.append(Change("level", volume))
    return changes


def _mute(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return [Change("mute", "muted" if command == "mute" else "unmuted")]


def _presence(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return [Change("presence", "present" if command == "arrived" else "not present")]


def _set_mode(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return [Change("mode", _text_arg(args, 0, command))]


def _reset_energy(device: SimDevice, args: list[str], command: str) -> list[Change]:
    return [Change("energy", "0")] if "energy" in device.attributes else []


_Handler = Callable[[SimDevice, list[str], str], list[Change]]

_HANDLERS: dict[str, _Handler] = {
    "on": _set_switch,
    "off": _set_switch,
    "setLevel": _set_level,
    "setColor": _set_color,
    "setHue": _set_hue,
    "setSaturation": _set_saturation,
    "setColorTemperature": _set_color_temperature,
    "lock": _lock,
    "unlock": _lock,
    "setPosition": _set_position,
    "startPositionChange": _start_position_change,
    "stopPositionChange": _stop_position_change,
    "setSpeed": _set_speed,
    "cycleSpeed": _cycle_speed,
    "setThermostatMode": _set_thermostat_mode,
    "setHeatingSetpoint": _set_setpoint,
    "setCoolingSetpoint": _set_setpoint,
    "setThermostatFanMode": _set_fan_mode,
    "setVolume": _set_volume,
    "mute": _mute,
    "unmute": _mute,
    "arrived": _presence,
    "departed": _presence,
    "setMode": _set_mode,
    "resetEnergy": _reset_energy,
}
