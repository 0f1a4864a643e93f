"""SessionService on a real SQLite file: deadlines, touches, ending sessions, trusted checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tiles_edge.auth.networks import ClientAddress, ClientAddressResolver, TrustedNetwork
from tiles_edge.auth.security_settings import SecuritySettings, security_settings_from_json
from tiles_edge.auth.sessions import TOUCH_INTERVAL_S, SessionService, trusted_entry_for
from tiles_edge.errors import ApiError
from tiles_edge.events.bus import EventBus
from tiles_edge.storage.records import UserRecord
from tiles_edge.storage.sqlite import SqliteStorage

LAN_CLIENT = ClientAddressResolver().resolve("192.168.1.20", {})
OTHER_CLIENT = ClientAddressResolver().resolve("10.9.9.9", {})


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    store = SqliteStorage(tmp_path / "tiles-edge.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def make_user(storage: SqliteStorage, name: str = "alice", **fields: object) -> UserRecord:
    return await storage.create_user(username=name, password_hash=None, **fields)  # type: ignore[arg-type]


async def test_session_stored_with_deadlines(storage: SqliteStorage, clock: FakeClock) -> None:
    service = SessionService(storage, idle_minutes=30, lifetime_hours=2, clock=clock)
    user = await make_user(storage)
    token, record = await service.create(
        user, kind="password", ip_address="192.168.1.20", user_agent="Firefox " + "x" * 500
    )
    assert record.expires_at == clock.now + 30 * 60
    assert record.timeout_minutes == 30
    assert record.ip_address == "192.168.1.20"
    assert record.user_agent is not None
    assert len(record.user_agent) == 256
    assert token not in repr(record)
    active = await service.resolve(token, LAN_CLIENT, ())
    assert active is not None
    assert active.user.id == user.id


async def test_touch_slides_idle_deadline(storage: SqliteStorage, clock: FakeClock) -> None:
    service = SessionService(storage, idle_minutes=30, lifetime_hours=2, clock=clock)
    user = await make_user(storage)
    token, record = await service.create(user, kind="password", ip_address=None, user_agent=None)
    clock.now += TOUCH_INTERVAL_S / 2
    await service.resolve(token, LAN_CLIENT, ())
    unchanged = await storage.get_session_by_hash(record.token_hash)
    assert unchanged is not None
    assert unchanged.last_seen_at == record.last_seen_at
    clock.now += TOUCH_INTERVAL_S
    await service.resolve(token, LAN_CLIENT, ())
    touched = await storage.get_session_by_hash(record.token_hash)
    assert touched is not None
    assert touched.last_seen_at == clock.now
    assert touched.expires_at == clock.now + 30 * 60
    while clock.now < record.created_at + 2 * 3600 - 20 * 60:
        clock.now += 20 * 60
        assert await service.resolve(token, LAN_CLIENT, ()) is not None
    capped = await storage.get_session_by_hash(record.token_hash)
    assert capped is not None
    assert capped.expires_at == record.created_at + 2 * 3600


async def test_expired_session_deleted(storage: SqliteStorage, clock: FakeClock) -> None:
    bus = EventBus()
    service = SessionService(storage, idle_minutes=1, clock=clock, streams=bus)
    user = await make_user(storage)
    token, record = await service.create(user, kind="password", ip_address=None, user_agent=None)
    stream = bus.subscribe(owner=str(record.id))
    clock.now += 61
    assert await service.resolve(token, LAN_CLIENT, ()) is None
    assert await storage.get_session_by_hash(record.token_hash) is None
    assert stream.closed


async def test_end_user_sessions_returns_ids(storage: SqliteStorage, clock: FakeClock) -> None:
    bus = EventBus()
    service = SessionService(storage, clock=clock, streams=bus)
    alice = await make_user(storage)
    bob = await make_user(storage, "bob")
    ids = []
    for _ in range(3):
        _, record = await service.create(alice, kind="password", ip_address=None, user_agent=None)
        ids.append(record.id)
    _, bob_session = await service.create(bob, kind="password", ip_address=None, user_agent=None)
    streams = [bus.subscribe(owner=str(session_id)) for session_id in ids]
    bob_stream = bus.subscribe(owner=str(bob_session.id))
    kept = ids[0]
    ended = await service.end_user_sessions(alice.id, except_session_id=kept)
    assert sorted(ended) == sorted(ids[1:])
    assert [stream.closed for stream in streams] == [False, True, True]
    assert not bob_stream.closed
    assert await service.end_user_sessions(alice.id) == [kept]


async def test_inactive_user_session_rejected(storage: SqliteStorage, clock: FakeClock) -> None:
    service = SessionService(storage, clock=clock)
    user = await make_user(storage)
    token, _ = await service.create(user, kind="password", ip_address=None, user_agent=None)
    await storage.update_user(user.id, active=False)
    assert await service.resolve(token, LAN_CLIENT, ()) is None


async def test_malformed_token_not_looked_up(storage: SqliteStorage) -> None:
    service = SessionService(storage)
    assert await service.resolve("short", LAN_CLIENT, ()) is None
    assert await service.resolve("A" * 43, LAN_CLIENT, ()) is None
    assert await service.end_by_token("../etc") is None


async def test_purge_expired(storage: SqliteStorage, clock: FakeClock) -> None:
    service = SessionService(storage, idle_minutes=5, clock=clock)
    user = await make_user(storage)
    await service.create(user, kind="password", ip_address=None, user_agent=None)
    await service.create(
        user, kind="password", ip_address=None, user_agent=None, timeout_minutes=60
    )
    clock.now += 5 * 60
    assert await service.purge_expired() == 1


async def test_trusted_session_follows_network(storage: SqliteStorage, clock: FakeClock) -> None:
    service = SessionService(storage, clock=clock)
    kiosk = await make_user(storage, "kiosk")
    networks = (TrustedNetwork.parse("192.168.1.0/24", "kiosk"),)
    token, _ = await service.create(
        kiosk, kind="trusted", ip_address="192.168.1.20", user_agent=None
    )
    assert await service.resolve(token, LAN_CLIENT, networks) is not None
    assert await service.resolve(token, OTHER_CLIENT, networks) is None
    assert await service.resolve(token, LAN_CLIENT, ()) is None
    # The session survives a visit from elsewhere and works again back on the LAN.
    assert await service.resolve(token, LAN_CLIENT, networks) is not None


@pytest.mark.parametrize(
    ("username", "role", "auth_enabled", "allow_admin", "client", "admitted"),
    [
        ("kiosk", "user", True, False, LAN_CLIENT, True),
        ("KIOSK", "user", True, False, LAN_CLIENT, True),
        ("other", "user", True, False, LAN_CLIENT, False),
        ("other", "user", False, False, LAN_CLIENT, True),
        ("other", "user", False, False, OTHER_CLIENT, False),
        ("kiosk", "admin", True, False, LAN_CLIENT, False),
        ("kiosk", "admin", True, True, LAN_CLIENT, True),
        ("kiosk", "user", True, False, ClientAddress(None, None, True), False),
    ],
)
def test_trusted_entry_for_table(
    username: str,
    role: str,
    auth_enabled: bool,
    allow_admin: bool,
    client: ClientAddress,
    admitted: bool,
) -> None:
    user = UserRecord(
        id=1,
        username=username,
        password_hash=None,
        role=role,  # type: ignore[arg-type]
        active=True,
        auth_enabled=auth_enabled,
        created_at=0.0,
        updated_at=0.0,
        last_login_at=None,
    )
    networks = (TrustedNetwork.parse("192.168.1.0/24", "kiosk", allow_admin=allow_admin),)
    assert (trusted_entry_for(user, client, networks) is not None) is admitted


def test_security_settings_round_trip() -> None:
    settings = SecuritySettings().updated(
        {
            "trustedNetworks": [{"cidr": "192.168.1.0/24", "username": "kiosk"}],
            "registrationEnabled": True,
            "sessionIdleMinutes": 90,
        }
    )
    assert security_settings_from_json(settings.to_json()) == settings
    assert security_settings_from_json(None) == SecuritySettings()
    assert SecuritySettings().trusted_networks == ()
    assert SecuritySettings().registration_enabled is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"trustedNetworks": [{"cidr": "0.0.0.0/0", "username": "x"}]}, "every address"),
        ({"trustedNetworks": "192.168.1.0/24"}, "must be a list"),
        ({"registrationEnabled": "yes"}, "'registrationEnabled' must be true or false"),
        ({"sessionIdleMinutes": 0}, "'sessionIdleMinutes'"),
        ({"sessionIdleMinutes": True}, "'sessionIdleMinutes'"),
        ({"sessionTimeout": 5}, "unknown field 'sessionTimeout'"),
    ],
)
def test_security_settings_errors(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ApiError, match=message) as info:
        SecuritySettings().updated(changes)
    assert info.value.status == 400


async def test_periodic_purge_deletes_expired(storage: SqliteStorage, clock: FakeClock) -> None:
    import asyncio
    import contextlib
    import time

    from tiles_edge.auth.passwords import PasswordHasher
    from tiles_edge.auth.service import AuthOptions, AuthService

    auth = AuthService(
        AuthOptions(session_idle_minutes=5), hasher=PasswordHasher.insecure_for_tests(), clock=clock
    )
    await auth.start(storage)
    user = await make_user(storage)
    _, record = await auth.sessions.create(user, kind="password", ip_address=None, user_agent=None)
    clock.now += 5 * 60
    task = asyncio.create_task(auth.purge_periodically(interval_s=0.01))
    try:
        deadline = time.monotonic() + 30
        while await storage.get_session_by_hash(record.token_hash) is not None:
            assert time.monotonic() < deadline, "the expired session was never purged"
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert task.cancelled()
