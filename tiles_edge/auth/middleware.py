"""Pure ASGI middleware guarding every request, one class per concern.

Outermost first, the order ``security_middleware`` builds: security headers (on every
response, errors included), the Host allow list, the same-origin check for unsafe methods,
principal resolution and the route's role, the JSON content type, the body size cap.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tiles_edge.auth.cookies import (
    HTTP_COOKIE_NAME,
    HTTPS_COOKIE_NAME,
    clear_session_cookie,
)
from tiles_edge.auth.networks import parse_address
from tiles_edge.auth.principal import Principal, session_owner
from tiles_edge.auth.service import AuthService, BearerRejectedError
from tiles_edge.errors import ApiError, StorageError

logger = logging.getLogger(__name__)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
JSON_MEDIA_TYPE = "application/json"
# Paths that check their own body: hub webhooks reply the same way to every rejection.
DEFAULT_SELF_CHECKED_PREFIXES: tuple[str, ...] = ("/api/webhook/",)


async def _send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    extra_headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _headers(scope: Scope) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", ())
    }


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response and a charset to text responses."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = list(SECURITY_HEADERS)
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = self._complete(list(message.get("headers", [])))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _complete(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in headers}
        result = [header for header in headers if header[0].lower() != b"content-type"]
        for name, value in headers:
            if name.lower() == b"content-type":
                result.append((name, _with_charset(value)))
        result.extend(header for header in self.headers if header[0] not in present)
        return result


def _with_charset(content_type: bytes) -> bytes:
    media_type = _media_type(content_type.decode("latin-1"))
    textual = media_type.startswith("text/") or media_type in (
        "application/javascript",
        "image/svg+xml",
        "application/manifest+json",
    )
    if textual and b"charset" not in content_type.lower():
        return content_type + b"; charset=utf-8"
    return content_type


class SecuredStarlette(Starlette):
    """Starlette with the security headers outside its ``ServerErrorMiddleware``.

    Middleware passed as ``middleware=`` runs inside ``ServerErrorMiddleware``, so the 500
    reply to an unhandled exception would otherwise go out without the security headers.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack())


def default_allowed_hosts() -> set[str]:
    """Return this machine's names: localhost, the host name, its ``.local`` form and FQDN."""
    names = {"localhost"}
    hostname = socket.gethostname().lower()
    if hostname:
        names.update({hostname, f"{hostname}.local"})
        short = hostname.split(".", 1)[0]
        names.update({short, f"{short}.local"})
    return names


def _split_host(host: str) -> str:
    """Return the host part of a Host header value, lower-case and without port or brackets."""
    value = host.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


