"""Data methods of the SQLite backend: accounts, secrets, scoping, hubs, KPI and state."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tiles_edge.errors import StorageConflictError, StorageNotFoundError
from tiles_edge.hubs.model import HubConfig
from tiles_edge.storage import KpiReading, SqliteStorage, UserRecord
from tiles_edge.storage.records import Role


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    opened = SqliteStorage(tmp_path / "tiles-edge.db")
    await opened.open()
    yield opened
    await opened.close()


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _raw(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


async def _user(storage: SqliteStorage, name: str, role: Role = "user") -> UserRecord:
    return await storage.create_user(username=name, password_hash=f"bcrypt-{name}", role=role)


# Users


async def test_usernames_unique_ignoring_case(storage: SqliteStorage) -> None:
    alice = await _user(storage, "Alice")

    with pytest.raises(StorageConflictError, match="already taken"):
        await _user(storage, "alice")

    found = await storage.get_user_by_username("ALICE")
    assert found == alice
    assert await storage.count_users() == 1


async def test_user_fields_round_trip(storage: SqliteStorage) -> None:
    created = await storage.create_user(
        username="bob", password_hash=None, role="admin", active=False, auth_enabled=False
    )

    fetched = await storage.get_user(created.id)

    assert fetched == created
    assert fetched.role == "admin"
    assert fetched.active is False
    assert fetched.auth_enabled is False
    assert fetched.password_hash is None
    assert fetched.last_login_at is None
    assert "bcrypt" not in repr(await _user(storage, "carol"))


async def test_booleans_stored_as_integers(storage: SqliteStorage) -> None:
    await storage.create_user(username="dave", password_hash=None, active=False)
    await storage.save_hub_config(HubConfig("main", "Main Hub", "10.0.0.2", "7", "tok"))

    user_types = _raw(storage.path, "SELECT typeof(active), typeof(auth_enabled) FROM users")
    hub_types = _raw(storage.path, "SELECT typeof(active) FROM hub_configurations")

    assert user_types == [("integer", "integer")]
    assert hub_types == [("integer",)]
    with pytest.raises(sqlite3.IntegrityError):
        _raw(storage.path, "UPDATE users SET active = 'true'")


async def test_update_user_changes_only_given_fields(storage: SqliteStorage) -> None:
    user = await _user(storage, "erin")

    updated = await storage.update_user(user.id, role="admin", last_login_at=1_800_000_000.5)

    assert updated is not None
    assert updated.role == "admin"
    assert updated.last_login_at == 1_800_000_000.5
    assert updated.username == "erin"
    assert updated.password_hash == user.password_hash
    assert updated.updated_at >= user.updated_at
    assert await storage.update_user(9999, role="admin") is None


async def test_update_user_rejects_bad_values(storage: SqliteStorage) -> None:
    user = await _user(storage, "frank")
    await _user(storage, "grace")

    with pytest.raises(ValueError, match="role"):
        await storage.update_user(user.id, role="root")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unknown field"):
        await storage.update_user(user.id, is_admin=True)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="must be a bool"):
        await storage.update_user(user.id, active="yes")  # type: ignore[arg-type]
    with pytest.raises(StorageConflictError, match="'GRACE' is already taken"):
        await storage.update_user(user.id, username="GRACE")
    assert (await storage.get_user(user.id)) == user


async def test_last_active_admin_is_kept(storage: SqliteStorage) -> None:
    admin = await _user(storage, "root", role="admin")
    other = await _user(storage, "helper", role="admin")

    await storage.update_user(other.id, keep_active_admin=True, active=False)
    with pytest.raises(StorageConflictError, match="no active admin"):
        await storage.update_user(admin.id, keep_active_admin=True, role="user")
    with pytest.raises(StorageConflictError, match="no active admin"):
        await storage.delete_user(admin.id, keep_active_admin=True)

    assert await storage.count_active_admins() == 1
    assert (await storage.get_user(admin.id)) == admin
    assert await storage.delete_user(other.id, keep_active_admin=True) is True
    assert await storage.delete_user(other.id) is False


async def test_delete_user_cascades(storage: SqliteStorage) -> None:
    user = await _user(storage, "henry")
    await storage.create_session(
        user_id=user.id, token_hash=_sha256("s"), expires_at=2e9, timeout_minutes=60
    )
    await storage.create_api_token(user_id=user.id, name="kiosk", token_hash=_sha256("t"))
    await storage.set_preference(user.id, "layout", "columns", 4)
    await storage.set_user_setting(user.id, "timezone", "UTC")
    await storage.set_device_selection(user.id, "favorites", "main:1")

    assert await storage.delete_user(user.id) is True

    for table in ("sessions", "api_tokens", "user_preferences", "user_settings"):
        assert _raw(storage.path, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert _raw(storage.path, "SELECT count(*) FROM device_selections") == [(0,)]


# Sessions and tokens


async def test_session_stores_only_the_hash(storage: SqliteStorage) -> None:
    user = await _user(storage, "ivy")
    token = secrets.token_urlsafe(32)
    token_hash = _sha256(token)

    session = await storage.create_session(
        user_id=user.id,
        token_hash=token_hash,
        expires_at=2e9,
        timeout_minutes=30,
        kind="trusted",
        ip_address="192.0.2.10",
        user_agent="kiosk",
        now=1_700_000_000.0,
    )

    assert session.token_hash == token_hash
    assert session.created_at == session.last_seen_at == 1_700_000_000.0
    assert (await storage.get_session_by_hash(token_hash)) == session
    assert token_hash not in repr(session)
    await storage.checkpoint()
    dump = "\n".join(sqlite3.connect(storage.path).iterdump())
    assert token_hash in dump
    assert token not in dump
    for file in storage.path.parent.iterdir():
        assert token.encode() not in file.read_bytes(), file


async def test_session_rejects_raw_token(storage: SqliteStorage) -> None:
    user = await _user(storage, "jack")
    token = secrets.token_urlsafe(32)

    with pytest.raises(ValueError, match="SHA-256"):
        await storage.create_session(
            user_id=user.id, token_hash=token, expires_at=2e9, timeout_minutes=30
        )
    with pytest.raises(sqlite3.IntegrityError):
        _raw(
            storage.path,
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, "
            "timeout_minutes) VALUES (?, ?, 0, 0, 0, 1)",
            (token, user.id),
        )
    assert _raw(storage.path, "SELECT count(*) FROM sessions") == [(0,)]


async def test_session_for_unknown_user(storage: SqliteStorage) -> None:
    with pytest.raises(StorageNotFoundError, match="user 42"):
        await storage.create_session(
            user_id=42, token_hash=_sha256("x"), expires_at=2e9, timeout_minutes=30
        )


async def test_session_lifecycle(storage: SqliteStorage) -> None:
    user = await _user(storage, "kate")
    first = await storage.create_session(
        user_id=user.id, token_hash=_sha256("a"), expires_at=100.0, timeout_minutes=5
    )
    second = await storage.create_session(
        user_id=user.id, token_hash=_sha256("b"), expires_at=200.0, timeout_minutes=5
    )
    third = await storage.create_session(
        user_id=user.id, token_hash=_sha256("c"), expires_at=300.0, timeout_minutes=5
    )

    assert await storage.touch_session(second.id, 150.0, expires_at=450.0) is True
    touched = await storage.get_session_by_hash(_sha256("b"))
    assert touched is not None
    assert (touched.last_seen_at, touched.expires_at) == (150.0, 450.0)
    pair = await storage.get_session_with_user(_sha256("b"))
    assert pair == (touched, user)
    assert await storage.get_session_with_user(_sha256("missing")) is None

    assert await storage.purge_expired_sessions(now=300.0) == 2
    assert [session.id for session in await storage.list_user_sessions(user.id)] == [second.id]
    assert first.id != third.id
    assert await storage.delete_session(second.id) is True
    assert await storage.delete_session(second.id) is False
    assert await storage.touch_session(second.id, 500.0) is False


async def test_delete_user_sessions_keeps_current(storage: SqliteStorage) -> None:
    user = await _user(storage, "liam")
    other = await _user(storage, "mia")
    ids = [
        (
            await storage.create_session(
                user_id=user.id, token_hash=_sha256(f"u{n}"), expires_at=2e9, timeout_minutes=5
            )
        ).id
        for n in range(3)
    ]
    kept = await storage.create_session(
        user_id=other.id, token_hash=_sha256("o"), expires_at=2e9, timeout_minutes=5
    )

    deleted = await storage.delete_user_sessions(user.id, except_session_id=ids[0])

    assert deleted == ids[1:]
    assert await storage.delete_user_sessions(user.id) == [ids[0]]
    assert await storage.list_user_sessions(other.id) == [kept]


async def test_api_tokens_scoped_and_revocable(storage: SqliteStorage) -> None:
    owner = await _user(storage, "noah")
    stranger = await _user(storage, "olivia")
    token = await storage.create_api_token(
        user_id=owner.id, name="wall tablet", token_hash=_sha256("api"), now=10.0
    )

    assert await storage.get_api_token_by_hash(_sha256("api")) == token
    assert await storage.touch_api_token(token.id, 20.0) is True
    assert await storage.revoke_api_token(stranger.id, token.id) is False
    assert await storage.revoke_api_token(owner.id, token.id, now=30.0) is True
    assert await storage.revoke_api_token(owner.id, token.id) is False

    assert await storage.get_api_token_by_hash(_sha256("api")) is None
    assert await storage.touch_api_token(token.id, 40.0) is False
    listed = await storage.list_api_tokens(owner.id)
    assert [(t.id, t.last_used_at, t.revoked_at) for t in listed] == [(token.id, 20.0, 30.0)]
    assert await storage.list_api_tokens(stranger.id) == []
    with pytest.raises(ValueError, match="SHA-256"):
        await storage.create_api_token(user_id=owner.id, name="x", token_hash="plain-token")


# Preferences, settings and selections


async def test_preferences_scoped_per_user(storage: SqliteStorage) -> None:
    alice = await _user(storage, "alice")
    bob = await _user(storage, "bob")
    await storage.set_preference(alice.id, "layout", "columns", 4)
    await storage.set_preference(alice.id, "theme", "mode", {"dark": True, "accent": [1, 2]})
    await storage.set_preference(bob.id, "layout", "columns", 2)

    assert await storage.get_preferences(alice.id) == {
        "layout": {"columns": 4},
        "theme": {"mode": {"dark": True, "accent": [1, 2]}},
    }
    assert await storage.get_preferences(bob.id) == {"layout": {"columns": 2}}
    assert await storage.get_preferences(bob.id, "theme") == {}
    assert await storage.get_preference(bob.id, "theme", "mode") == (False, None)
    assert await storage.delete_preference(bob.id, "theme", "mode") is False
    assert await storage.delete_preference(bob.id, "layout", "columns") is True
    assert await storage.get_preference(alice.id, "layout", "columns") == (True, 4)


async def test_preference_null_differs_from_missing(storage: SqliteStorage) -> None:
    user = await _user(storage, "pat")
    await storage.set_preference(user.id, "layout", "pinned", None)

    assert await storage.get_preference(user.id, "layout", "pinned") == (True, None)
    assert await storage.get_preference(user.id, "layout", "other") == (False, None)


async def test_preferences_bulk_only_missing(storage: SqliteStorage) -> None:
    user = await _user(storage, "quinn")
    await storage.set_preference(user.id, "layout", "columns", 4)

    written = await storage.set_preferences_bulk(
        user.id, [("layout", "columns", 9), ("layout", "rows", 3)], only_missing=True
    )

    assert written == 1
    assert await storage.get_preferences(user.id, "layout") == {"layout": {"columns": 4, "rows": 3}}
    assert await storage.set_preferences_bulk(user.id, [("layout", "columns", 9)]) == 1
    assert await storage.get_preference(user.id, "layout", "columns") == (True, 9)
    assert await storage.set_preferences_bulk(user.id, []) == 0


async def test_preferences_bulk_rejects_whole_batch(storage: SqliteStorage) -> None:
    user = await _user(storage, "ruby")

    with pytest.raises(ValueError, match="not a JSON value"):
        await storage.set_preferences_bulk(
            user.id, [("layout", "columns", 4), ("layout", "bad", float("nan"))]
        )
    with pytest.raises(StorageNotFoundError, match="user 999"):
        await storage.set_preference(999, "layout", "columns", 4)

    assert await storage.get_preferences(user.id) == {}


async def test_delete_preferences_by_category(storage: SqliteStorage) -> None:
    user = await _user(storage, "sam")
    other = await _user(storage, "tess")
    items = [("a", "x", 1), ("a", "y", 2), ("b", "x", 3)]
    await storage.set_preferences_bulk(user.id, items)
    await storage.set_preferences_bulk(other.id, items)

    assert await storage.delete_preferences(user.id, "a") == 2
    assert await storage.get_preferences(user.id) == {"b": {"x": 3}}
    assert await storage.delete_preferences(user.id) == 1
    assert len(await storage.get_preferences(other.id)) == 2


async def test_user_settings_scoped(storage: SqliteStorage) -> None:
    alice = await _user(storage, "uma")
    bob = await _user(storage, "vic")
    await storage.set_user_setting(alice.id, "timezone", "Europe/Berlin")
    await storage.set_user_setting(alice.id, "timezone", "UTC")
    await storage.set_user_setting(bob.id, "temperature_scale", "C")

    assert await storage.get_user_settings(alice.id) == {"timezone": "UTC"}
    assert await storage.get_user_settings(bob.id) == {"temperature_scale": "C"}
    assert await storage.delete_user_setting(bob.id, "timezone") is False
    assert await storage.delete_user_setting(alice.id, "timezone") is True


async def test_device_selections_scoped(storage: SqliteStorage) -> None:
    alice = await _user(storage, "wendy")
    bob = await _user(storage, "xavier")
    await storage.set_device_selection(alice.id, "favorites", "main:2", sort_order=2)
    await storage.set_device_selection(alice.id, "favorites", "main:1", sort_order=1)
    await storage.set_device_selection(alice.id, "hidden", "garage:5")
    await storage.set_device_selection(bob.id, "favorites", "main:9")
    await storage.set_device_selection(None, "favorites", "main:1", value={"section": "Hall"})

    alice_favorites = await storage.list_device_selections(alice.id, "favorites")
    assert [(s.device_uid, s.sort_order) for s in alice_favorites] == [
        ("main:1", 1),
        ("main:2", 2),
    ]
    assert all(s.user_id == alice.id for s in await storage.list_device_selections(alice.id))
    assert len(await storage.list_device_selections(alice.id)) == 3
    assert [s.device_uid for s in await storage.list_device_selections(bob.id)] == ["main:9"]
    household = await storage.list_device_selections(None)
    assert [(s.user_id, s.device_uid, s.value) for s in household] == [
        (None, "main:1", {"section": "Hall"})
    ]
    assert await storage.delete_device_selection(bob.id, "favorites", "main:1") is False
    assert await storage.delete_device_selection(None, "favorites", "main:1") is True
    assert len(await storage.list_device_selections(alice.id, "favorites")) == 2


async def test_household_selection_upserts(storage: SqliteStorage) -> None:
    await storage.set_device_selection(None, "favorites", "main:1", value=1, sort_order=1)
    await storage.set_device_selection(None, "favorites", "main:1", value=2, sort_order=5)

    household = await storage.list_device_selections(None)

    assert [(s.value, s.sort_order) for s in household] == [(2, 5)]


# Hubs


async def test_hub_config_round_trip(storage: SqliteStorage) -> None:
    garage = HubConfig(
        hub_id="garage",
        name="Garage Hub",
        host="http://192.0.2.20:8080",
        app_id="31",
        token="0b6e-token-garage",
        transport="webhook",
        order=2,
        active=False,
    )
    main = HubConfig("main", "Main Hub", "192.0.2.10", "12", "0b6e-token-main", order=1)
    await storage.save_hub_config(garage)
    await storage.save_hub_config(main)

    assert await storage.list_hub_configs() == [main, garage]
    assert await storage.get_hub_config("garage") == garage
    assert await storage.get_hub_config("attic") is None

    main.transport = "poll"
    main.name = "Main Hub (renamed)"
    await storage.save_hub_config(main)
    assert await storage.get_hub_config("main") == main
    assert await storage.delete_hub_config("garage") is True
    assert await storage.delete_hub_config("garage") is False
    assert await storage.list_hub_configs() == [main]


async def test_hub_transport_checked(storage: SqliteStorage) -> None:
    hub = HubConfig("main", "Main Hub", "192.0.2.10", "12", "tok")
    hub.transport = "carrier-pigeon"  # type: ignore[assignment]

    with pytest.raises(ValueError, match="transport"):
        await storage.save_hub_config(hub)
    with pytest.raises(ValueError, match="hub id"):
        await storage.save_hub_config(HubConfig("Main:1", "Main Hub", "h", "12", "tok"))
    with pytest.raises(sqlite3.IntegrityError):
        _raw(
            storage.path,
            "INSERT INTO hub_configurations (hub_id, name, host, app_id, token, transport, "
            "created_at, updated_at) VALUES ('main', 'n', 'h', '1', 't', 'carrier-pigeon', 0, 0)",
        )
    assert await storage.list_hub_configs() == []


async def test_webhook_secret_kept_on_save(storage: SqliteStorage) -> None:
    main = HubConfig("main", "Main Hub", "192.0.2.10", "12", "tok")
    garage = HubConfig("garage", "Garage Hub", "192.0.2.20", "31", "tok", active=False)
    await storage.save_hub_config(main)
    await storage.save_hub_config(garage)
    await storage.set_hub_webhook_secret("main", _sha256("hook-main"))
    await storage.set_hub_webhook_secret("garage", _sha256("hook-garage"))

    main.host = "192.0.2.11"
    await storage.save_hub_config(main)

    assert await storage.get_hub_webhook_secrets() == {"main": _sha256("hook-main")}
    with pytest.raises(StorageNotFoundError, match="attic"):
        await storage.set_hub_webhook_secret("attic", _sha256("x"))
    with pytest.raises(ValueError, match="SHA-256"):
        await storage.set_hub_webhook_secret("main", "hook-main")
    await storage.set_hub_webhook_secret("main", None)
    assert await storage.get_hub_webhook_secrets() == {}


# App state, Matter and KPI


async def test_app_state_values(storage: SqliteStorage) -> None:
    assert await storage.get_app_state("missing") is None
    await storage.set_app_state("webhook_generation:main", "2")
    await storage.set_app_state("flags", {"setup_done": True})

    assert await storage.get_app_state("webhook_generation:main") == "2"
    assert await storage.get_app_state("flags") == {"setup_done": True}
    assert await storage.ensure_app_state("instance_id", "first") == "first"
    assert await storage.ensure_app_state("instance_id", "second") == "first"


async def test_matter_mappings(storage: SqliteStorage) -> None:
    node = str(2**64 - 1)
    await storage.set_matter_mapping("main:1", node, 1)
    await storage.set_matter_mapping("main:2", node, 2)

    with pytest.raises(StorageConflictError):
        await storage.set_matter_mapping("main:3", node, 2)
    with pytest.raises(ValueError, match="endpoint"):
        await storage.set_matter_mapping("main:3", node, 70000)

    mappings = await storage.list_matter_mappings()
    assert [(m.device_uid, m.matter_node_id, m.endpoint) for m in mappings] == [
        ("main:1", node, 1),
        ("main:2", node, 2),
    ]
    assert await storage.delete_matter_mapping("main:1") is True
    assert await storage.delete_matter_mapping("main:1") is False


async def test_kpi_readings_range_and_purge(storage: SqliteStorage) -> None:
    readings = [KpiReading("main:1", "power", n * 1.5, "W", 1000 + n) for n in range(10)]
    readings.append(KpiReading("main:1", "energy", 5.0, "kWh", 1003))
    readings.append(KpiReading("main:2", "power", 7.0, "W", 1003))
    assert await storage.add_kpi_readings(readings) == 12

    window = await storage.kpi_readings("main:1", "power", 1002, 1005)

    assert window == readings[2:5]
    assert await storage.purge_kpi_readings(before=1005) == 7
    assert len(await storage.kpi_readings("main:1", "power", 0, 2000)) == 5
    health = await storage.health()
    assert health["wal_bytes"] == 0


async def test_kpi_rejects_non_finite(storage: SqliteStorage) -> None:
    with pytest.raises(ValueError, match="not finite"):
        await storage.add_kpi_readings(
            [
                KpiReading("main:1", "power", 1.0, "W", 1),
                KpiReading("main:1", "power", float("inf"), "W", 2),
            ]
        )
    assert await storage.kpi_readings("main:1", "power", 0, 10) == []
