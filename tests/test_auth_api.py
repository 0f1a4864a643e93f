"""Accounts routes through the real middleware, a real SQLite file and the real event bus."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api import auth as auth_api
from tiles_edge.api.errors import EXCEPTION_HANDLERS
from tiles_edge.api.routes import RoleRoute, RouteSpec
from tiles_edge.auth import passwords
from tiles_edge.auth.middleware import security_middleware
from tiles_edge.auth.passwords import PasswordHasher
from tiles_edge.auth.service import AuthOptions, AuthService
from tiles_edge.auth.throttle import LoginThrottle
from tiles_edge.events.bus import EventBus, Subscription
from tiles_edge.storage.sqlite import SqliteStorage

BASE_URL = "http://192.168.1.2:8080"
ORIGIN = {"origin": BASE_URL}
ADMIN_PASSWORD = "admin password 1"
USER_PASSWORD = "user password 12"


class FakeClock:
    """Wall-clock seconds that move only when a test advances them."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Harness:
    def __init__(self, storage: SqliteStorage, clock: FakeClock, **options: Any) -> None:
        self.storage = storage
        self.clock = clock
        self.bus = EventBus()
        self.subscriptions: list[Subscription] = []
        self.auth = AuthService(
            AuthOptions(**options),
            hasher=PasswordHasher.insecure_for_tests(),
            throttle=LoginThrottle(clock=clock),
            clock=clock,
            streams=self.bus,
        )
        routes = [RoleRoute(RouteSpec(*row)) for row in auth_api.ROUTES]
        routes.append(RoleRoute(RouteSpec("/api/test/whoami", ("GET",), self.whoami, "user", "w")))
        routes.append(
            RoleRoute(RouteSpec("/api/test/stream", ("POST",), self.subscribe, "user", "s"))
        )
        self.app = Starlette(
            routes=routes,
            middleware=security_middleware(self.auth, max_body_bytes=65536),
            exception_handlers=dict(EXCEPTION_HANDLERS),
        )
        self.app.state.auth = self.auth

    async def whoami(self, request: Request) -> Response:
        principal = request.state.principal
        return JSONResponse({"username": principal.username, "kind": principal.kind})

    async def subscribe(self, request: Request) -> Response:
        """Open an event bus subscription owned by the session, as the stream route does."""
        subscription = self.bus.subscribe(owner=getattr(request.state, "session_id", None))
        self.subscriptions.append(subscription)
        return JSONResponse({"owner": subscription.owner})

    def client(self, peer: str = "192.168.1.20", base_url: str = BASE_URL) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(peer, 50000))
        return httpx.AsyncClient(transport=transport, base_url=base_url, headers=ORIGIN)

    async def setup_admin(self, client: httpx.AsyncClient) -> None:
        reply = await client.post(
            "/api/auth/setup", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert reply.status_code == 201, reply.text

    async def add_user(self, username: str = "alice", **fields: Any) -> int:
        hashed = await self.auth.hasher.hash(USER_PASSWORD)
        user = await self.storage.create_user(username=username, password_hash=hashed, **fields)
        return user.id


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    store = SqliteStorage(tmp_path / "tiles-edge.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def harness(storage: SqliteStorage, clock: FakeClock) -> Harness:
    built = Harness(storage, clock)
    await built.auth.start(storage)
    return built


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password})


# First admin


async def test_setup_race_creates_one_admin(harness: Harness, storage: SqliteStorage) -> None:
    async def attempt(index: int) -> int:
        async with harness.client() as client:
            reply = await client.post(
                "/api/auth/setup",
                json={"username": f"admin{index}", "password": ADMIN_PASSWORD},
            )
            return reply.status_code

    statuses = await asyncio.gather(*(attempt(index) for index in range(20)))
    assert sorted(statuses) == [201] + [403] * 19
    users = await storage.list_users()
    assert len(users) == 1
    assert users[0].role == "admin"


