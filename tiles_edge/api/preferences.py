"""Routes for the current user's preferences.

- ``GET /api/user/preferences``: ``{category: {key: value}}``
- ``GET /api/user/preferences/{category}``: ``{key: value}`` (``{}`` for an unused category)
- ``GET /api/user/preferences/{category}/{key}``: ``{"category", "key", "value"}``, or 404
- ``PUT /api/user/preferences/{category}/{key}`` with ``{"value": <any JSON>}``: stores it and
  returns ``{"category", "key", "value"}``
- ``DELETE /api/user/preferences/{category}/{key}``: ``{"deleted": true|false}``, where false
  means there was nothing to delete, so a retried delete still succeeds
- ``POST /api/user/preferences/migrate`` with ``{"preferences": {category: {key: value}}}``:
  imports a browser's localStorage snapshot; values the server already has win, so a second
  call imports nothing. Returns ``{"imported", "skipped", "rejectedCount", "rejected"}``.

A tab may send an ``X-Client-Id`` header with a change. The ``preferences`` event of that
change carries it as ``clientId``, so the tab can recognise its own echo. Names, sizes and
events are described in ``tiles_edge.preferences``.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.errors import read_json_object
from tiles_edge.api.principal import current_user_id
from tiles_edge.errors import ApiError
from tiles_edge.preferences import (
    MAX_MIGRATE_BODY_BYTES,
    PreferenceService,
    validate_client_id,
)

CLIENT_ID_HEADER = "x-client-id"
DEFAULT_MAX_BODY_BYTES = 65536


def preference_service(request: Request) -> PreferenceService:
    """Return the app's PreferenceService, made from its storage and bus on first use."""
    services = request.app.state.services
    service = getattr(services, "preferences", None)
    if isinstance(service, PreferenceService):
        return service
    service = getattr(request.app.state, "preference_service", None)
    if isinstance(service, PreferenceService):
        return service
    if getattr(services, "storage", None) is None:
        raise ApiError(503, "starting", "the server is still starting: try again in a moment")
    service = PreferenceService(services.storage, services.bus)
    request.app.state.preference_service = service
    return service


def request_client_id(request: Request) -> str | None:
    return validate_client_id(request.headers.get(CLIENT_ID_HEADER))


def _max_body_bytes(request: Request) -> int:
    settings = getattr(request.app.state.services, "settings", None)
    value = getattr(settings, "max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    return value if isinstance(value, int) else DEFAULT_MAX_BODY_BYTES


async def list_preferences(request: Request) -> Response:
    user_id = current_user_id(request)
    return JSONResponse(await preference_service(request).get_all(user_id))


async def get_category(request: Request) -> Response:
    user_id = current_user_id(request)
    category = request.path_params["category"]
    if category == MIGRATE_SEGMENT:
        # This path is also the import route, which takes POST only.
        raise HTTPException(405, headers={"Allow": "POST"})
    return JSONResponse(await preference_service(request).get_category(user_id, category))


async def preference_entry(request: Request) -> Response:
    """Dispatch GET, PUT and DELETE on ``/api/user/preferences/{category}/{key}``."""
    if request.method == "PUT":
        return await put_preference(request)
    if request.method == "DELETE":
        return await delete_preference(request)
    return await get_preference(request)


async def get_preference(request: Request) -> Response:
    user_id = current_user_id(request)
    category = request.path_params["category"]
    key = request.path_params["key"]
    value = await preference_service(request).get(user_id, category, key)
    return JSONResponse({"category": category, "key": key, "value": value})


async def put_preference(request: Request) -> Response:
    user_id = current_user_id(request)
    category = request.path_params["category"]
    key = request.path_params["key"]
    client_id = request_client_id(request)
    service = preference_service(request)
    # Names first, so a bad name is reported even when the body is bad as well.
    service.validate_names(category, key)
    body = await read_json_object(request, _max_body_bytes(request))
    if "value" not in body:
        raise ApiError(
            400, "missing_value", 'the body must be {"value": <any JSON value>}; "value" is missing'
        )
    value: Any = body["value"]
    await service.set(user_id, category, key, value, client_id)
    return JSONResponse({"category": category, "key": key, "value": value})


async def delete_preference(request: Request) -> Response:
    user_id = current_user_id(request)
    category = request.path_params["category"]
    key = request.path_params["key"]
    client_id = request_client_id(request)
    deleted = await preference_service(request).delete(user_id, category, key, client_id)
    return JSONResponse({"deleted": deleted})


async def migrate_preferences(request: Request) -> Response:
    user_id = current_user_id(request)
    body = await read_json_object(request, MAX_MIGRATE_BODY_BYTES)
    if "preferences" not in body:
        raise ApiError(
            400,
            "missing_preferences",
            'the body must be {"preferences": {category: {key: value}}}; "preferences" is missing',
        )
    result = await preference_service(request).migrate(user_id, body["preferences"])
    return JSONResponse(result.to_json())


ROLE = "user"
MIGRATE_SEGMENT = "migrate"
MIGRATE_PATH = "/api/user/preferences/migrate"

# Body caps that differ from the app-wide max_body_bytes, by path prefix, for the app's
# body-limit middleware. A localStorage snapshot may be larger than an ordinary JSON body.
BODY_LIMITS: dict[str, int] = {MIGRATE_PATH: MAX_MIGRATE_BODY_BYTES}

# Rows in the field order of tiles_edge.api.routes.RouteSpec: path, methods, endpoint, role,
# name. The migrate route comes first because its path also matches the category route.
ROUTES: tuple[tuple[str, tuple[str, ...], Any, str, str], ...] = (
    ("/api/user/preferences", ("GET",), list_preferences, ROLE, "preferences"),
    (MIGRATE_PATH, ("POST",), migrate_preferences, ROLE, "preferences_migrate"),
    ("/api/user/preferences/{category}", ("GET",), get_category, ROLE, "preferences_category"),
    (
        "/api/user/preferences/{category}/{key}",
        ("GET", "PUT", "DELETE"),
        preference_entry,
        ROLE,
        "preference",
    ),
)