class HostCheckMiddleware:
    """Reject requests whose Host is not this machine (a DNS rebinding defence) with 400.

    IP literals are always accepted: DNS rebinding needs a host name that the attacker's
    DNS server points at this machine, so a Host that is an address cannot come from it.
    Names are accepted when they are this machine's own (see ``default_allowed_hosts``) or
    listed in ``allowed_hosts``; ``.example.org`` accepts every name under example.org.
    """

    def __init__(self, app: ASGIApp, *, allowed_hosts: str | Iterable[str] = "") -> None:
        self.app = app
        extras = allowed_hosts.split(",") if isinstance(allowed_hosts, str) else allowed_hosts
        self.names = default_allowed_hosts()
        self.suffixes: list[str] = []
        for item in extras:
            name = item.strip().lower()
            if name.startswith("."):
                self.suffixes.append(name)
            elif name:
                self.names.add(_split_host(name))

    def is_allowed(self, host_header: str | None) -> bool:
        if not host_header:
            return False
        host = _split_host(host_header).rstrip(".")
        if parse_address(host) is not None:
            return True
        return host in self.names or any(host.endswith(suffix) for suffix in self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = _headers(scope).get("host")
        if self.is_allowed(host):
            await self.app(scope, receive, send)
            return
        logger.info("rejected a request for host %r", (host or "")[:100])
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await _send_error(
            send,
            400,
            "host_not_allowed",
            f"host {(host or '')[:100]!r} is not served here: open the dashboard by this "
            "machine's address or name, or add the name to the allowed_hosts setting",
        )


class OriginCheckMiddleware:
    """Require a same-origin ``Origin`` (``Referer`` as fallback) on unsafe methods.

    A cross-origin ``Origin`` or ``Referer`` is rejected with 403 whether or not a cookie is
    sent, which also stops login CSRF. A request with neither header is rejected only when
    it carries a session cookie: scripts using a bearer token send neither.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: AuthService,
        exempt_prefixes: Sequence[str] = DEFAULT_SELF_CHECKED_PREFIXES,
    ) -> None:
        self.app = app
        self.auth = auth
        self.exempt_prefixes = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or scope["path"].startswith(self.exempt_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        client = self.auth.client_address(scope)
        https = self.auth.is_https(scope, client)
        origin = headers.get("origin")
        source = origin if origin and origin != "null" else headers.get("referer")
        if source:
            allowed = _same_origin(source, headers.get("host", ""), https)
        else:
            allowed = origin != "null" and not _has_session_cookie(headers.get("cookie", ""))
        if allowed:
            await self.app(scope, receive, send)
            return
        self.auth.security_log.event(
            "request_denied",
            outcome="cross_origin",
            address=client,
            method=scope["method"],
            origin=(source or "none")[:100],
        )
        await _send_error(
            send,
            403,
            "cross_origin",
            "this request must come from a page of this dashboard (the Origin header does "
            "not match the Host): reload the page and try again",
        )


def _same_origin(source: str, host_header: str, https: bool) -> bool:
    try:
        parts = urlsplit(source)
        port = parts.port
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return False
    # A TLS-terminating proxy must be listed in trusted_proxies, or its https origins fail.
    if scheme != ("https" if https else "http"):
        return False
    expected_host, expected_port = _host_and_port(host_header, scheme)
    actual_port = port
    if actual_port is None:
        actual_port = 443 if scheme == "https" else 80
    return parts.hostname.lower() == expected_host and actual_port == expected_port


def _host_and_port(host_header: str, scheme: str) -> tuple[str, int | None]:
    default = 443 if scheme == "https" else 80
    try:
        parts = urlsplit(f"//{host_header.strip()}")
        port = parts.port
    except ValueError:
        return "", None
    return (parts.hostname or "").lower(), port if port is not None else default


def _has_session_cookie(cookie_header: str) -> bool:
    names = {pair.strip().partition("=")[0].strip() for pair in cookie_header.split(";")}
    return HTTP_COOKIE_NAME in names or HTTPS_COOKIE_NAME in names


class AuthMiddleware:
    """Resolve the principal and enforce the role of the route the router will pick.

    The route is found exactly as Starlette's router finds it: the first full match wins.
    A matched route without a role is denied to everyone and logged. With only a partial
    match (right path, wrong method) the request passes on, so the router returns 405.
    The principal is stored as ``request.state.principal`` and, for sessions, the stream
    owner as ``request.state.session_id``.
    """

    def __init__(
        self, app: ASGIApp, *, auth: AuthService, routes: Sequence[BaseRoute] | None = None
    ) -> None:
        self.app = app
        self.auth = auth
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = self.auth.client_address(scope)
        https = self.auth.is_https(scope, client)
        headers = _headers(scope)
        state = scope.setdefault("state", {})
        state["client_address"] = client
        state["https"] = https

        try:
            principal = await self.auth.authenticate(scope, client, https)
        except BearerRejectedError as err:
            self.auth.security_log.event(
                "token_use", outcome="rejected", address=client, reason=str(err)
            )
            await _send_error(
                send,
                401,
                "invalid_token",
                "the bearer token is invalid, revoked or malformed: create a new API token",
                [(b"www-authenticate", b'Bearer error="invalid_token"')],
            )
            return
        except (ApiError, StorageError) as err:
            logger.warning("could not check the credentials of a request: %s", err)
            await _send_error(
                send, 503, "auth_unavailable", "sign-in is unavailable; retry in a few seconds"
            )
            return

        state["principal"] = principal
        if principal is not None and principal.session_id is not None:
            state["session_id"] = session_owner(principal.session_id)

        route, role = self._route_role(scope)
        denial = _deny_reason(route, role, principal)
        if denial is None:
            await self.app(scope, receive, send)
            return

        status, code, message = denial
        route_path = getattr(route, "path", scope["path"]) or "/"
        self.auth.security_log.event(
            "request_denied",
            outcome=code,
            user=principal.username if principal else None,
            address=client,
            method=scope.get("method", "WEBSOCKET"),
            route=route_path,
        )
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        extra: list[tuple[bytes, bytes]] = []
        if status == 401 and _has_session_cookie(headers.get("cookie", "")):
            extra.append((b"set-cookie", clear_session_cookie(https=https).encode()))
        await _send_error(send, status, code, message, extra)

    def _route_role(self, scope: Scope) -> tuple[BaseRoute | None, str | None]:
        routes = self.routes
        if routes is None:
            app = scope.get("app")
            routes = getattr(getattr(app, "router", None), "routes", ())
        for route in routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route, getattr(route, "role", None)
        return None, "anonymous"


def _deny_reason(
    route: BaseRoute | None, role: str | None, principal: Principal | None
) -> tuple[int, str, str] | None:
    """Return (status, code, message) when the request must be denied, else None."""
    if role == "anonymous":
        return None
    if role not in ("user", "admin"):
        logger.error("route %s has no role and is denied to everyone", getattr(route, "path", "?"))
        if principal is None:
            return 401, "not_signed_in", "sign in to use this route"
        return 403, "forbidden", "this route is not available to any role"
    if principal is None:
        return 401, "not_signed_in", "sign in to use this route"
    if role == "admin" and principal.role != "admin":
        return 403, "admin_only", "this route needs an admin account"
    return None


class JsonContentTypeMiddleware:
    """Reject unsafe API requests whose body is not ``application/json`` with 415.

    This runs before any handler reads the body, so a cross-site form or ``text/plain``
    request carrying valid JSON is never parsed. A request without a body needs no
    Content-Type. ``media_types`` lists other types accepted under a path prefix, such
    as raw image uploads.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        media_types: Mapping[str, Iterable[str]] | None = None,
        exempt_prefixes: Sequence[str] = DEFAULT_SELF_CHECKED_PREFIXES,
    ) -> None:
        self.app = app
        self.media_types = {
            prefix: frozenset(item.lower() for item in items)
            for prefix, items in (media_types or {}).items()
        }
        self.exempt_prefixes = tuple(exempt_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not path.startswith("/api/")
            or path.startswith(self.exempt_prefixes)
        ):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        media_type = _media_type(headers.get("content-type", ""))
        if not media_type and not _has_body(headers):
            await self.app(scope, receive, send)
            return
        accepted = {JSON_MEDIA_TYPE}
        for prefix, extra in self.media_types.items():
            if path.startswith(prefix):
                accepted |= extra
        if media_type in accepted:
            await self.app(scope, receive, send)
            return
        await _send_error(
            send,
            415,
            "unsupported_media_type",
            f"the body must be sent as Content-Type: {JSON_MEDIA_TYPE} "
            f"(got {media_type[:80] or 'none'})",
        )


