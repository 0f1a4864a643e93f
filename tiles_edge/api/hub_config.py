"""Admin routes that configure hubs from the dashboard; every change applies without a restart.

- ``GET /api/hub-config``: every hub with its token masked to the last 4 characters, its
  webhook URL (token included, for pasting into the Maker API app) and its live health.
- ``POST /api/hub-config``: add a hub, or edit the one with this ``hubId``; an empty or
  missing ``token`` on edit keeps the stored one.
- ``DELETE /api/hub-config/{hub_id}``, ``POST /api/hub-config/order`` with ``{"order": [ids]}``.
- ``POST /api/hub-config/test``: the bounded connection test of ``tiles_edge.hubs.hub_test``.
- ``POST /api/hub-config/{hub_id}/webhook/register`` and ``…/webhook/rotate``.
- ``GET``/``POST /api/hub-config/mesh``: the admin's Hub Mesh twin overrides.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.errors import json_type_name, read_json_object
from tiles_edge.api.services import services_of
from tiles_edge.errors import ApiError, HubError
from tiles_edge.hubs.hub_test import check_hub_connection, describe_failure, register_post_url
from tiles_edge.hubs.maker_api import MakerApiClient
from tiles_edge.hubs.model import TRANSPORTS, HubConfig
from tiles_edge.hubs.webhook_tokens import (
    current_token,
    ensure_webhook_secrets,
    rotate_webhook_token,
    webhook_path,
)
from tiles_edge.storage.records import HUB_ID_PATTERN

logger = logging.getLogger(__name__)

MAX_HUBS = 16
MAX_HUB_NAME = 64
MAX_ORDER = 10_000
TWIN_OVERRIDE_TYPE = "twin_override"
WEBHOOK_WARNING = (
    "A Maker API app sends its events to one URL only. Registering this URL replaces any URL "
    "set before, so another integration that uses the same Maker API app stops receiving "
    "events. Use a Maker API app of its own for this dashboard."
)

# host, IPv4 address or [IPv6] address, then an optional port; no path, query or user.
_HOST = re.compile(
    r"(?:https?://)?"
    r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?"
    r"|\[[0-9A-Fa-f:.]{2,45}\])"
    r"(?::(?P<port>\d{1,5}))?/?"
)
_APP_ID = re.compile(r"\d{1,10}")
_TOKEN = re.compile(r"[A-Za-z0-9._~-]{8,128}")
_DEVICE_UID = re.compile(r"(?P<hub>[a-z0-9][a-z0-9_-]{0,31}):(?P<device>[A-Za-z0-9_.-]{1,64})")
_HUB_FIELDS = {"hubId", "name", "host", "appId", "token", "transport", "order", "active"}


# Reading and changing hubs.


async def list_hub_configs(request: Request) -> Response:
    services = services_of(request)
    storage = _storage(request)
    health = {item.hub_id: item for item in _manager(request).health()}
    hubs = []
    for hub in await storage.list_hub_configs():
        entry = _public_config(hub)
        entry["webhookUrl"] = await _webhook_url(request, hub.hub_id)
        state = health.get(hub.hub_id)
        entry["health"] = state.to_json() if state is not None else None
        entry["lastWebhookAt"] = state.last_webhook_at if state is not None else None
        hubs.append(entry)
    return JSONResponse(
        {
            "hubs": hubs,
            "webhookWarning": WEBHOOK_WARNING,
            "webhookSilenceS": getattr(services.settings, "hub_webhook_silence_s", None),
        }
    )


async def save_hub_config(request: Request) -> Response:
    body = await read_json_object(request, _max_body(request))
    storage = _storage(request)
    hub_id = _hub_id(body.get("hubId"))
    existing = await storage.get_hub_config(hub_id)
    hubs = await storage.list_hub_configs()
    if existing is None and len(hubs) >= MAX_HUBS:
        raise ApiError(
            409, "too_many_hubs", f"at most {MAX_HUBS} hubs can be configured; remove one first"
        )
    hub = _hub_from_body(body, existing, next_order=len(hubs))
    await storage.save_hub_config(hub)
    services = services_of(request)
    services.logs.masker.add(hub.token)
    if services.webhook_tokens is not None:
        await ensure_webhook_secrets(storage, services.webhook_tokens, [hub.hub_id])
        services.logs.masker.add(await current_token(storage, services.webhook_tokens, hub_id))
    await _apply_hubs(request, "hub_saved", hub_id)
    logger.info("hub %r %s through the dashboard", hub_id, "updated" if existing else "added")
    reply = _public_config(hub)
    reply["webhookUrl"] = await _webhook_url(request, hub_id)
    return JSONResponse(
        {"hub": reply, "created": existing is None}, status_code=201 if existing is None else 200
    )


async def delete_hub_config(request: Request) -> Response:
    hub_id = _path_hub_id(request)
    storage = _storage(request)
    hub = await storage.get_hub_config(hub_id)
    if hub is None or not await storage.delete_hub_config(hub_id):
        raise ApiError(404, "hub_not_found", f"no hub with id {hub_id!r}")
    await _apply_hubs(request, "hub_removed", hub_id)
    logger.info("hub %r removed through the dashboard", hub_id)
    reply: dict[str, Any] = {"deleted": hub_id}
    if hub.transport == "webhook":
        # Left registered, the Maker API app would post every event to a dead URL for ever.
        reply["webhookCleared"] = await _clear_webhook(hub)
        if not reply["webhookCleared"]:
            reply["warning"] = (
                "the hub could not be reached to clear its webhook URL: clear the URL in the "
                "Maker API app on the hub"
            )
    return JSONResponse(reply)


async def _clear_webhook(hub: HubConfig) -> bool:
    client = MakerApiClient(hub, timeout_s=5.0)
    try:
        await client.clear_post_url()
    except HubError as err:
        logger.warning("could not clear the webhook URL of hub %r: %s", hub.hub_id, err.message)
        return False
    finally:
        await client.aclose()
    return True


async def reorder_hubs(request: Request) -> Response:
    body = await read_json_object(request, _max_body(request))
    _reject_unknown(body, {"order"})
    order = body.get("order")
    if not isinstance(order, list) or not all(isinstance(item, str) for item in order):
        raise ApiError(400, "invalid_field", "order: send a list of hub ids, first hub first")
    storage = _storage(request)
    hubs = {hub.hub_id: hub for hub in await storage.list_hub_configs()}
    if sorted(order) != sorted(hubs) or len(set(order)) != len(order):
        raise ApiError(
            400,
            "invalid_field",
            f"order: list every configured hub exactly once ({', '.join(sorted(hubs)) or 'none'})",
        )
    for position, hub_id in enumerate(order):
        hub = hubs[hub_id]
        if hub.order != position:
            hub.order = position
            await storage.save_hub_config(hub)
    await _apply_hubs(request, "hubs_reordered", None)
    return JSONResponse({"order": order})


async def check_hub(request: Request) -> Response:
    """Test a host, app id and token; ``hubId`` alone (or with changes) reuses stored values."""
    body = await read_json_object(request, _max_body(request))
    _reject_unknown(body, {"hubId", "host", "appId", "token"})
    stored: HubConfig | None = None
    if body.get("hubId") not in (None, ""):
        hub_id = _hub_id(body.get("hubId"))
        stored = await _storage(request).get_hub_config(hub_id)
        if stored is None and not body.get("token"):
            raise ApiError(404, "hub_not_found", f"hubId: no hub with id {hub_id!r} is stored")
    host = _host(
        body.get("host") if body.get("host") not in (None, "") else _stored(stored, "host")
    )
    app_id = _app_id(
        body.get("appId") if body.get("appId") not in (None, "") else _stored(stored, "app_id")
    )
    token = body.get("token")
    token = _token(token if token not in (None, "") else _stored(stored, "token"))
    result = await check_hub_connection(host, app_id, token)
    return JSONResponse(result.to_json())


# Webhooks.


async def register_webhook(request: Request) -> Response:
    hub = await _stored_hub(request)
    url = await _webhook_url(request, hub.hub_id)
    if url is None:
        raise ApiError(503, "starting", "the server is starting; retry in a few seconds")
    fetch = await register_post_url(hub, url)
    failure = describe_failure(fetch, hub)
    if failure is not None:
        raise ApiError(502, "webhook_register_failed", f"registering the webhook failed: {failure}")
    logger.info("registered the webhook URL on hub %r", hub.hub_id)
    return JSONResponse({"registered": True, "webhookUrl": url, "warning": WEBHOOK_WARNING})


async def rotate_webhook(request: Request) -> Response:
    hub = await _stored_hub(request)
    services = services_of(request)
    if services.webhook_tokens is None:
        raise ApiError(503, "starting", "the server is starting; retry in a few seconds")
    token = await rotate_webhook_token(_storage(request), services.webhook_tokens, hub.hub_id)
    services.logs.masker.add(token)
    return JSONResponse(
        {
            "hubId": hub.hub_id,
            "webhookUrl": await _webhook_url(request, hub.hub_id),
            "message": "the old webhook URL stopped working: register the new one on the hub",
        }
    )


# Hub Mesh overrides.


async def load_twin_overrides(storage: Any) -> dict[str, str | None]:
    """Read the household's twin overrides: ``{twin: source}`` merges, ``{uid: None}`` splits."""
    rows = await storage.list_device_selections(None, TWIN_OVERRIDE_TYPE)
    overrides: dict[str, str | None] = {}
    for row in rows:
        value = row.value
        if value is None or (isinstance(value, str) and _DEVICE_UID.fullmatch(value)):
            overrides[row.device_uid] = value
    return overrides


