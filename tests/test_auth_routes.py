"""The role of every route in the real route table, checked for every kind of principal.

``EXPECTED_ROLES`` must have one row per path and method; a route added without a row, or
with a role different from its row, fails ``test_every_route_has_a_row``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from tiles_edge.api import auth as auth_api
from tiles_edge.api.routes import RoleRoute, RouteSpec, build_routes, route_role
from tiles_edge.auth.middleware import AuthMiddleware
from tiles_edge.auth.networks import TrustedNetwork
from tiles_edge.auth.passwords import PasswordHasher
from tiles_edge.auth.security_settings import SecuritySettings
from tiles_edge.auth.service import AuthOptions, AuthService
from tiles_edge.auth.tokens import hash_token, new_api_token
from tiles_edge.storage.sqlite import SqliteStorage

CATCH_ALL = "/api/{rest:path}"

EXPECTED_ROLES: dict[tuple[str, str], str] = {
    ("/health", "GET"): "anonymous",
    ("/api/status", "GET"): "user",
    ("/api/logs", "GET"): "admin",
    ("/api/devices", "GET"): "user",
    ("/api/devices/native", "GET"): "user",
    ("/api/device/{uid}/info", "GET"): "user",
    ("/api/device/{uid}/command", "POST"): "user",
    ("/api/modes", "GET"): "user",
    ("/api/modes/{hub_id}/{mode_id}", "POST"): "user",
    ("/api/hsm", "GET"): "user",
    ("/api/hsm/{hub_id}/{action}", "POST"): "user",
    ("/api/hubs", "GET"): "user",
    ("/api/hub-names", "GET"): "user",
    ("/api/discovery", "GET"): "admin",
    ("/api/hub-config", "GET"): "admin",
    ("/api/hub-config", "POST"): "admin",
    ("/api/hub-config/order", "POST"): "admin",
    ("/api/hub-config/test", "POST"): "admin",
    ("/api/hub-config/mesh", "GET"): "admin",
    ("/api/hub-config/mesh", "POST"): "admin",
    ("/api/hub-config/{hub_id}", "DELETE"): "admin",
    ("/api/hub-config/{hub_id}/webhook/register", "POST"): "admin",
    ("/api/hub-config/{hub_id}/webhook/rotate", "POST"): "admin",
    ("/api/settings", "GET"): "user",
    ("/api/device-selections", "GET"): "user",
    ("/api/device-selections/{selection_type}", "DELETE"): "user",
    ("/api/device-selections/{selection_type}", "PUT"): "user",
    ("/api/device-selections/{selection_type}/{uid}", "DELETE"): "user",
    ("/api/webhook/event/{token}", "POST"): "anonymous",
    ("/api/webhook/mode/{token}", "POST"): "anonymous",
    ("/api/events/stream", "GET"): "user",
    ("/api/user/preferences", "GET"): "user",
    ("/api/user/preferences/migrate", "POST"): "user",
    ("/api/user/preferences/{category}", "GET"): "user",
    ("/api/user/preferences/{category}/{key}", "GET"): "user",
    ("/api/user/preferences/{category}/{key}", "PUT"): "user",
    ("/api/user/preferences/{category}/{key}", "DELETE"): "user",
    ("/api/user/backgrounds", "GET"): "user",
    ("/api/user/backgrounds/{uid}", "POST"): "user",
    ("/api/user/backgrounds/{uid}", "DELETE"): "user",
    ("/api/user/backgrounds/{uid}/image", "GET"): "user",
    ("/api/auth/setup", "POST"): "anonymous",
    ("/api/auth/login", "POST"): "anonymous",
    ("/api/auth/logout", "POST"): "anonymous",
    ("/api/auth/session", "GET"): "anonymous",
    ("/api/auth/register", "POST"): "anonymous",
    ("/api/auth/change-password", "POST"): "user",
    ("/api/auth/users", "GET"): "admin",
    ("/api/auth/users", "POST"): "admin",
    ("/api/auth/users/{id}", "PATCH"): "admin",
    ("/api/auth/users/{id}", "DELETE"): "admin",
    ("/api/auth/users/{id}/reset-password", "POST"): "admin",
    ("/api/auth/users/{id}/unlock", "POST"): "admin",
    ("/api/users/{id}/toggle-auth", "POST"): "admin",
    ("/api/auth/tokens", "GET"): "user",
    ("/api/auth/tokens", "POST"): "user",
    ("/api/auth/tokens/{id}", "DELETE"): "user",
    ("/api/auth/settings", "GET"): "admin",
    ("/api/auth/settings", "PATCH"): "admin",
    (CATCH_ALL, "*"): "anonymous",
    ("/", "*"): "anonymous",
}

WHO = ("anonymous", "user", "admin", "user_bearer", "admin_bearer", "trusted")
SIGNED_IN_AS_ADMIN = {"admin", "admin_bearer"}


def route_table(web_root: Path) -> list[BaseRoute]:
    """Return the app's routes with the accounts routes, as the app serves them."""
    routes = build_routes(web_root)
    present = {route.path for route in routes if isinstance(route, Route)}
    missing = [
        RoleRoute(RouteSpec(*row))
        for row in auth_api.ROUTES
        if row[0] not in present or not _has_methods(routes, row[0], row[1])
    ]
    index = next(
        position
        for position, route in enumerate(routes)
        if isinstance(route, Route) and route.path == CATCH_ALL
    )
    return routes[:index] + missing + routes[index:]


