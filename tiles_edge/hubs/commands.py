"""Checks on a device command before anything is sent to a hub.

The command must be one the device lists, and its arguments must match the argument types
from ``/devices/{id}/commands`` when those are known.
"""

from __future__ import annotations

import math
import re
from typing import Any

from tiles_edge.errors import ApiError
from tiles_edge.hubs.model import CommandSpec, Device

_NUMERIC_TEXT = re.compile(r"\s*-?(?:\d+(?:\.\d*)?|\.\d+)\s*")
_NUMBER_TYPES = frozenset({"NUMBER", "DECIMAL", "INTEGER"})
_MAP_TYPES = frozenset({"COLOR_MAP", "JSON_OBJECT"})
_TEXT_TYPES = frozenset({"ENUM", "STRING", "TEXT"})


def check_command(device: Device, command: str, args: list[Any]) -> list[Any]:
    """Return ``args`` checked against ``device``'s ``command``, trailing nulls dropped.

    Raises ``ApiError`` 400: ``unknown_command`` when the device does not list the command,
    ``missing_argument``, ``invalid_argument`` or ``too_many_arguments`` when the arguments
    do not fit the known argument types.
    """
    spec = device.commands.get(command)
    if spec is None:
        available = ", ".join(sorted(device.commands)) or "none"
        raise ApiError(
            400,
            "unknown_command",
            f"device {device.uid} ({device.label}) has no command {command!r}; "
            f"its commands are: {available}",
        )
    args = list(args)
    while args and args[-1] is None:
        args.pop()
    if not spec.arg_types_known:
        for position, arg in enumerate(args, start=1):
            _check_untyped(device, spec, position, arg)
        return args
    return _check_typed(device, spec, args)


def _check_typed(device: Device, spec: CommandSpec, args: list[Any]) -> list[Any]:
    types = spec.arg_types
    if len(args) > len(types):
        raise ApiError(
            400,
            "too_many_arguments",
            f"command {spec.name!r} of device {device.uid} takes at most {len(types)} "
            f"argument(s) ({_signature(types)}), got {len(args)}",
        )
    # NOTE: the Maker API does not say which arguments are optional. Hubitat drivers make the
    # first argument required (setLevel(level, duration), setColorTemperature(kelvin, …)),
    # so only the first one is enforced here. The hub rejects any other omission itself.
    if types and not args:
        raise ApiError(
            400,
            "missing_argument",
            f"command {spec.name!r} of device {device.uid} needs argument 1 of type "
            f"{types[0]} ({_signature(types)})",
        )
    for position, (arg, arg_type) in enumerate(zip(args, types, strict=False), start=1):
        if arg is None:
            raise ApiError(
                400,
                "missing_argument",
                f"argument {position} of command {spec.name!r} is null but must be of type "
                f"{arg_type}",
            )
        if not _fits(arg, arg_type.upper()):
            raise ApiError(
                400,
                "invalid_argument",
                f"argument {position} of command {spec.name!r} must be {_describe(arg_type)} "
                f"(got {_json_type(arg)} {_preview(arg)})",
            )
    return args


def _check_untyped(device: Device, spec: CommandSpec, position: int, arg: Any) -> None:
    if arg is None or isinstance(arg, list):
        raise ApiError(
            400,
            "invalid_argument",
            f"argument {position} of command {spec.name!r} of device {device.uid} must be a "
            f"string, number, boolean or object (got {_json_type(arg)})",
        )


def _fits(arg: Any, arg_type: str) -> bool:
    if arg_type in _NUMBER_TYPES:
        if isinstance(arg, bool):
            return False
        if isinstance(arg, int):
            return True
        if isinstance(arg, float):
            return math.isfinite(arg)
        return isinstance(arg, str) and _NUMERIC_TEXT.fullmatch(arg) is not None
    if arg_type in _MAP_TYPES:
        return isinstance(arg, dict)
    if arg_type in _TEXT_TYPES:
        return isinstance(arg, str)
    # An argument type we do not know (BOOL, DATE, …): any scalar or object goes to the hub.
    return not isinstance(arg, list)


def _describe(arg_type: str) -> str:
    upper = arg_type.upper()
    if upper in _NUMBER_TYPES:
        return f"a number or numeric string ({arg_type})"
    if upper in _MAP_TYPES:
        return f"an object ({arg_type})"
    if upper in _TEXT_TYPES:
        return f"a string ({arg_type})"
    return f"a value of type {arg_type}"


def _signature(types: list[str]) -> str:
    return ", ".join(types) if types else "no arguments"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