async def list_mesh_overrides(request: Request) -> Response:
    overrides = await load_twin_overrides(_storage(request))
    twins = {
        device.uid: device.twin_of
        for device in _manager(request).native_devices()
        if device.twin_of is not None
    }
    return JSONResponse(
        {
            "overrides": [
                {"uid": uid, "action": "split" if source is None else "merge", "source": source}
                for uid, source in sorted(overrides.items())
            ],
            "twins": twins,
        }
    )


async def change_mesh_override(request: Request) -> Response:
    """Apply one override: ``split`` keeps ``uid`` apart, ``merge`` folds it into ``source``,
    ``clear`` returns ``uid`` to the automatic match."""
    body = await read_json_object(request, _max_body(request))
    _reject_unknown(body, {"action", "uid", "source"})
    action = body.get("action")
    if action not in ("split", "merge", "clear"):
        raise ApiError(400, "invalid_field", "action: use split, merge or clear")
    storage = _storage(request)
    manager = _manager(request)
    uid = _device_uid(body.get("uid"), "uid", manager)
    if action == "clear":
        await storage.delete_device_selection(None, TWIN_OVERRIDE_TYPE, uid)
    elif action == "split":
        await storage.set_device_selection(None, TWIN_OVERRIDE_TYPE, uid, None)
    else:
        source = _device_uid(body.get("source"), "source", manager)
        if source.split(":", 1)[0] == uid.split(":", 1)[0]:
            raise ApiError(
                400,
                "invalid_field",
                "source: pick a device on another hub, because a Hub Mesh twin and its source "
                "are always on different hubs",
            )
        twin_kind = manager.get_device(uid).kind
        source_kind = manager.get_device(source).kind
        if twin_kind != source_kind:
            # Commands fail over from a source to its twin, so both must take the same ones.
            raise ApiError(
                400,
                "invalid_field",
                f"source: {uid} is a {twin_kind} tile and {source} a {source_kind} tile; merge "
                "only two copies of the same device",
            )
        await storage.set_device_selection(None, TWIN_OVERRIDE_TYPE, uid, source)
    manager.set_twin_overrides(await load_twin_overrides(storage))
    logger.info("twin override for %s: %s", uid, action)
    return await list_mesh_overrides(request)