async def test_setup_closed_after_first_admin(harness: Harness) -> None:
    async with harness.client() as client:
        before = await client.get("/api/auth/session")
        assert before.json()["setupRequired"] is True
        await harness.setup_admin(client)
        after = await client.get("/api/auth/session")
        assert after.json()["setupRequired"] is False
        assert after.json()["user"]["username"] == "admin"
        again = await client.post(
            "/api/auth/setup", json={"username": "second", "password": ADMIN_PASSWORD}
        )
        assert again.status_code == 403
        assert again.json()["error"]["code"] == "setup_closed"


async def test_setup_rejects_short_password(harness: Harness) -> None:
    async with harness.client() as client:
        reply = await client.post("/api/auth/setup", json={"username": "admin", "password": "x"})
    assert reply.status_code == 400
    assert "at least 10 characters" in reply.json()["error"]["message"]


# Sign-in, tokens in the database, cookies


async def test_database_holds_no_cookie_value(harness: Harness, storage: SqliteStorage) -> None:
    async with harness.client() as client:
        await harness.setup_admin(client)
        token = client.cookies["tiles_session"]
        created = await client.post("/api/auth/tokens", json={"name": "script"})
        api_token = created.json()["token"]
    await storage.checkpoint()
    raw = b"".join(path.read_bytes() for path in storage.path.parent.glob("tiles-edge.db*"))
    assert token.encode() not in raw
    assert api_token.encode() not in raw
    with sqlite3.connect(storage.path) as connection:
        dump = "\n".join(connection.iterdump())
    assert token not in dump
    assert api_token not in dump


async def test_login_replaces_presented_session(harness: Harness, storage: SqliteStorage) -> None:
    await harness.add_user()
    async with harness.client() as client:
        first = await login(client, "alice", USER_PASSWORD)
        assert first.status_code == 200
        old_token = client.cookies["tiles_session"]
        second = await login(client, "alice", USER_PASSWORD)
        assert second.status_code == 200
        new_token = client.cookies["tiles_session"]
    assert new_token != old_token
    async with harness.client() as replay:
        replay.cookies.set("tiles_session", old_token)
        assert (await replay.get("/api/test/whoami")).status_code == 401
        replay.cookies.set("tiles_session", new_token)
        assert (await replay.get("/api/test/whoami")).status_code == 200
    user = await storage.get_user_by_username("alice")
    assert user is not None
    assert len(await storage.list_user_sessions(user.id)) == 1


async def test_logout_deletes_session_and_streams(harness: Harness, storage: SqliteStorage) -> None:
    user_id = await harness.add_user()
    async with harness.client() as client:
        await login(client, "alice", USER_PASSWORD)
        token = client.cookies["tiles_session"]
        await client.post("/api/test/stream")
        [subscription] = harness.subscriptions
        assert not subscription.closed
        reply = await client.post("/api/auth/logout")
        assert reply.status_code == 200
        assert "Max-Age=0" in reply.headers["set-cookie"]
    assert subscription.closed
    assert await storage.list_user_sessions(user_id) == []
    async with harness.client() as replay:
        replay.cookies.set("tiles_session", token)
        assert (await replay.get("/api/test/whoami")).status_code == 401


async def test_disable_user_ends_sessions(harness: Harness, storage: SqliteStorage) -> None:
    user_id = await harness.add_user()
    async with harness.client() as admin, harness.client() as alice:
        await harness.setup_admin(admin)
        await login(alice, "alice", USER_PASSWORD)
        await alice.post("/api/test/stream")
        reply = await admin.patch(f"/api/auth/users/{user_id}", json={"active": False})
        assert reply.status_code == 200
        assert reply.json()["user"]["active"] is False
        assert harness.subscriptions[0].closed
        assert (await alice.get("/api/test/whoami")).status_code == 401
        assert (await login(alice, "alice", USER_PASSWORD)).status_code == 403
    assert await storage.list_user_sessions(user_id) == []


async def test_change_password_ends_sessions(harness: Harness, storage: SqliteStorage) -> None:
    await harness.add_user()
    async with harness.client() as phone, harness.client() as laptop:
        await login(phone, "alice", USER_PASSWORD)
        await login(laptop, "alice", USER_PASSWORD)
        await phone.post("/api/test/stream")
        await laptop.post("/api/test/stream")
        reply = await laptop.post(
            "/api/auth/change-password",
            json={"currentPassword": USER_PASSWORD, "newPassword": "a new password"},
        )
        assert reply.status_code == 200
        assert all(subscription.closed for subscription in harness.subscriptions)
        assert (await phone.get("/api/test/whoami")).status_code == 401
        assert (await laptop.get("/api/test/whoami")).status_code == 200
        assert (await login(phone, "alice", USER_PASSWORD)).status_code == 401
        assert (await login(phone, "alice", "a new password")).status_code == 200


