"""Routes for the current user's tile backgrounds.

- ``GET /api/user/backgrounds``: ``{uid: background}``, where a background is
  ``{"type": "image", "url", "mime", "width", "height", "bytes", "updatedAt"}`` or
  ``{"type": "color", "color": "#rrggbb", "updatedAt"}``; uid ``default`` applies to every
  tile that has none of its own.
- ``POST /api/user/backgrounds/{uid}`` sets one background and returns it. The body is one of:

  - the raw image bytes, sent with ``Content-Type: image/png``, ``image/jpeg``,
    ``image/webp``, ``image/gif`` or ``application/octet-stream``. The declared type only
    selects this form, because the stored type comes from the bytes.
  - ``application/json`` ``{"color": "#rrggbb"}`` (``#rgb`` is accepted).
  - ``application/json`` ``{"dataUrl": "data:image/...;base64,..."}``, for a browser that
    has read the image as a data URL.

  Too large: 413. Not a PNG, JPEG, WebP or GIF by content, or another Content-Type: 415.
- ``GET /api/user/backgrounds/{uid}/image``: the image bytes with their sniffed type and
  ``X-Content-Type-Options: nosniff``. With ``?v=`` equal to the current version (the URL
  in the listing carries it), the reply may be cached for a year, because a new upload gets
  a new ``v``.
- ``DELETE /api/user/backgrounds/{uid}``: ``{"deleted": true|false}``.

Every change publishes a ``preferences`` event with category ``backgrounds``, the uid as
key and the new background as value (``deleted: true`` on delete).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.errors import parse_json_object, read_body
from tiles_edge.api.preferences import request_client_id
from tiles_edge.api.principal import current_user_id
from tiles_edge.backgrounds import MAX_IMAGE_BYTES, BackgroundStore, validate_background_uid
from tiles_edge.errors import ApiError

RAW_IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/webp", "image/gif", "application/octet-stream"}
)
JSON_TYPE = "application/json"
# Room in a JSON body beside the base64 text: the keys, the data URL prefix, whitespace.
JSON_OVERHEAD_BYTES = 4096
DATA_URL_PATTERN = re.compile(r"data:[A-Za-z0-9.+/-]*(?:;[^,;]*)*;base64,", re.ASCII)
YEAR_S = 365 * 24 * 3600
PATH_PREFIX = "/api/user/backgrounds/"

# Body types the upload route accepts beside JSON, by path prefix, in the form the app's
# Content-Type middleware takes.
MEDIA_TYPES: dict[str, frozenset[str]] = {PATH_PREFIX: RAW_IMAGE_TYPES}


def upload_body_limit(max_upload_bytes: int) -> int:
    """Return the largest upload body: an image as a base64 data URL in JSON.

    Base64 turns every 3 bytes into 4 characters. A raw image body larger than
    ``max_upload_bytes`` but under this limit is rejected by the route itself.
    """
    return max_upload_bytes * 4 // 3 + JSON_OVERHEAD_BYTES


def body_limits(max_upload_bytes: int) -> dict[str, int]:
    """Return the body caps of these routes by path prefix, for the app's body-limit middleware."""
    return {PATH_PREFIX: upload_body_limit(max_upload_bytes)}


def background_store(request: Request) -> BackgroundStore:
    """Return the app's BackgroundStore, made from its storage and settings on first use."""
    services = request.app.state.services
    store = getattr(services, "backgrounds", None)
    if isinstance(store, BackgroundStore):
        return store
    store = getattr(request.app.state, "background_store", None)
    if isinstance(store, BackgroundStore):
        return store
    if getattr(services, "storage", None) is None:
        raise ApiError(503, "starting", "the server is still starting: try again in a moment")
    settings = services.settings
    max_bytes = getattr(settings, "max_upload_bytes", MAX_IMAGE_BYTES)
    store = BackgroundStore(
        services.storage, settings.state_dir, services.bus, max_bytes=int(max_bytes)
    )
    request.app.state.background_store = store
    return store


async def list_backgrounds(request: Request) -> Response:
    user_id = current_user_id(request)
    return JSONResponse(await background_store(request).list(user_id))