# Helpers.


def _storage(request: Request) -> Any:
    storage = services_of(request).storage
    if storage is None:
        raise ApiError(503, "starting", "the server is starting; retry in a few seconds")
    return storage


def _manager(request: Request) -> Any:
    manager = services_of(request).manager
    if manager is None:
        raise ApiError(503, "starting", "the server is starting; retry in a few seconds")
    return manager


def _max_body(request: Request) -> int:
    value = getattr(services_of(request).settings, "max_body_bytes", 65536)
    return value if isinstance(value, int) else 65536


async def _apply_hubs(request: Request, reason: str, hub_id: str | None) -> None:
    """Hand the stored hub list to the manager and tell open dashboards to re-fetch devices."""
    services = services_of(request)
    await _manager(request).replace_hubs(await _storage(request).list_hub_configs())
    services.bus.publish("resync", {"reason": reason, "hubId": hub_id})


async def _webhook_url(request: Request, hub_id: str) -> str | None:
    services = services_of(request)
    if services.webhook_tokens is None:
        return None
    token = await current_token(_storage(request), services.webhook_tokens, hub_id)
    base = str(getattr(services.settings, "webhook_base_url", "") or "").rstrip("/")
    if not base:
        # The address this admin reached the server on; webhook_base_url overrides it when
        # the hub must use another one.
        base = f"{request.url.scheme}://{request.url.netloc}"
    return base + webhook_path(token)