async def test_change_password_wrong_current(harness: Harness) -> None:
    await harness.add_user()
    async with harness.client() as client:
        await login(client, "alice", USER_PASSWORD)
        reply = await client.post(
            "/api/auth/change-password",
            json={"currentPassword": "not the password", "newPassword": "a new password"},
        )
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "wrong_password"


async def test_idle_timeout_ends_session(harness: Harness, clock: FakeClock) -> None:
    await harness.add_user()
    async with harness.client() as client:
        await login(client, "alice", USER_PASSWORD)
        clock.advance(1440 * 60 - 1)
        assert (await client.get("/api/test/whoami")).status_code == 200
        clock.advance(1440 * 60 + 1)
        reply = await client.get("/api/test/whoami")
    assert reply.status_code == 401
    assert "Max-Age=0" in reply.headers["set-cookie"]


async def test_absolute_lifetime_despite_activity(harness: Harness, clock: FakeClock) -> None:
    await harness.add_user()
    lifetime_s = 720 * 3600
    async with harness.client() as client:
        await login(client, "alice", USER_PASSWORD)
        elapsed = 0
        while elapsed < lifetime_s - 3600:
            clock.advance(3600)
            elapsed += 3600
            assert (await client.get("/api/test/whoami")).status_code == 200
        clock.advance(lifetime_s - elapsed - 1)
        assert (await client.get("/api/test/whoami")).status_code == 200
        clock.advance(2)
        assert (await client.get("/api/test/whoami")).status_code == 401


async def test_per_session_idle_setting(harness: Harness, clock: FakeClock) -> None:
    await harness.add_user()
    async with harness.client() as admin, harness.client() as alice:
        await harness.setup_admin(admin)
        reply = await admin.patch("/api/auth/settings", json={"sessionIdleMinutes": 5})
        assert reply.status_code == 200
        await login(alice, "alice", USER_PASSWORD)
        clock.advance(5 * 60 + 1)
        assert (await alice.get("/api/test/whoami")).status_code == 401


@pytest.mark.parametrize("https", [False, True])
async def test_cookie_attributes(harness: Harness, https: bool) -> None:
    await harness.add_user()
    base_url = "https://192.168.1.2" if https else BASE_URL
    transport = httpx.ASGITransport(app=harness.app, client=("192.168.1.20", 50000))
    async with httpx.AsyncClient(
        transport=transport, base_url=base_url, headers={"origin": base_url}
    ) as client:
        reply = await login(client, "alice", USER_PASSWORD)
    assert reply.status_code == 200
    header = reply.headers["set-cookie"]
    name, _, rest = header.partition("=")
    attributes = {part.strip().split("=")[0].lower() for part in rest.split(";")[1:]}
    assert name == ("__Host-tiles_session" if https else "tiles_session")
    assert "httponly" in attributes
    assert "samesite=strict" in header.lower()
    assert "path=/" in header.lower()
    assert "domain" not in attributes
    assert ("secure" in attributes) is https