def _has_methods(routes: list[BaseRoute], path: str, methods: tuple[str, ...]) -> bool:
    return any(
        isinstance(route, Route) and route.path == path and set(methods) <= (route.methods or set())
        for route in routes
    )


def route_rows(routes: list[BaseRoute]) -> list[tuple[str, str, str | None]]:
    """Return (path, method, declared role) for every route; mounts and the catch-all as *."""
    rows = []
    for route in routes:
        if isinstance(route, Mount):
            rows.append((route.path or "/", "*", route_role(route)))
        elif isinstance(route, Route) and route.path == CATCH_ALL:
            rows.append((route.path, "*", route_role(route)))
        elif isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                rows.append((route.path, method, route_role(route)))
        else:
            rows.append((getattr(route, "path", repr(route)), "*", route_role(route)))
    return rows


def concrete_path(template: str) -> str:
    if template == "/":
        return "/index.html"
    if template == CATCH_ALL:
        return "/api/no/such/route"
    return re.sub(r"\{[^}]+\}", "1", template)


@pytest.fixture
def web_root(tmp_path: Path) -> Path:
    root = tmp_path / "web"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html>")
    return root


def test_every_route_has_a_row(web_root: Path) -> None:
    rows = route_rows(route_table(web_root))
    missing = [(path, method) for path, method, _ in rows if (path, method) not in EXPECTED_ROLES]
    assert missing == [], "routes without a row in EXPECTED_ROLES"
    for path, method, role in rows:
        assert role == EXPECTED_ROLES[(path, method)], f"{method} {path} declares {role}"


def test_rows_match_existing_routes(web_root: Path) -> None:
    rows = {(path, method) for path, method, _ in route_rows(route_table(web_root))}
    optional = {key for key in EXPECTED_ROLES if key[0].startswith("/api/user/")}
    stale = set(EXPECTED_ROLES) - rows - optional
    assert stale == set()


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    store = SqliteStorage(tmp_path / "tiles-edge.db")
    await store.open()
    yield store
    await store.close()


async def credentials(auth: AuthService, storage: SqliteStorage) -> dict[str, dict[str, str]]:
    """Create one principal of each kind and return the headers each request sends."""
    user = await storage.create_user(username="alice", password_hash=None)
    admin = await storage.create_user(username="root", password_hash=None, role="admin")
    kiosk = await storage.create_user(username="kiosk", password_hash=None)
    auth.security = SecuritySettings(
        trusted_networks=(TrustedNetwork.parse("192.168.1.0/24", "kiosk"),)
    )
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for who, record, kind in (("user", user, "password"), ("admin", admin, "password")):
        token, _ = await auth.sessions.create(record, kind=kind, ip_address=None, user_agent=None)
        headers[who] = {"cookie": f"tiles_session={token}"}
    token, _ = await auth.sessions.create(
        kiosk, kind="trusted", ip_address="192.168.1.20", user_agent=None
    )
    headers["trusted"] = {"cookie": f"tiles_session={token}"}
    for who, record in (("user_bearer", user), ("admin_bearer", admin)):
        api_token = new_api_token()
        await storage.create_api_token(
            user_id=record.id, name=who, token_hash=hash_token(api_token)
        )
        headers[who] = {"authorization": f"Bearer {api_token}"}
    return headers


async def test_route_roles_for_every_principal(storage: SqliteStorage, web_root: Path) -> None:
    routes = route_table(web_root)
    auth = AuthService(AuthOptions(), hasher=PasswordHasher.insecure_for_tests())
    await auth.start(storage)
    headers = await credentials(auth, storage)
    reached: list[str] = []

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    middleware = AuthMiddleware(endpoint, auth=auth, routes=routes)
    transport = httpx.ASGITransport(app=middleware, client=("192.168.1.20", 50000))
    checked: set[str] = set()
    async with httpx.AsyncClient(transport=transport, base_url="http://192.168.1.2") as client:
        for path, method, role in route_rows(routes):
            methods = ["GET", "POST"] if method == "*" else [method]
            for request_method in methods:
                for who in WHO:
                    reached.clear()
                    reply = await client.request(
                        request_method, concrete_path(path), headers=headers[who]
                    )
                    allowed = (
                        role == "anonymous"
                        or (role == "user" and who != "anonymous")
                        or (role == "admin" and who in SIGNED_IN_AS_ADMIN)
                    )
                    label = f"{who} {request_method} {path}"
                    if allowed:
                        assert reply.status_code == 204, label
                        assert reached == [concrete_path(path)], label
                    else:
                        assert reply.status_code == (401 if who == "anonymous" else 403), label
                        assert reached == [], label
                checked.add(path)
    assert {row[0] for row in auth_api.ROUTES} <= checked
    assert {"/", "/api/events/stream", CATCH_ALL} <= checked