def _public_config(hub: HubConfig) -> dict[str, Any]:
    return {
        "hubId": hub.hub_id,
        "name": hub.name,
        "host": hub.host,
        "appId": hub.app_id,
        "tokenHint": mask_token(hub.token),
        "transport": hub.transport,
        "order": hub.order,
        "active": hub.active,
    }


def mask_token(token: str) -> str:
    """Show the last 4 characters of a token, and nothing of a token shorter than 8."""
    return "••••" + token[-4:] if len(token) >= 8 else "••••"


async def _stored_hub(request: Request) -> HubConfig:
    hub_id = _path_hub_id(request)
    hub: HubConfig | None = await _storage(request).get_hub_config(hub_id)
    if hub is None:
        raise ApiError(404, "hub_not_found", f"no hub with id {hub_id!r}")
    return hub


def _path_hub_id(request: Request) -> str:
    hub_id = str(request.path_params.get("hub_id", ""))
    if not HUB_ID_PATTERN.fullmatch(hub_id):
        raise ApiError(404, "hub_not_found", f"no hub with id {hub_id[:40]!r}")
    return hub_id


def _stored(hub: HubConfig | None, attribute: str) -> Any:
    return getattr(hub, attribute) if hub is not None else None


def _reject_unknown(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise ApiError(
            400,
            "unknown_field",
            f"unknown field(s) {shown}: send only {', '.join(sorted(allowed))}",
        )


def _hub_from_body(body: dict[str, Any], existing: HubConfig | None, next_order: int) -> HubConfig:
    _reject_unknown(body, _HUB_FIELDS)

    def pick(key: str, attribute: str, default: Any = None) -> Any:
        value = body.get(key)
        if value is None and existing is not None:
            return getattr(existing, attribute)
        return default if value is None else value

    token = body.get("token")
    if token in (None, "") and existing is not None:
        token = existing.token
    elif token in (None, ""):
        raise ApiError(400, "invalid_field", "token: paste the Maker API access token")
    return HubConfig(
        hub_id=_hub_id(body.get("hubId")),
        name=_name(pick("name", "name")),
        host=_host(pick("host", "host")),
        app_id=_app_id(pick("appId", "app_id")),
        token=_token(token),
        transport=_transport(pick("transport", "transport", "eventsocket")),
        order=_order(pick("order", "order", next_order)),
        active=_active(pick("active", "active", True)),
    )


def _hub_id(value: Any) -> str:
    if not isinstance(value, str) or not HUB_ID_PATTERN.fullmatch(value):
        raise ApiError(
            400,
            "invalid_field",
            "hubId: use 1 to 32 characters, a lower-case letter or digit first, then "
            "lower-case letters, digits, '_' or '-'",
        )
    return value


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "invalid_field", "name: enter a name for the hub, such as Main Hub")
    name = " ".join(value.split())
    if len(name) > MAX_HUB_NAME or any(ord(char) < 32 for char in value):
        raise ApiError(
            400, "invalid_field", f"name: use at most {MAX_HUB_NAME} characters on one line"
        )
    return name


