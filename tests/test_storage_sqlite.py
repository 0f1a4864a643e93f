"""SQLite backend lifecycle: pragmas, migrations, close, leaks and database URLs."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tiles_edge.errors import StorageClosedError, StorageError
from tiles_edge.storage import SqliteStorage, open_storage, sqlite_path_for
from tiles_edge.storage.migrations import load_migrations, split_statements


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    opened = SqliteStorage(tmp_path / "tiles-edge.db")
    await opened.open()
    yield opened
    await opened.close()


async def test_pragmas_on_every_connection(storage: SqliteStorage) -> None:
    connections = await storage.connection_pragmas()

    roles = [connection["role"] for connection in connections]
    assert roles[0] == "writer"
    assert roles.count("reader") >= 1
    for connection in connections:
        assert connection["journal_mode"] == "wal", connection
        assert connection["synchronous"] == 2, connection  # 2 is FULL
        assert connection["foreign_keys"] == 1, connection
        assert connection["busy_timeout"] >= 5000, connection
    assert connections[0]["query_only"] == 0
    assert all(connection["query_only"] == 1 for connection in connections[1:])


async def test_database_header_says_wal(storage: SqliteStorage) -> None:
    await storage.set_app_state("probe", 1)

    header = storage.path.read_bytes()[:100]

    # Bytes 18 and 19 are the file format write and read versions: 2 means WAL.
    assert header[18] == 2
    assert header[19] == 2


async def test_database_file_is_private(storage: SqliteStorage) -> None:
    await storage.set_app_state("probe", 1)

    assert storage.path.stat().st_mode & 0o777 == 0o600
    wal = storage.path.with_name(storage.path.name + "-wal")
    assert wal.stat().st_mode & 0o777 == 0o600


async def test_close_twice_then_use_raises(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "db.sqlite")
    await storage.open()
    await storage.set_app_state("k", "v")

    await storage.close()
    await storage.close()

    with pytest.raises(StorageClosedError):
        await storage.get_app_state("k")
    with pytest.raises(StorageClosedError):
        await storage.set_app_state("k", "w")
    with pytest.raises(StorageClosedError):
        await storage.health()
    with pytest.raises(StorageClosedError):
        await storage.open()


async def test_concurrent_open_connects_once(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "db.sqlite", readers=2)

    await asyncio.gather(storage.open(), storage.open(), storage.open())

    try:
        assert len(await storage.connection_pragmas()) == 3
    finally:
        await storage.close()
    _join_connection_threads()
    assert _connection_threads() == []


async def test_use_before_open_raises(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "db.sqlite")

    with pytest.raises(StorageError, match="not open"):
        await storage.get_app_state("k")


async def test_close_waits_for_pending_writes(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "db.sqlite")
    await storage.open()
    writes = [asyncio.create_task(storage.set_app_state(f"key{n}", n)) for n in range(40)]
    # Let every write start and queue on the writer before close() is called.
    await asyncio.sleep(0)

    await storage.close()

    results = await asyncio.gather(*writes, return_exceptions=True)
    assert [result for result in results if result is not None] == []
    async with SqliteStorage(tmp_path / "db.sqlite") as reopened:
        for n in range(40):
            assert await reopened.get_app_state(f"key{n}") == n


async def test_concurrent_close_calls_all_return(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "db.sqlite")
    await storage.open()

    await asyncio.gather(*(storage.close() for _ in range(5)))

    with pytest.raises(StorageClosedError):
        await storage.count_users()


async def test_migrations_recorded_once_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    for _ in range(3):
        async with SqliteStorage(path) as storage:
            await storage.create_user(
                username=f"user{await storage.count_users()}", password_hash=None
            )

    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT version, name FROM schema_migrations").fetchall()
        user_count = connection.execute("SELECT count(*) FROM users").fetchone()[0]
    finally:
        connection.close()
    expected = [(migration.version, migration.name) for migration in load_migrations("sqlite")]
    assert sorted(rows) == expected
    assert user_count == 3


async def test_newer_schema_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    async with SqliteStorage(path):
        pass
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 'x', 0)")
    connection.close()

    storage = SqliteStorage(path)
    with pytest.raises(StorageError, match="schema version 9999"):
        await storage.open()
    await storage.close()
    assert path.exists()


def test_split_statements_keeps_strings_and_triggers() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    CREATE TRIGGER t_insert AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'c;d' WHERE rowid = new.rowid;
    END;
    /* trailing; comment */
    """

    statements = split_statements(script)

    assert len(statements) == 2
    assert "'a;b'" in statements[0]
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].rstrip().endswith("END;")