async def test_https_ignores_plain_cookie(harness: Harness) -> None:
    await harness.add_user()
    async with harness.client() as client:
        await login(client, "alice", USER_PASSWORD)
        token = client.cookies["tiles_session"]
    transport = httpx.ASGITransport(app=harness.app, client=("192.168.1.20", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://192.168.1.2") as client:
        client.cookies.set("tiles_session", token)
        assert (await client.get("/api/test/whoami")).status_code == 401
        client.cookies.set("__Host-tiles_session", token)
        assert (await client.get("/api/test/whoami")).status_code == 200


# Passwords and throttling


async def test_long_passwords_do_not_collide(harness: Harness) -> None:
    first = "p" * 79 + "1"
    second = "p" * 79 + "2"
    hashed = await harness.auth.hasher.hash(first)
    await harness.storage.create_user(username="long", password_hash=hashed)
    async with harness.client() as client:
        assert (await login(client, "long", second)).status_code == 401
        assert (await login(client, "long", first)).status_code == 200


async def test_throttle_then_success_after_wait(harness: Harness, clock: FakeClock) -> None:
    await harness.add_user()
    statuses = []
    async with harness.client() as client:
        for _ in range(20):
            statuses.append((await login(client, "alice", "wrong password!")).status_code)
        assert 429 in statuses
        throttled = await login(client, "alice", USER_PASSWORD)
        assert throttled.status_code == 429
        wait = int(throttled.headers["retry-after"])
        assert wait >= 1
        assert "wait" in throttled.json()["error"]["message"]
        clock.advance(wait)
        assert (await login(client, "alice", USER_PASSWORD)).status_code == 200
    assert statuses[:5] == [401] * 5


async def test_admin_unlock_clears_throttle(harness: Harness) -> None:
    user_id = await harness.add_user()
    async with harness.client() as admin, harness.client(peer="192.168.1.30") as alice:
        await harness.setup_admin(admin)
        for _ in range(7):
            await login(alice, "alice", "wrong password!")
        assert (await login(alice, "alice", USER_PASSWORD)).status_code == 429
        reply = await admin.post(f"/api/auth/users/{user_id}/unlock")
        assert reply.json()["wasLocked"] is True
        # The address keeps its own count, so try from a fresh address.
    async with harness.client(peer="192.168.1.31") as alice:
        assert (await login(alice, "alice", USER_PASSWORD)).status_code == 200


async def test_unknown_user_looks_like_wrong_password(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await harness.add_user()
    checks: list[bytes] = []
    real_checkpw = passwords.bcrypt.checkpw

    def counting_checkpw(password: bytes, hashed: bytes) -> bool:
        checks.append(hashed)
        return real_checkpw(password, hashed)

    monkeypatch.setattr(passwords.bcrypt, "checkpw", counting_checkpw)
    async with harness.client(peer="192.168.1.40") as client:
        wrong = await login(client, "alice", "wrong password!")
    async with harness.client(peer="192.168.1.41") as client:
        unknown = await login(client, "nobody", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert sorted(wrong.headers.keys()) == sorted(unknown.headers.keys())
    assert len(checks) == 2
    assert all(hashed.startswith(b"$2b$04$") for hashed in checks)


# Trusted networks


async def enable_kiosk_network(harness: Harness, admin: httpx.AsyncClient) -> None:
    reply = await admin.patch(
        "/api/auth/settings",
        json={"trustedNetworks": [{"cidr": "192.168.1.0/24", "username": "kiosk"}]},
    )
    assert reply.status_code == 200, reply.text


async def test_trusted_sign_in_off_by_default(harness: Harness) -> None:
    await harness.add_user("kiosk")
    async with harness.client() as client:
        assert (await client.get("/api/auth/session")).json()["trustedSignIn"] is False
        reply = await client.post("/api/auth/login", json={"trusted": True})
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "not_trusted"


async def test_trusted_session_rechecked_per_request(harness: Harness) -> None:
    await harness.add_user("kiosk")
    async with harness.client(peer="192.168.1.2") as admin:
        await harness.setup_admin(admin)
        await enable_kiosk_network(harness, admin)
    async with harness.client(peer="192.168.1.20") as kiosk:
        assert (await kiosk.get("/api/auth/session")).json()["trustedSignIn"] is True
        reply = await kiosk.post("/api/auth/login", json={"trusted": True})
        assert reply.status_code == 200
        assert reply.json()["kind"] == "trusted"
        token = kiosk.cookies["tiles_session"]
        whoami = await kiosk.get("/api/test/whoami")
        assert whoami.json() == {"username": "kiosk", "kind": "trusted"}
    async with harness.client(peer="10.9.9.9") as elsewhere:
        elsewhere.cookies.set("tiles_session", token)
        assert (await elsewhere.get("/api/test/whoami")).status_code == 401
    async with harness.client(peer="203.0.113.5") as spoofing:
        spoofing.cookies.set("tiles_session", token)
        reply = await spoofing.get("/api/test/whoami", headers={"x-forwarded-for": "192.168.1.20"})
        assert reply.status_code == 401


async def test_trusted_admin_needs_allow_admin(harness: Harness) -> None:
    async with harness.client(peer="192.168.1.2") as admin:
        await harness.setup_admin(admin)
        reply = await admin.patch(
            "/api/auth/settings",
            json={"trustedNetworks": [{"cidr": "192.168.1.0/24", "username": "admin"}]},
        )
        assert reply.status_code == 400
        assert "trustedNetworks[0].username" in reply.json()["error"]["message"]
        assert "allow admin sign-in" in reply.json()["error"]["message"]
    async with harness.client(peer="192.168.1.20") as client:
        assert (await client.post("/api/auth/login", json={"trusted": True})).status_code == 401
    async with harness.client(peer="192.168.1.2") as admin:
        await login(admin, "admin", ADMIN_PASSWORD)
        await admin.patch(
            "/api/auth/settings",
            json={
                "trustedNetworks": [
                    {"cidr": "192.168.1.0/24", "username": "admin", "allowAdmin": True}
                ]
            },
        )
    async with harness.client(peer="192.168.1.20") as client:
        assert (await client.post("/api/auth/login", json={"trusted": True})).status_code == 200


async def test_trusted_network_must_name_usable_user(harness: Harness) -> None:
    await harness.add_user("away", active=False)
    async with harness.client(peer="192.168.1.2") as admin:
        await harness.setup_admin(admin)
        for username, words in (("nobody", "create the user first"), ("away", "is disabled")):
            reply = await admin.patch(
                "/api/auth/settings",
                json={"trustedNetworks": [{"cidr": "192.168.1.0/24", "username": username}]},
            )
            assert reply.status_code == 400
            assert words in reply.json()["error"]["message"]
        settings = (await admin.get("/api/auth/settings")).json()
        assert settings["trustedNetworks"] == []


async def test_passwordless_user_only_from_trusted(harness: Harness) -> None:
    await harness.add_user("tablet", auth_enabled=False)
    await harness.add_user("kiosk")
    async with harness.client(peer="192.168.1.2") as admin:
        await harness.setup_admin(admin)
        await enable_kiosk_network(harness, admin)
    async with harness.client(peer="10.0.0.5") as outside:
        reply = await login(outside, "tablet", "")
        assert reply.status_code == 401
        assert (await login(outside, "tablet", USER_PASSWORD)).status_code == 401
    async with harness.client(peer="192.168.1.50") as inside:
        reply = await login(inside, "tablet", "")
        assert reply.status_code == 200
        assert reply.json()["kind"] == "trusted"


# Users (admin)


async def test_last_admin_cannot_be_removed(harness: Harness, storage: SqliteStorage) -> None:
    async with harness.client() as admin:
        await harness.setup_admin(admin)
        [me] = await storage.list_users()
        demote = await admin.patch(f"/api/auth/users/{me.id}", json={"role": "user"})
        assert demote.status_code == 409
        assert demote.json()["error"]["code"] == "last_admin"
        disable = await admin.patch(f"/api/auth/users/{me.id}", json={"active": False})
        assert disable.status_code == 409
        delete = await admin.delete(f"/api/auth/users/{me.id}")
        assert delete.status_code == 409
        created = await admin.post("/api/auth/users", json={"username": "second", "role": "admin"})
        assert created.status_code == 201
        assert len(created.json()["temporaryPassword"]) >= 16
        demote = await admin.patch(f"/api/auth/users/{me.id}", json={"role": "user"})
        assert demote.status_code == 200
    assert await storage.count_active_admins() == 1


async def test_admin_user_management(harness: Harness, storage: SqliteStorage) -> None:
    async with harness.client() as admin, harness.client(peer="192.168.1.30") as bob:
        await harness.setup_admin(admin)
        created = await admin.post(
            "/api/auth/users", json={"username": "bob", "password": "bob password 1"}
        )
        assert created.status_code == 201
        assert "temporaryPassword" not in created.json()
        bob_id = created.json()["user"]["id"]
        listing = await admin.get("/api/auth/users")
        assert [user["username"] for user in listing.json()["users"]] == ["admin", "bob"]

        assert (await login(bob, "bob", "bob password 1")).status_code == 200
        assert (await bob.get("/api/auth/users")).status_code == 403
        reset = await admin.post(f"/api/auth/users/{bob_id}/reset-password")
        temporary = reset.json()["temporaryPassword"]
        assert (await bob.get("/api/test/whoami")).status_code == 401
        assert (await login(bob, "bob", temporary)).status_code == 200

        toggled = await admin.post(f"/api/users/{bob_id}/toggle-auth")
        assert toggled.json()["user"]["authEnabled"] is False
        toggled = await admin.post(f"/api/users/{bob_id}/toggle-auth")
        assert toggled.json()["user"]["authEnabled"] is True

        assert (await admin.delete(f"/api/auth/users/{bob_id}")).status_code == 204
        assert (await bob.get("/api/test/whoami")).status_code == 401
        assert (await admin.delete(f"/api/auth/users/{bob_id}")).status_code == 404
    assert await storage.get_user(bob_id) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "root"}, "'role'"),
        ({"active": "yes"}, "'active'"),
        ({"authEnabled": 1}, "'authEnabled'"),
        ({"colour": "red"}, "'colour'"),
        ({}, "role, active or authEnabled"),
    ],
)
async def test_update_user_validation(harness: Harness, body: dict[str, Any], field: str) -> None:
    user_id = await harness.add_user()
    async with harness.client() as admin:
        await harness.setup_admin(admin)
        reply = await admin.patch(f"/api/auth/users/{user_id}", json=body)
    assert reply.status_code == 400
    assert field in reply.json()["error"]["message"]