def _host(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "invalid_field", "host: enter the hub's address, such as 192.168.1.20")
    host = value.strip()
    match = _HOST.fullmatch(host)
    port = match.group("port") if match else None
    if match is None or (port is not None and not 1 <= int(port) <= 65535) or len(host) > 255:
        raise ApiError(
            400,
            "invalid_field",
            f"host: {host[:60]!r} is not an address: use a name or IP address with an optional "
            ":port, such as 192.168.1.20 or hubitat.local, without a path",
        )
    return host.rstrip("/")


def _app_id(value: Any) -> str:
    text = (
        str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    )
    if not _APP_ID.fullmatch(text):
        raise ApiError(
            400,
            "invalid_field",
            "appId: use the number after /apps/api/ in the Maker API app's URLs, such as 12",
        )
    return text


def _token(value: Any) -> str:
    if not isinstance(value, str) or not _TOKEN.fullmatch(value.strip()):
        raise ApiError(
            400,
            "invalid_field",
            "token: paste the access token shown in the Maker API app (8 to 128 letters, "
            "digits and '-')",
        )
    return value.strip()


def _transport(value: Any) -> Any:
    if value not in TRANSPORTS:
        raise ApiError(400, "invalid_field", f"transport: use one of {', '.join(TRANSPORTS)}")
    return value


def _order(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ORDER:
        raise ApiError(400, "invalid_field", f"order: use a whole number from 0 to {MAX_ORDER}")
    return value


def _active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ApiError(
            400, "invalid_field", f"active: use true or false, not {json_type_name(value)}"
        )
    return value


def _device_uid(value: Any, field: str, manager: Any) -> str:
    match = _DEVICE_UID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ApiError(
            400, "invalid_field", f"{field}: use a device uid <hubId>:<deviceId>, such as main:12"
        )
    if match.group("hub") not in manager.hub_names():
        raise ApiError(400, "invalid_field", f"{field}: no configured hub {match.group('hub')!r}")
    return str(value)


# Static paths come before "/api/hub-config/{hub_id}" so "order", "test" and "mesh" are
# never read as hub ids.
ROUTES: tuple[tuple[str, tuple[str, ...], Any, str, str], ...] = (
    ("/api/hub-config", ("GET",), list_hub_configs, "admin", "hub_config"),
    ("/api/hub-config", ("POST",), save_hub_config, "admin", "hub_config_save"),
    ("/api/hub-config/order", ("POST",), reorder_hubs, "admin", "hub_config_order"),
    ("/api/hub-config/test", ("POST",), check_hub, "admin", "hub_config_test"),
    ("/api/hub-config/mesh", ("GET",), list_mesh_overrides, "admin", "hub_config_mesh"),
    ("/api/hub-config/mesh", ("POST",), change_mesh_override, "admin", "hub_config_mesh_change"),
    ("/api/hub-config/{hub_id}", ("DELETE",), delete_hub_config, "admin", "hub_config_delete"),
    (
        "/api/hub-config/{hub_id}/webhook/register",
        ("POST",),
        register_webhook,
        "admin",
        "hub_config_webhook_register",
    ),
    (
        "/api/hub-config/{hub_id}/webhook/rotate",
        ("POST",),
        rotate_webhook,
        "admin",
        "hub_config_webhook_rotate",
    ),
)
