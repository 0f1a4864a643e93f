"""Request guards: security headers, Host allow list, same-origin, content type, body cap, roles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tiles_edge.api.errors import EXCEPTION_HANDLERS
from tiles_edge.api.routes import RoleMount, RoleRoute, RouteSpec
from tiles_edge.auth.middleware import (
    CONTENT_SECURITY_POLICY,
    SecuredStarlette,
    security_middleware,
)
from tiles_edge.auth.passwords import PasswordHasher
from tiles_edge.auth.service import AuthOptions, AuthService
from tiles_edge.storage.sqlite import SqliteStorage

BASE_URL = "http://192.168.1.2:8080"
PASSWORD = "a long password"
REQUIRED_CSP = (
    "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


class App:
    """A small app behind the real middleware, recording which handlers ran."""

    def __init__(self, storage: SqliteStorage, web_root: Path, **options: Any) -> None:
        self.storage = storage
        self.calls: list[str] = []
        self.auth = AuthService(
            AuthOptions(max_body_bytes=1024, **options),
            hasher=PasswordHasher.insecure_for_tests(),
        )
        from starlette.staticfiles import StaticFiles

        specs = [
            RouteSpec("/api/open", ("GET", "POST"), self.echo, "anonymous", "open"),
            RouteSpec("/api/mine", ("GET",), self.echo, "user", "mine"),
            RouteSpec("/api/mine", ("POST",), self.echo, "user", "mine_post"),
            RouteSpec("/api/admin", ("GET", "DELETE"), self.echo, "admin", "admin"),
            RouteSpec("/api/text", ("GET",), self.text, "anonymous", "text"),
            RouteSpec("/api/boom", ("GET",), self.boom, "anonymous", "boom"),
            RouteSpec("/api/upload", ("POST",), self.echo, "user", "upload"),
        ]
        routes: list[Any] = [RoleRoute(spec) for spec in specs]
        # A route declared without a role, which must be denied to everyone.
        routes.append(Route("/api/forgotten", self.echo, methods=["GET"]))
        routes.append(
            RoleMount("/", StaticFiles(directory=web_root, html=True), "web", "anonymous")
        )
        self.app = SecuredStarlette(
            routes=routes,
            middleware=security_middleware(
                self.auth,
                max_body_bytes=1024,
                body_limits={"/api/upload": 4096},
                media_types={"/api/upload": ["image/png"]},
            ),
            exception_handlers=dict(EXCEPTION_HANDLERS),
        )

    async def echo(self, request: Request) -> Response:
        self.calls.append(request.url.path)
        body = await request.body()
        principal = request.state.principal
        return JSONResponse(
            {
                "size": len(body),
                "user": principal.username if principal else None,
            }
        )

    async def text(self, request: Request) -> Response:
        return PlainTextResponse("plain text")

    async def boom(self, request: Request) -> Response:
        raise ValueError("handler failed")

    def client(
        self,
        peer: str = "192.168.1.20",
        base_url: str = BASE_URL,
        raise_app_exceptions: bool = True,
        **kwargs: Any,
    ) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(
            app=self.app, client=(peer, 50000), raise_app_exceptions=raise_app_exceptions
        )
        return httpx.AsyncClient(transport=transport, base_url=base_url, **kwargs)

    async def signed_in(self, username: str, role: str = "user") -> str:
        """Create a user with a session and return the session token."""
        hashed = await self.auth.hasher.hash(PASSWORD)
        user = await self.storage.create_user(username=username, password_hash=hashed, role=role)
        token, _ = await self.auth.sessions.create(
            user, kind="password", ip_address="192.168.1.20", user_agent=None
        )
        return token


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    store = SqliteStorage(tmp_path / "tiles-edge.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>Tiles</title>")
    (root / "app.css").write_text("body { margin: 0 }")
    (root / "app.js").write_text("export {};")
    return root


@pytest.fixture
async def app(storage: SqliteStorage, web_root: Path) -> App:
    built = App(storage, web_root, allowed_hosts="tiles.example.net, .home.arpa")
    await built.auth.start(storage)
    return built


# Security headers


@pytest.mark.parametrize(
    ("method", "path", "headers", "expected_status"),
    [
        ("GET", "/api/open", {}, 200),
        ("GET", "/api/mine", {}, 401),
        ("GET", "/api/forgotten", {}, 401),
        ("GET", "/api/boom", {}, 500),
        ("GET", "/", {}, 200),
        ("GET", "/app.css", {}, 200),
        ("GET", "/app.js", {}, 200),
        ("GET", "/missing.png", {}, 404),
        ("GET", "/api/open", {"host": "evil.example"}, 400),
        ("POST", "/api/open", {"content-type": "text/plain"}, 415),
        ("POST", "/api/open", {"origin": "http://evil.example"}, 403),
        ("POST", "/api/open", {"content-length": "5000", "content-type": "application/json"}, 413),
    ],
)
async def test_security_headers_on_every_response(
    app: App, method: str, path: str, headers: dict[str, str], expected_status: int
) -> None:
    async with app.client(raise_app_exceptions=False) as client:
        reply = await client.request(method, path, headers=headers, content=b"{}")
    assert reply.status_code == expected_status
    csp = reply.headers["content-security-policy"]
    assert csp.startswith(REQUIRED_CSP)
    assert csp == CONTENT_SECURITY_POLICY
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] in ("no-referrer", "same-origin")
    assert reply.headers["x-frame-options"] == "DENY"
    content_type = reply.headers.get("content-type", "")
    if content_type.startswith(("text/", "application/javascript")):
        assert "charset=utf-8" in content_type


async def test_text_responses_get_charset(app: App) -> None:
    async with app.client() as client:
        page = await client.get("/")
        style = await client.get("/app.css")
        text = await client.get("/api/text")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"


# Host allow list


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("192.168.1.2:8080", True),
        ("[fe80::1]:8080", True),
        ("localhost:8080", True),
        ("tiles.example.net", True),
        ("TILES.example.net:8080", True),
        ("pi.home.arpa", True),
        ("evil.example", False),
        ("evil.example:8080", False),
        ("tiles.example.net.evil.example", False),
        ("home.arpa.evil.example", False),
        ("", False),
    ],
)
async def test_host_allow_list(app: App, host: str, allowed: bool) -> None:
    token = await app.signed_in("alice")
    async with app.client() as client:
        client.cookies.set("tiles_session", token)
        reply = await client.get("/api/mine", headers={"host": host})
    if allowed:
        assert reply.status_code == 200
    else:
        assert reply.status_code == 400
        assert reply.json()["error"]["code"] == "host_not_allowed"
        assert "set-cookie" not in reply.headers
        assert app.calls == []


async def test_rebinding_host_gets_no_cookie(app: App) -> None:
    await app.signed_in("alice")
    app.app.routes.insert(
        0, RoleRoute(RouteSpec("/api/login", ("POST",), _login, "anonymous", "l"))
    )
    async with app.client() as client:
        reply = await client.post(
            "/api/login", headers={"host": "evil.example", "origin": "http://evil.example"}
        )
    assert reply.status_code == 400
    assert "set-cookie" not in reply.headers


async def _login(request: Request) -> Response:
    response = JSONResponse({"ok": True})
    response.set_cookie("tiles_session", "x")
    return response


# Same origin for unsafe methods


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"origin": "http://192.168.1.2:8080"}, 200),
        ({"origin": "http://evil.example"}, 403),
        ({"origin": "http://192.168.1.2:8081"}, 403),
        ({"origin": "https://192.168.1.2:8080"}, 403),
        ({"origin": "null"}, 403),
        ({"referer": "http://192.168.1.2:8080/index.html"}, 200),
        ({"referer": "http://evil.example/page"}, 403),
        ({}, 403),
    ],
)
async def test_cookie_requests_need_same_origin(
    app: App, headers: dict[str, str], expected: int
) -> None:
    token = await app.signed_in("alice")
    async with app.client() as client:
        client.cookies.set("tiles_session", token)
        reply = await client.post("/api/mine", json={"a": 1}, headers=headers)
    assert reply.status_code == expected
    if expected == 403:
        assert reply.json()["error"]["code"] == "cross_origin"
        assert app.calls == []


async def test_bearer_without_origin_allowed(app: App, storage: SqliteStorage) -> None:
    app.calls.clear()
    user = await storage.create_user(username="script", password_hash=None)
    from tiles_edge.auth.tokens import hash_token, new_api_token

    token = new_api_token()
    await storage.create_api_token(user_id=user.id, name="t", token_hash=hash_token(token))
    async with app.client() as client:
        reply = await client.post(
            "/api/mine", json={"a": 1}, headers={"authorization": f"Bearer {token}"}
        )
        evil = await client.post(
            "/api/mine",
            json={"a": 1},
            headers={"authorization": f"Bearer {token}", "origin": "http://evil.example"},
        )
    assert reply.status_code == 200
    assert reply.json()["user"] == "script"
    assert evil.status_code == 403


async def test_login_csrf_blocked_without_cookie(app: App) -> None:
    async with app.client() as client:
        reply = await client.post(
            "/api/open", json={"a": 1}, headers={"origin": "http://evil.example"}
        )
        plain = await client.post("/api/open", json={"a": 1})
    assert reply.status_code == 403
    assert plain.status_code == 200


async def test_https_origin_behind_proxy(storage: SqliteStorage, web_root: Path) -> None:
    app = App(storage, web_root, trusted_proxies="192.168.1.1")
    await app.auth.start(storage)
    token = await app.signed_in("alice")
    async with app.client(peer="192.168.1.1") as client:
        client.cookies.set("__Host-tiles_session", token)
        headers = {
            "x-forwarded-for": "192.168.1.20",
            "x-forwarded-proto": "https",
            "host": "192.168.1.2",
        }
        same = await client.post(
            "/api/mine", json={}, headers={**headers, "origin": "https://192.168.1.2"}
        )
        downgraded = await client.post(
            "/api/mine", json={}, headers={**headers, "origin": "http://192.168.1.2"}
        )
    assert same.status_code == 200
    assert downgraded.status_code == 403


# JSON content type


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""],
)
async def test_non_json_body_rejected(app: App, content_type: str) -> None:
    token = await app.signed_in("alice")
    async with app.client(headers={"origin": BASE_URL}) as client:
        client.cookies.set("tiles_session", token)
        headers = {"content-type": content_type} if content_type else {}
        reply = await client.post("/api/mine", content=b'{"a": 1}', headers=headers)
    assert reply.status_code == 415
    assert reply.json()["error"]["code"] == "unsupported_media_type"
    assert app.calls == []


async def test_json_and_listed_types_accepted(app: App) -> None:
    token = await app.signed_in("alice")
    async with app.client(headers={"origin": BASE_URL}) as client:
        client.cookies.set("tiles_session", token)
        json_reply = await client.post(
            "/api/mine",
            content=b'{"a": 1}',
            headers={"content-type": "application/json; charset=utf-8"},
        )
        image = await client.post(
            "/api/upload", content=b"\x89PNG", headers={"content-type": "image/png"}
        )
        image_elsewhere = await client.post(
            "/api/mine", content=b"\x89PNG", headers={"content-type": "image/png"}
        )
        empty = await client.post("/api/mine")
    assert json_reply.status_code == 200
    assert image.status_code == 200
    assert image_elsewhere.status_code == 415
    assert empty.status_code == 200


# Body size


async def test_declared_body_over_cap(app: App) -> None:
    async with app.client() as client:
        reply = await client.post("/api/open", content=b"x" * 2000, headers=_json())
    assert reply.status_code == 413
    assert "1024 bytes" in reply.json()["error"]["message"]
    assert app.calls == []


async def test_streamed_body_over_cap(app: App) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 200

    async with app.client() as client:
        reply = await client.post("/api/open", content=chunks(), headers=_json())
        small = await client.post("/api/open", content=b"x" * 1000, headers=_json())
    assert reply.status_code == 413
    assert small.status_code == 200
    assert small.json()["size"] == 1000


async def test_body_limit_per_prefix(app: App) -> None:
    token = await app.signed_in("alice")
    async with app.client(headers={"origin": BASE_URL}) as client:
        client.cookies.set("tiles_session", token)
        fits = await client.post(
            "/api/upload", content=b"x" * 3000, headers={"content-type": "image/png"}
        )
        too_big = await client.post(
            "/api/upload", content=b"x" * 5000, headers={"content-type": "image/png"}
        )
    assert fits.status_code == 200
    assert too_big.status_code == 413


def _json() -> dict[str, str]:
    return {"content-type": "application/json"}


# Roles


@pytest.mark.parametrize(
    ("method", "path", "who", "expected"),
    [
        ("GET", "/api/open", None, 200),
        ("GET", "/api/open", "user", 200),
        ("GET", "/api/mine", None, 401),
        ("GET", "/api/mine", "user", 200),
        ("GET", "/api/mine", "admin", 200),
        ("GET", "/api/admin", None, 401),
        ("GET", "/api/admin", "user", 403),
        ("GET", "/api/admin", "admin", 200),
        ("DELETE", "/api/admin", "user", 403),
        ("GET", "/api/forgotten", None, 401),
        ("GET", "/api/forgotten", "user", 403),
        ("GET", "/api/forgotten", "admin", 403),
        ("GET", "/", None, 200),
        ("HEAD", "/api/mine", None, 401),
        ("HEAD", "/api/mine", "user", 200),
        # Right path, wrong method: the router returns 405 to every principal.
        ("PUT", "/api/admin", None, 405),
        ("PUT", "/api/admin", "user", 405),
    ],
)
async def test_role_table(app: App, method: str, path: str, who: str | None, expected: int) -> None:
    async with app.client(headers={"origin": BASE_URL}) as client:
        if who is not None:
            client.cookies.set("tiles_session", await app.signed_in(who, role=who))
        reply = await client.request(method, path)
    assert reply.status_code == expected
    if expected in (401, 403, 405):
        assert all(not call.startswith(path) for call in app.calls)


async def test_denied_request_clears_stale_cookie(app: App) -> None:
    async with app.client() as client:
        client.cookies.set("tiles_session", "A" * 43)
        reply = await client.get("/api/mine")
    assert reply.status_code == 401
    assert "tiles_session=;" in reply.headers["set-cookie"]
    assert "Max-Age=0" in reply.headers["set-cookie"]


async def test_malformed_authorization_rejected(app: App) -> None:
    async with app.client() as client:
        basic = await client.get("/api/open", headers={"authorization": "Basic YTpi"})
        empty = await client.get("/api/open", headers={"authorization": "Bearer "})
    assert basic.status_code == 401
    assert empty.status_code == 401
    assert basic.json()["error"]["code"] == "invalid_token"


async def test_principal_stored_on_state(app: App) -> None:
    token = await app.signed_in("alice")
    async with app.client() as client:
        client.cookies.set("tiles_session", token)
        reply = await client.get("/api/mine")
        anonymous = await client.get("/api/open", cookies={"tiles_session": ""})
    assert reply.json()["user"] == "alice"
    assert anonymous.json()["user"] is None