async def test_bad_user_id_is_400(harness: Harness) -> None:
    async with harness.client() as admin:
        await harness.setup_admin(admin)
        reply = await admin.patch("/api/auth/users/abc", json={"active": True})
        missing = await admin.patch("/api/auth/users/999", json={"active": True})
    assert reply.status_code == 400
    assert missing.status_code == 404


# Registration


async def test_registration_closed_by_default(harness: Harness) -> None:
    async with harness.client() as client:
        reply = await client.post(
            "/api/auth/register", json={"username": "eve", "password": "eve password 1"}
        )
    assert reply.status_code == 403
    assert reply.json()["error"]["code"] == "registration_closed"


async def test_registered_user_awaits_approval(harness: Harness) -> None:
    async with harness.client() as admin, harness.client(peer="192.168.1.70") as newcomer:
        await harness.setup_admin(admin)
        await admin.patch("/api/auth/settings", json={"registrationEnabled": True})
        reply = await newcomer.post(
            "/api/auth/register", json={"username": "carol", "password": "carol password"}
        )
        assert reply.status_code == 201
        assert reply.json()["awaitingApproval"] is True
        assert (await login(newcomer, "carol", "carol password")).status_code == 403
        user_id = reply.json()["user"]["id"]
        await admin.patch(f"/api/auth/users/{user_id}", json={"active": True})
        assert (await login(newcomer, "carol", "carol password")).status_code == 200
        taken = await newcomer.post(
            "/api/auth/register", json={"username": "CAROL", "password": "carol password"}
        )
        assert taken.status_code == 409


