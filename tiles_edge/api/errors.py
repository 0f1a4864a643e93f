"""The one error shape of the API, its exception handlers, and bounded JSON body parsing.

Every API failure is ``{"error": {"code": "...", "message": "..."}}`` with a 4xx or 5xx
status; the message names the field or value at fault and what to do about it.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from tiles_edge.errors import ApiError

logger = logging.getLogger(__name__)

JSON_MEDIA_TYPE = "application/json"

# Starlette raises HTTPException for routing failures; these codes name them for clients.
_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif status == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    response = error_response(status, _HTTP_CODES.get(status, "http_error"), message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def handle_unexpected_error(request: Request, exc: Exception) -> Response:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        500, "internal_error", "the server failed to handle this request; see the server log"
    )


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected_error,
}


async def read_body(request: Request, max_bytes: int) -> bytes:
    """Read the request body, raising 413 as soon as it is longer than ``max_bytes``.

    A declared ``Content-Length`` over the limit is rejected before anything is read.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(max_bytes)
            chunks.append(chunk)
    except ClientDisconnect as err:
        raise ApiError(400, "client_disconnected", "the client closed the request body") from err
    return b"".join(chunks)


def _too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413, "body_too_large", f"the request body is larger than {max_bytes} bytes; send less"
    )


def require_json_content_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        shown = media_type or "none"
        raise ApiError(
            415,
            "unsupported_media_type",
            f"the body must be sent as Content-Type: {JSON_MEDIA_TYPE} (got {shown})",
        )


async def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """Parse the body as one JSON object after checking its content type and size."""
    require_json_content_type(request)
    body = await read_body(request, max_bytes)
    return parse_json_object(body)


def parse_json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise ApiError(400, "invalid_json", "the request body is empty; send a JSON object")
    try:
        value = json.loads(body, parse_float=_parse_finite_float, parse_constant=_reject_constant)
    except UnicodeDecodeError as err:
        raise ApiError(400, "invalid_json", "the request body is not UTF-8 text") from err
    except json.JSONDecodeError as err:
        raise ApiError(
            400, "invalid_json", f"the request body is not valid JSON: {err.msg}"
        ) from err
    except (ValueError, RecursionError) as err:
        # Non-finite numbers, integers past Python's digit limit, or nesting past the
        # recursion limit: valid JSON text that no route accepts.
        raise ApiError(
            400, "invalid_json", f"the request body has a value this server rejects: {err}"
        ) from err
    if not isinstance(value, dict):
        raise ApiError(
            400,
            "invalid_body",
            f"the request body must be a JSON object, not {json_type_name(value)}",
        )
    return value


def _parse_finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"number {text[:40]} is out of range")
    return number


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_type_name(value: Any) -> str:
    """Name a parsed JSON value's type as JSON calls it: object, array, string, ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
