"""Accounts over a real Hypercorn server on loopback: sign-out and disabling end live streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.middleware import Middleware

from tiles_edge.api import auth as auth_api
from tiles_edge.api.errors import EXCEPTION_HANDLERS
from tiles_edge.api.middleware import UnreadBodyMiddleware
from tiles_edge.api.routes import RoleRoute, RouteSpec, build_routes
from tiles_edge.app import Services
from tiles_edge.auth.middleware import SecuredStarlette, security_middleware
from tiles_edge.auth.passwords import PasswordHasher
from tiles_edge.auth.service import AuthOptions, AuthService
from tiles_edge.config import Settings
from tiles_edge.events.bus import EventBus
from tiles_edge.logbuffer import LogBuffer
from tiles_edge.server import ServerHandle
from tiles_edge.storage.sqlite import SqliteStorage

# Bound on waiting for a stream to end; it normally ends within milliseconds on loopback.
STREAM_END_TIMEOUT_S = 30.0
USER_PASSWORD = "user password 12"


@dataclass
class Server:
    url: str
    services: Services
    storage: SqliteStorage

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.url, headers={"origin": self.url}, timeout=STREAM_END_TIMEOUT_S
        )


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    web_root = tmp_path / "web"
    web_root.mkdir()
    (web_root / "index.html").write_text("<!doctype html><title>Tiles</title>")
    settings = Settings(state_dir=tmp_path, discovery_enabled=False)
    storage = SqliteStorage(tmp_path / "tiles-edge.db")
    await storage.open()
    services = Services(settings=settings, bus=EventBus(), logs=LogBuffer(10), storage=storage)
    auth = AuthService(
        AuthOptions.from_settings(settings),
        hasher=PasswordHasher.insecure_for_tests(),
        streams=services.bus,
    )
    await auth.start(storage)
    routes = [RoleRoute(RouteSpec(*row)) for row in auth_api.ROUTES] + build_routes(web_root)
    app = SecuredStarlette(
        routes=routes,
        middleware=[
            Middleware(UnreadBodyMiddleware, max_drain_bytes=settings.max_body_bytes),
            *security_middleware(auth, max_body_bytes=settings.max_body_bytes),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    app.state.services = services
    app.state.auth = auth
    async with ServerHandle(app, graceful_timeout_s=2.0) as handle:
        yield Server(handle.url, services, storage)
    await storage.close()


async def sign_in(server: Server, client: httpx.AsyncClient, username: str) -> None:
    reply = await client.post(
        "/api/auth/login", json={"username": username, "password": USER_PASSWORD}
    )
    assert reply.status_code == 200, reply.text


async def add_user(server: Server, username: str, role: str = "user") -> int:
    hashed = await PasswordHasher.insecure_for_tests().hash(USER_PASSWORD)
    user = await server.storage.create_user(username=username, password_hash=hashed, role=role)  # type: ignore[arg-type]
    return user.id


async def read_until_end(response: httpx.Response) -> bytes:
    chunks = [chunk async for chunk in response.aiter_bytes()]
    return b"".join(chunks)


async def test_logout_ends_live_stream(server: Server) -> None:
    await add_user(server, "alice")
    async with server.client() as browser:
        await sign_in(server, browser, "alice")
        async with browser.stream("GET", "/api/events/stream") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-security-policy"].startswith("default-src 'self'")
            assert server.services.bus.subscriber_count == 1
            reading = asyncio.ensure_future(read_until_end(stream))
            reply = await browser.post("/api/auth/logout")
            assert reply.status_code == 200
            await asyncio.wait_for(reading, STREAM_END_TIMEOUT_S)
        assert server.services.bus.subscriber_count == 0
        again = await browser.get("/api/events/stream")
        assert again.status_code == 401


async def test_disabling_user_ends_live_stream(server: Server) -> None:
    user_id = await add_user(server, "alice")
    await add_user(server, "root", role="admin")
    async with server.client() as admin, server.client() as browser:
        await sign_in(server, admin, "root")
        await sign_in(server, browser, "alice")
        async with browser.stream("GET", "/api/events/stream") as stream:
            assert stream.status_code == 200
            reading = asyncio.ensure_future(read_until_end(stream))
            reply = await admin.patch(f"/api/auth/users/{user_id}", json={"active": False})
            assert reply.status_code == 200
            await asyncio.wait_for(reading, STREAM_END_TIMEOUT_S)
        assert (await browser.get("/api/devices")).status_code == 401


async def test_password_change_ends_other_streams(server: Server) -> None:
    await add_user(server, "alice")
    async with server.client() as phone, server.client() as laptop:
        await sign_in(server, phone, "alice")
        await sign_in(server, laptop, "alice")
        async with phone.stream("GET", "/api/events/stream") as stream:
            reading = asyncio.ensure_future(read_until_end(stream))
            reply = await laptop.post(
                "/api/auth/change-password",
                json={"currentPassword": USER_PASSWORD, "newPassword": "a fresh password"},
            )
            assert reply.status_code == 200
            await asyncio.wait_for(reading, STREAM_END_TIMEOUT_S)


async def test_foreign_host_rejected_over_socket(server: Server) -> None:
    async with server.client() as client:
        reply = await client.get("/api/auth/session", headers={"host": "evil.example"})
        page = await client.get("/")
    assert reply.status_code == 400
    assert "set-cookie" not in reply.headers
    assert reply.headers["x-frame-options"] == "DENY"
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_anonymous_sees_only_public_routes(server: Server) -> None:
    async with server.client() as client:
        assert (await client.get("/api/auth/session")).status_code == 200
        assert (await client.get("/")).status_code == 200
        assert (await client.get("/api/devices")).status_code == 401
        assert (await client.get("/api/events/stream")).status_code == 401
        assert (await client.get("/api/logs")).status_code == 401