# API tokens


async def test_bearer_token_lifecycle(harness: Harness) -> None:
    await harness.add_user()
    async with harness.client() as browser:
        await login(browser, "alice", USER_PASSWORD)
        created = await browser.post("/api/auth/tokens", json={"name": "backup script"})
        assert created.status_code == 201
        token = created.json()["token"]
        token_id = created.json()["id"]
        assert token.startswith("tiles_")
        listing = await browser.get("/api/auth/tokens")
        assert "token" not in listing.json()["tokens"][0]

    async with harness.client() as script:
        script.headers.pop("origin")
        bearer = {"authorization": f"Bearer {token}"}
        whoami = await script.get("/api/test/whoami", headers=bearer)
        assert whoami.json() == {"username": "alice", "kind": "bearer"}
        assert (await script.get("/api/auth/users", headers=bearer)).status_code == 403
        assert (await script.get(f"/api/test/whoami?token={token}")).status_code == 401
        assert (await script.get(f"/api/test/whoami?access_token={token}")).status_code == 401
        minted = await script.post("/api/auth/tokens", json={"name": "more"}, headers=bearer)
        assert minted.status_code == 403

    async with harness.client() as browser:
        await login(browser, "alice", USER_PASSWORD)
        assert (await browser.delete(f"/api/auth/tokens/{token_id}")).status_code == 204
        assert (await browser.delete(f"/api/auth/tokens/{token_id}")).status_code == 404
        listing = await browser.get("/api/auth/tokens")
        assert listing.json()["tokens"][0]["revokedAt"] is not None

    async with harness.client() as script:
        reply = await script.get("/api/test/whoami", headers={"authorization": f"Bearer {token}"})
        assert reply.status_code == 401
        assert reply.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_token_last_used_recorded(harness: Harness, clock: FakeClock) -> None:
    await harness.add_user()
    async with harness.client() as browser:
        await login(browser, "alice", USER_PASSWORD)
        token = (await browser.post("/api/auth/tokens", json={"name": "x"})).json()["token"]
        clock.advance(120)
        await browser.get("/api/test/whoami", headers={"authorization": f"Bearer {token}"})
        listing = await browser.get("/api/auth/tokens")
    assert listing.json()["tokens"][0]["lastUsedAt"] == clock.now