async def set_background(request: Request) -> Response:
    user_id = current_user_id(request)
    uid = validate_background_uid(request.path_params["uid"])
    client_id = request_client_id(request)
    store = background_store(request)
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    if media_type in RAW_IMAGE_TYPES:
        data = await read_body(request, store.max_bytes)
        shaped = await store.set_image(user_id, uid, data, client_id)
        return JSONResponse(shaped)

    if media_type == JSON_TYPE:
        limit = upload_body_limit(store.max_bytes)
        body = parse_json_object(await read_body(request, limit))
        if "color" in body:
            shaped = await store.set_color(user_id, uid, body["color"], client_id)
        elif "dataUrl" in body:
            data = decode_data_url(body["dataUrl"], store.max_bytes)
            shaped = await store.set_image(user_id, uid, data, client_id)
        else:
            raise ApiError(
                400,
                "missing_background",
                'the JSON body must contain "color" ("#rrggbb") or "dataUrl" '
                '("data:image/...;base64,...")',
            )
        return JSONResponse(shaped)

    raise ApiError(
        415,
        "unsupported_media_type",
        f"send the image bytes as image/png, image/jpeg, image/webp, image/gif or "
        f"application/octet-stream, or JSON as {JSON_TYPE} (got {media_type or 'none'})",
    )


def decode_data_url(data_url: object, max_bytes: int) -> bytes:
    """Decode a base64 ``data:`` URL, ignoring its declared media type like any other."""
    if not isinstance(data_url, str):
        raise ApiError(400, "invalid_data_url", "dataUrl must be a string 'data:...;base64,...'")
    match = DATA_URL_PATTERN.match(data_url)
    if match is None:
        raise ApiError(
            400, "invalid_data_url", "dataUrl must be a base64 data URL 'data:image/...;base64,...'"
        )
    encoded = data_url[match.end() :]
    if len(encoded) > (max_bytes + 2) // 3 * 4 + 4:
        raise ApiError(
            413, "image_too_large", f"the image is larger than the maximum of {max_bytes} bytes"
        )
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ApiError(
            400, "invalid_data_url", "dataUrl is invalid: its data is not base64 text"
        ) from err


async def get_background_image(request: Request) -> Response:
    user_id = current_user_id(request)
    uid = request.path_params["uid"]
    stored = await background_store(request).image(user_id, uid)
    etag = f'"{stored.file_id}"'
    if request.query_params.get("v") == stored.file_id:
        cache_control = f"private, max-age={YEAR_S}, immutable"
    else:
        cache_control = "private, no-cache"
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if etag in _if_none_match(request):
        return Response(status_code=304, headers=headers)
    try:
        data = await asyncio.to_thread(stored.path.read_bytes)
    except FileNotFoundError as err:
        # Deleted or replaced between the lookup and the read.
        raise ApiError(404, "background_not_found", f"no background image for '{uid}'") from err
    return Response(data, media_type=stored.mime, headers=headers)


def _if_none_match(request: Request) -> set[str]:
    header = request.headers.get("if-none-match", "")
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


async def delete_background(request: Request) -> Response:
    user_id = current_user_id(request)
    uid = request.path_params["uid"]
    client_id = request_client_id(request)
    deleted = await background_store(request).delete(user_id, uid, client_id)
    return JSONResponse({"deleted": deleted})


async def background_entry(request: Request) -> Response:
    """Dispatch POST and DELETE on ``/api/user/backgrounds/{uid}``."""
    if request.method == "DELETE":
        return await delete_background(request)
    return await set_background(request)


ROLE = "user"

# Rows in the field order of tiles_edge.api.routes.RouteSpec: path, methods, endpoint, role,
# name.
ROUTES: tuple[tuple[str, tuple[str, ...], Any, str, str], ...] = (
    ("/api/user/backgrounds", ("GET",), list_backgrounds, ROLE, "backgrounds"),
    ("/api/user/backgrounds/{uid}", ("POST", "DELETE"), background_entry, ROLE, "background"),
    (
        "/api/user/backgrounds/{uid}/image",
        ("GET",),
        get_background_image,
        ROLE,
        "background_image",
    ),
)
