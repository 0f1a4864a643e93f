"""Device routes: the folded and native device lists, device detail, and commands."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.errors import json_type_name, read_json_object
from tiles_edge.api.services import manager_of, services_of
from tiles_edge.errors import ApiError
from tiles_edge.hubs.model import Device

# A command name as Maker API lists them: a Groovy method name.
MAX_COMMAND_LENGTH = 64
MAX_ARGS = 16


def device_json(device: Device, manager: Any) -> dict[str, Any]:
    """Serialize ``device`` for the API. Hub tokens are never part of it."""
    hub = manager.hub_config(device.hub_id)
    return {
        "uid": device.uid,
        "hubId": device.hub_id,
        "hubName": hub.name if hub is not None else device.hub_id,
        "hubIp": _host_of(hub.base_url) if hub is not None else None,
        "deviceId": device.device_id,
        "label": device.label,
        "name": device.name,
        "type": device.type,
        "room": device.room,
        "kind": device.kind,
        "sensorType": device.sensor_type,
        "capabilities": list(device.capabilities),
        "attributes": {name: attr.to_json(name) for name, attr in device.attributes.items()},
        "commands": sorted(device.commands),
        "hasPowerMeter": device.has_power_meter,
        "outdoor": device.outdoor,
        "twinOf": device.twin_of,
        "twins": list(device.twins),
        "online": bool(manager.device_online(device)),
        "hueScale": device.hue_scale,
        "fanSpeeds": device.fan_speeds,
        "lockCodesReadable": device.lock_codes_readable,
        "lastActivity": device.last_activity,
        # The device's page in the hub's own web interface, port included.
        "hubUrl": f"{hub.base_url}/device/edit/{device.device_id}" if hub is not None else None,
    }


def _host_of(base_url: str) -> str | None:
    try:
        return urlsplit(base_url).hostname
    except ValueError:
        return None


async def list_devices(request: Request) -> Response:
    manager = manager_of(request)
    return JSONResponse({"devices": [device_json(d, manager) for d in manager.devices()]})


async def list_native_devices(request: Request) -> Response:
    manager = manager_of(request)
    devices = manager.native_devices()
    return JSONResponse({"devices": [device_json(d, manager) for d in devices]})


async def device_info(request: Request) -> Response:
    manager = manager_of(request)
    device: Device = manager.get_device(request.path_params["uid"])
    body = device_json(device, manager)
    body["commands"] = [
        {"name": spec.name, "argTypes": list(spec.arg_types), "argTypesKnown": spec.arg_types_known}
        for spec in sorted(device.commands.values(), key=lambda spec: spec.name)
    ]
    return JSONResponse({"device": body})


async def device_command(request: Request) -> Response:
    services = services_of(request)
    body = await read_json_object(request, services.settings.max_body_bytes)
    command, args = parse_command_body(body)
    result = await manager_of(request).send_command(request.path_params["uid"], command, args)
    return JSONResponse(result if isinstance(result, dict) else {"ok": True})


def parse_command_body(body: dict[str, Any]) -> tuple[str, list[Any]]:
    """Read ``{"command", "args"}`` or the older ``{"command", "value"}``.

    ``value`` as a scalar is one argument, as a list the arguments, absent or null none.
    """
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        shown = "missing" if command is None else json_type_name(command)
        raise ApiError(
            400,
            "invalid_command",
            f'"command" must be the name of a device command as a string (got {shown})',
        )
    command = command.strip()
    if len(command) > MAX_COMMAND_LENGTH:
        raise ApiError(
            400, "invalid_command", f'"command" is longer than {MAX_COMMAND_LENGTH} characters'
        )
    if "args" in body and "value" in body:
        raise ApiError(400, "invalid_args", 'send either "args" or "value", not both')
    if "args" in body:
        args = body["args"]
        if args is None:
            args = []
        if not isinstance(args, list):
            raise ApiError(
                400,
                "invalid_args",
                f'"args" must be an array of arguments (got {json_type_name(args)})',
            )
    else:
        value = body.get("value")
        if value is None:
            args = []
        elif isinstance(value, list):
            args = value
        else:
            args = [value]
    if len(args) > MAX_ARGS:
        raise ApiError(400, "invalid_args", f"a command takes at most {MAX_ARGS} arguments")
    for index, arg in enumerate(args):
        # setColor takes one JSON map, so an object is a valid argument; arrays never are.
        if arg is None or isinstance(arg, list):
            raise ApiError(
                400,
                "invalid_args",
                f"argument {index + 1} must be a string, number, boolean or object "
                f"(got {json_type_name(arg)})",
            )
    return command, args
