"""Hub webhooks: ``POST /api/webhook/event/{token}`` and ``POST /api/webhook/mode/{token}``.

Every rejection, whether of the token or of the body, gets the same 404 reply, so the
endpoint reveals nothing to a prober about which tokens exist. The reason is logged without
the token. An accepted event gets 202 at once and is applied afterwards in a background
task. Webhooks only update state: nothing here sends a command to a hub.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.errors import error_response, parse_json_object, read_body
from tiles_edge.api.services import services_of
from tiles_edge.errors import ApiError

logger = logging.getLogger(__name__)

# Seconds between two log lines about rejected webhooks; the ones in between are counted.
REJECT_LOG_INTERVAL_S = 60.0

_MAX_TEXT = 4096


class _RejectLog:
    """Logs the first rejection, then at most one summary per interval."""

    def __init__(self) -> None:
        self.suppressed = 0
        self.last_logged = float("-inf")

    def record(self, reason: str) -> None:
        now = time.monotonic()
        if now - self.last_logged < REJECT_LOG_INTERVAL_S:
            self.suppressed += 1
            return
        extra = f" ({self.suppressed} more since the last report)" if self.suppressed else ""
        logger.warning("rejected a webhook request: %s%s", reason, extra)
        self.suppressed = 0
        self.last_logged = now


_reject_log = _RejectLog()


def _rejected() -> Response:
    return error_response(
        404,
        "webhook_rejected",
        "unknown webhook URL, or a body that is not one JSON hub event of at most the size "
        "limit sent as application/json; copy the URL from 'tiles-edge hub list'",
    )


async def event_webhook(request: Request) -> Response:
    return await _handle(request, "event")


async def mode_webhook(request: Request) -> Response:
    return await _handle(request, "mode")


async def _handle(request: Request, kind: str) -> Response:
    services = services_of(request)
    storage = services.storage
    manager = services.manager
    if storage is None or manager is None or services.bus.closed:
        return error_response(503, "starting", "the server is not accepting webhooks right now")
    try:
        hashes = await storage.get_hub_webhook_secrets()
    except Exception as err:  # a storage failure must not look like a bad token
        logger.error("cannot read webhook token hashes: %s", err)
        return error_response(503, "storage_unavailable", "the database is unavailable")
    hub_id = (
        services.webhook_tokens.match(request.path_params["token"], hashes)
        if (services.webhook_tokens is not None)
        else None
    )
    if hub_id is None:
        _reject_log.record(f"unknown token on the {kind} webhook")
        return _rejected()

    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        _reject_log.record(f"hub {hub_id}: content type {media_type[:80] or 'none'!r}")
        return _rejected()
    try:
        body = parse_json_object(await read_body(request, services.settings.max_body_bytes))
        event = normalize_webhook_body(body, kind)
    except ApiError as err:
        _reject_log.record(f"hub {hub_id}: {err.message}")
        return _rejected()

    services.spawn(_apply(manager, hub_id, event), name=f"webhook-{hub_id}")
    return JSONResponse({"accepted": True}, status_code=202)


async def _apply(manager: Any, hub_id: str, event: dict[str, Any]) -> None:
    result = manager.handle_webhook(hub_id, event)
    if hasattr(result, "__await__"):
        await result


def normalize_webhook_body(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """Check a webhook body and return it as one ``{"content": {...}}`` event.

    Accepts the Maker API wrapper, a bare event, and on the mode webhook also ``{"mode":
    "<name>"}``. Raises ApiError naming the first problem.
    """
    if "content" in body:
        content = body["content"]
        if not isinstance(content, dict):
            raise ApiError(400, "invalid_webhook", '"content" must be a JSON object')
    elif kind == "mode" and "name" not in body and isinstance(body.get("mode"), str):
        content = {"name": "mode", "value": body["mode"], "deviceId": None}
    else:
        content = body

    name = content.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise ApiError(400, "invalid_webhook", '"name" must be a non-empty string')
    if "value" not in content:
        raise ApiError(400, "invalid_webhook", '"value" is missing')
    value = content["value"]
    if isinstance(value, dict | list):
        raise ApiError(400, "invalid_webhook", '"value" must be a string, number, boolean or null')
    device_id = content.get("deviceId")
    if device_id is not None and (
        isinstance(device_id, bool) or not isinstance(device_id, str | int)
    ):
        raise ApiError(400, "invalid_webhook", '"deviceId" must be a string, a number or null')
    if kind == "mode" and name != "mode":
        raise ApiError(400, "invalid_webhook", 'the mode webhook takes only "mode" events')
    for key in ("displayName", "descriptionText", "unit", "type", "data"):
        field = content.get(key)
        if field is not None and not isinstance(field, str | int | float):
            raise ApiError(400, "invalid_webhook", f'"{key}" must be a string or null')
        if isinstance(field, str) and len(field) > _MAX_TEXT:
            raise ApiError(400, "invalid_webhook", f'"{key}" is longer than {_MAX_TEXT} characters')
    return {"content": content}