def _has_body(headers: Mapping[str, str]) -> bool:
    if "transfer-encoding" in headers:
        return True
    length = headers.get("content-length", "0").strip()
    return not (length.isdigit() and int(length) == 0)


class _BodyTooLargeError(Exception):
    pass


class BodyLimitMiddleware:
    """Cap request bodies: 413 for a declared or streamed body over the limit.

    ``limits`` gives larger (or smaller) caps under path prefixes; the longest prefix wins.
    A body that grows past the cap while a handler reads it raises inside the handler's
    ``receive``. This middleware then returns 413 unless a response has already started.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.limits = sorted((limits or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _headers(scope).get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            await _send_too_large(send, limit)
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLargeError
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLargeError:
            if started:
                raise
            await _send_too_large(send, limit)


async def _send_too_large(send: Send, limit: int) -> None:
    await _send_error(
        send,
        413,
        "body_too_large",
        f"the request body is larger than {limit} bytes; send less",
    )


def security_middleware(
    auth: AuthService,
    *,
    max_body_bytes: int,
    body_limits: Mapping[str, int] | None = None,
    media_types: Mapping[str, Iterable[str]] | None = None,
    routes: Sequence[BaseRoute] | None = None,
    hsts: bool = False,
) -> list[Middleware]:
    """Return the middleware list for ``Starlette(middleware=...)``, outermost first."""
    return [
        Middleware(SecurityHeadersMiddleware, hsts=hsts),
        Middleware(HostCheckMiddleware, allowed_hosts=auth.options.allowed_hosts),
        Middleware(OriginCheckMiddleware, auth=auth),
        Middleware(AuthMiddleware, auth=auth, routes=routes),
        Middleware(JsonContentTypeMiddleware, media_types=media_types),
        Middleware(BodyLimitMiddleware, max_body_bytes=max_body_bytes, limits=body_limits),
    ]
