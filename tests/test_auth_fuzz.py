"""Random JSON bodies on every accounts route never produce a 5xx reply."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from tiles_edge.api import auth as auth_api
from tiles_edge.api.errors import EXCEPTION_HANDLERS
from tiles_edge.api.routes import RoleRoute, RouteSpec
from tiles_edge.auth.middleware import security_middleware
from tiles_edge.auth.passwords import PasswordHasher
from tiles_edge.auth.service import AuthOptions, AuthService
from tiles_edge.storage.sqlite import SqliteStorage

BASE_URL = "http://192.168.1.2:8080"
FIELDS = [
    "username",
    "password",
    "trusted",
    "currentPassword",
    "newPassword",
    "role",
    "active",
    "authEnabled",
    "name",
    "trustedNetworks",
    "registrationEnabled",
    "registrationAutoApprove",
    "sessionIdleMinutes",
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=80)
    | st.sampled_from(["admin", "user", "192.168.1.0/24", "::/0", "alice", "x" * 2000])
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["cidr", "username", "allowAdmin", "x"]), children)
    ),
    max_leaves=8,
)
BODIES = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), VALUES, max_size=6)
REQUESTS = [
    (method, path.replace("{id}", "1"))
    for path, methods, _, _, _ in auth_api.ROUTES
    for method in methods
    if method not in ("GET", "DELETE")
]


@pytest.fixture
async def admin_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    storage = SqliteStorage(tmp_path / "tiles-edge.db")
    await storage.open()
    auth = AuthService(AuthOptions(), hasher=PasswordHasher.insecure_for_tests())
    await auth.start(storage)
    app = Starlette(
        routes=[RoleRoute(RouteSpec(*row)) for row in auth_api.ROUTES],
        middleware=security_middleware(auth, max_body_bytes=65536),
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    app.state.auth = auth
    transport = httpx.ASGITransport(app=app, client=("192.168.1.20", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"origin": BASE_URL}
    ) as client:
        reply = await client.post(
            "/api/auth/setup", json={"username": "admin", "password": "admin password"}
        )
        assert reply.status_code == 201
        yield client
    await storage.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=st.sampled_from(REQUESTS), body=BODIES | VALUES)
async def test_no_5xx_on_random_bodies(
    admin_client: httpx.AsyncClient, request: tuple[str, str], body: Any
) -> None:
    method, path = request
    if path == "/api/auth/logout":
        # Signing out would end the admin session the other examples rely on.
        return
    reply = await admin_client.request(method, path, json=body)
    assert reply.status_code < 500, (method, path, body, reply.text)
    if reply.status_code >= 400:
        error = reply.json()["error"]
        assert error["code"]
        assert error["message"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=st.sampled_from(REQUESTS), raw=st.binary(max_size=200))
async def test_no_5xx_on_random_bytes(
    admin_client: httpx.AsyncClient, request: tuple[str, str], raw: bytes
) -> None:
    method, path = request
    if path == "/api/auth/logout":
        return
    reply = await admin_client.request(
        method, path, content=raw, headers={"content-type": "application/json"}
    )
    assert reply.status_code < 500, (method, path, raw, reply.text)