async def test_configured_api_token_acts_as_admin(storage: SqliteStorage, clock: FakeClock) -> None:
    configured = "tiles_configured-token-for-scripts-0123456789"
    harness = Harness(storage, clock, api_token=configured)
    await harness.auth.start(storage)
    async with harness.client() as client:
        reply = await client.get(
            "/api/auth/users", headers={"authorization": f"Bearer {configured}"}
        )
        assert reply.status_code == 401
        await harness.setup_admin(client)
    async with harness.client() as script:
        reply = await script.get(
            "/api/auth/users", headers={"authorization": f"Bearer {configured}"}
        )
        assert reply.status_code == 200
        wrong = await script.get(
            "/api/auth/users", headers={"authorization": f"Bearer {configured}x"}
        )
        assert wrong.status_code == 401


# Security log


async def test_log_holds_no_secrets(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets_used = [ADMIN_PASSWORD, USER_PASSWORD, "wrong password!", "a new password"]
    await harness.add_user()
    async with harness.client() as admin, harness.client(peer="192.168.1.77") as alice:
        await harness.setup_admin(admin)
        secrets_used.append(admin.cookies["tiles_session"])
        await login(alice, "alice", "wrong password!")
        await login(alice, "alice", USER_PASSWORD)
        secrets_used.append(alice.cookies["tiles_session"])
        token = (await alice.post("/api/auth/tokens", json={"name": "t"})).json()["token"]
        secrets_used.append(token)
        await alice.get("/api/test/whoami", headers={"authorization": f"Bearer {token}"})
        await alice.get("/api/test/whoami", headers={"authorization": f"Bearer {token}zz"})
        await alice.post(
            "/api/auth/change-password",
            json={"currentPassword": USER_PASSWORD, "newPassword": "a new password"},
        )
        secrets_used.append(alice.cookies["tiles_session"])
        reset = await admin.post("/api/auth/users/2/reset-password")
        secrets_used.append(reset.json()["temporaryPassword"])
        await admin.get("/api/auth/users", headers={"origin": "http://evil.example"})
        await alice.get("/api/auth/users")
        await admin.post("/api/auth/logout")

    text = "\n".join(record.getMessage() for record in caplog.records)
    security_lines = [r for r in caplog.records if r.name == "tiles_edge.security"]
    events = {record.getMessage().split(" ")[1] for record in security_lines}
    assert {"setup", "login", "token_use", "password_change", "password_reset"} <= events
    assert {"request_denied", "logout", "token_create"} <= events
    for secret in secrets_used:
        assert secret not in text
    assert "user=alice" in text
    assert "address=192.168.1.77" in text


async def test_short_api_token_warns(
    storage: SqliteStorage, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="tiles_edge.auth.service")
    harness = Harness(storage, clock, api_token="hunter2hunter2")
    await harness.auth.start(storage)
    [record] = caplog.records
    assert "14 characters" in record.getMessage()
    assert "hunter2" not in record.getMessage()