def test_split_statements_last_semicolon_optional() -> None:
    assert split_statements("CREATE TABLE t (x); CREATE TABLE u (y)") == [
        "CREATE TABLE t (x);",
        "CREATE TABLE u (y);",
    ]


def test_split_statements_rejects_unterminated_string() -> None:
    with pytest.raises(StorageError, match="incomplete statement"):
        split_statements("CREATE TABLE t (x); CREATE TABLE u (y TEXT DEFAULT 'abc)")


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def _connection_threads() -> list[threading.Thread]:
    # aiosqlite names each connection's thread after its target function.
    return [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]


def _threads_outside_executor() -> list[threading.Thread]:
    # asyncio's default executor runs the file checks. Its "asyncio_N" threads stay idle
    # for the loop's life and are reused, so they are not a leak.
    return [t for t in threading.enumerate() if not t.name.startswith("asyncio_")]


def _join_connection_threads(timeout_s: float = 10.0) -> None:
    # The threads end just after close() returns, so join them with a deadline.
    deadline = time.monotonic() + timeout_s
    for thread in _connection_threads():
        thread.join(max(deadline - time.monotonic(), 0))


async def test_fifty_open_close_cycles_leak_nothing(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    async with SqliteStorage(path) as storage:
        await storage.set_app_state("warm-up", True)
    _join_connection_threads()
    baseline_threads = _threads_outside_executor()
    baseline_descriptors = _open_descriptors()

    for cycle in range(50):
        async with SqliteStorage(path) as storage:
            await storage.set_app_state("cycle", cycle)
            assert await storage.get_app_state("cycle") == cycle

    _join_connection_threads()
    assert _connection_threads() == []
    assert _threads_outside_executor() == baseline_threads
    assert _open_descriptors() == baseline_descriptors


async def test_health_reports_database(storage: SqliteStorage) -> None:
    await storage.set_app_state("probe", "x")

    health = await storage.health()

    assert health["ok"] is True
    assert health["backend"] == "sqlite"
    assert health["path"] == str(storage.path)
    assert health["size_bytes"] > 0
    assert health["startup_alert"] is None
    assert health["schema_version"] == load_migrations("sqlite")[-1].version


async def test_integrity_check_ok(storage: SqliteStorage) -> None:
    assert await storage.integrity_check() == "ok"


def test_database_url_forms(tmp_path: Path) -> None:
    assert sqlite_path_for("", tmp_path) == tmp_path / "tiles-edge.db"
    assert sqlite_path_for("sqlite:///var/lib/x.db", tmp_path) == Path("/var/lib/x.db")
    assert sqlite_path_for("sqlite:data/x.db", tmp_path) == tmp_path / "data" / "x.db"
    assert sqlite_path_for("sqlite:///tmp/a%20b.db", tmp_path) == Path("/tmp/a b.db")

    storage = open_storage("", tmp_path)
    assert isinstance(storage, SqliteStorage)
    assert storage.path == tmp_path / "tiles-edge.db"


@pytest.mark.parametrize(
    "url",
    ["sqlite://otherhost/x.db", "sqlite:///x.db?mode=ro", "sqlite://", "sqlite:///dir/"],
)
def test_database_url_invalid_sqlite(tmp_path: Path, url: str) -> None:
    with pytest.raises(StorageError):
        open_storage(url, tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://tiles:hunter2-secret@db.example/tiles",
        "postgres://tiles:hunter2-secret@db.example/tiles",
        "postgresql+psycopg://tiles:hunter2-secret@db.example/tiles",
    ],
)
def test_postgres_url_not_available(tmp_path: Path, url: str) -> None:
    with pytest.raises(StorageError, match="PostgreSQL backend is not available") as caught:
        open_storage(url, tmp_path)

    assert "hunter2-secret" not in str(caught.value)


def test_unknown_url_scheme_hides_url(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="'mysql' is not supported") as caught:
        open_storage("mysql://root:hunter2-secret@localhost/x", tmp_path)

    assert "hunter2-secret" not in str(caught.value)


def test_busy_timeout_below_minimum_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 5000"):
        SqliteStorage(tmp_path / "db.sqlite", busy_timeout_ms=1000)
