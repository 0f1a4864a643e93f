"""The signed-in user's device selections.

- ``GET /api/device-selections[?type=]``: ``{"selections": {type: [{uid, value, sortOrder}]}}``
- ``PUT /api/device-selections/{type}`` with ``{"items": [{"uid", "value"?}]}``: replaces
  that selection, in the order sent
- ``DELETE /api/device-selections/{type}`` and ``DELETE /api/device-selections/{type}/{uid}``

The types are ``preferred_lock`` (one lock), ``temperature_indoor`` and
``temperature_outdoor`` (the sensors each reading averages) and ``linked_devices`` (a device
with the uids shown next to it). Household-wide rows (no user) belong to the hub settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.errors import read_json_object
from tiles_edge.api.principal import current_user_id
from tiles_edge.api.services import services_of
from tiles_edge.errors import ApiError

_DEVICE_UID = re.compile(r"(?P<hub>[a-z0-9][a-z0-9_-]{0,31}):[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True, slots=True)
class SelectionType:
    max_items: int
    takes_links: bool = False


SELECTION_TYPES: dict[str, SelectionType] = {
    "preferred_lock": SelectionType(max_items=1),
    "temperature_indoor": SelectionType(max_items=50),
    "temperature_outdoor": SelectionType(max_items=50),
    "linked_devices": SelectionType(max_items=200, takes_links=True),
}
MAX_LINKS = 20


async def list_selections(request: Request) -> Response:
    user_id = current_user_id(request)
    wanted = request.query_params.get("type")
    if wanted is not None:
        _selection_type(wanted)
    rows = await _storage(request).list_device_selections(user_id, wanted)
    selections: dict[str, list[dict[str, Any]]] = {
        name: [] for name in SELECTION_TYPES if wanted in (None, name)
    }
    for row in rows:
        if row.selection_type in selections:
            selections[row.selection_type].append(_row_json(row))
    return JSONResponse({"selections": selections})


async def replace_selection(request: Request) -> Response:
    user_id = current_user_id(request)
    name = request.path_params["selection_type"]
    spec = _selection_type(name)
    body = await read_json_object(request, _max_body(request))
    unknown = sorted(set(body) - {"items"})
    if unknown:
        raise ApiError(400, "unknown_field", f"unknown field(s) {unknown[:5]}: send only items")
    items = _items(body.get("items"), spec, _hub_ids(request))
    storage = _storage(request)
    kept = {uid for uid, _ in items}
    for row in await storage.list_device_selections(user_id, name):
        if row.device_uid not in kept:
            await storage.delete_device_selection(user_id, name, row.device_uid)
    for position, (uid, value) in enumerate(items):
        await storage.set_device_selection(user_id, name, uid, value, position)
    rows = await storage.list_device_selections(user_id, name)
    return JSONResponse({"type": name, "items": [_row_json(row) for row in rows]})


async def delete_selection(request: Request) -> Response:
    user_id = current_user_id(request)
    name = request.path_params["selection_type"]
    _selection_type(name)
    storage = _storage(request)
    uid = request.path_params.get("uid")
    if uid is not None:
        deleted = await storage.delete_device_selection(user_id, name, uid)
        return JSONResponse({"deleted": 1 if deleted else 0})
    count = 0
    for row in await storage.list_device_selections(user_id, name):
        count += bool(await storage.delete_device_selection(user_id, name, row.device_uid))
    return JSONResponse({"deleted": count})


async def _dispatch_type(request: Request) -> Response:
    if request.method == "PUT":
        return await replace_selection(request)
    return await delete_selection(request)


def _row_json(row: Any) -> dict[str, Any]:
    return {"uid": row.device_uid, "value": row.value, "sortOrder": row.sort_order}


def _selection_type(name: str) -> SelectionType:
    spec = SELECTION_TYPES.get(name)
    if spec is None:
        raise ApiError(
            404,
            "unknown_selection_type",
            f"no selection type {name[:40]!r}: use one of {', '.join(SELECTION_TYPES)}",
        )
    return spec


def _items(raw: Any, spec: SelectionType, hubs: set[str]) -> list[tuple[str, Any]]:
    if not isinstance(raw, list):
        raise ApiError(400, "invalid_field", 'items: send a list of {"uid": ...} objects')
    if len(raw) > spec.max_items:
        raise ApiError(400, "invalid_field", f"items: at most {spec.max_items} device(s)")
    items: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        where = f"items[{index}]"
        if not isinstance(item, dict) or set(item) - {"uid", "value"}:
            raise ApiError(400, "invalid_field", f"{where}: send an object with uid and value")
        uid = _uid(item.get("uid"), f"{where}.uid", hubs)
        if uid in seen:
            raise ApiError(400, "invalid_field", f"{where}.uid: {uid} is listed twice")
        seen.add(uid)
        value = item.get("value")
        if spec.takes_links:
            if not isinstance(value, list) or len(value) > MAX_LINKS:
                raise ApiError(
                    400,
                    "invalid_field",
                    f"{where}.value: send a list of at most {MAX_LINKS} linked device uids",
                )
            value = [_uid(link, f"{where}.value[{n}]", hubs) for n, link in enumerate(value)]
        elif value is not None:
            raise ApiError(400, "invalid_field", f"{where}.value: this selection takes no value")
        items.append((uid, value))
    return items


def _uid(value: Any, where: str, hubs: set[str]) -> str:
    match = _DEVICE_UID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ApiError(
            400, "invalid_field", f"{where}: use a device uid <hubId>:<deviceId>, such as main:12"
        )
    if match.group("hub") not in hubs:
        raise ApiError(400, "invalid_field", f"{where}: no configured hub {match.group('hub')!r}")
    return str(value)


def _hub_ids(request: Request) -> set[str]:
    manager = services_of(request).manager
    return set(manager.hub_names()) if manager is not None else set()


def _storage(request: Request) -> Any:
    storage = services_of(request).storage
    if storage is None:
        raise ApiError(503, "starting", "the server is starting; retry in a few seconds")
    return storage


def _max_body(request: Request) -> int:
    value = getattr(services_of(request).settings, "max_body_bytes", 65536)
    return value if isinstance(value, int) else 65536


ROUTES: tuple[tuple[str, tuple[str, ...], Any, str, str], ...] = (
    ("/api/device-selections", ("GET",), list_selections, "user", "device_selections"),
    (
        "/api/device-selections/{selection_type}",
        ("PUT", "DELETE"),
        _dispatch_type,
        "user",
        "device_selection",
    ),
    (
        "/api/device-selections/{selection_type}/{uid}",
        ("DELETE",),
        delete_selection,
        "user",
        "device_selection_uid",
    ),
)
