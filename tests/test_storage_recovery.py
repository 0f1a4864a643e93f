"""Damaged databases, backup and restore, and durability of acknowledged writes."""

from __future__ import annotations

import asyncio
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tiles_edge.errors import StorageError
from tiles_edge.storage import KpiReading, SqliteStorage

REPO_ROOT = Path(__file__).resolve().parents[1]


async def _fill(storage: SqliteStorage, users: int) -> None:
    for n in range(users):
        user = await storage.create_user(username=f"user{n}", password_hash=f"hash{n}")
        await storage.set_preference(user.id, "layout", "columns", n)
        await storage.set_device_selection(user.id, "favorites", f"main:{n}", sort_order=n)
    await storage.add_kpi_readings(
        [KpiReading("main:1", "power", float(n), "W", 1_700_000_000 + n) for n in range(100)]
    )


def _counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("users", "user_preferences", "device_selections", "kpi_sensor_readings")
        }
    finally:
        connection.close()


def _root_page_offset(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()[0]
    finally:
        connection.close()
    assert root > 1
    return int((root - 1) * page_size)


def _aside_files(folder: Path, label: str) -> list[Path]:
    return sorted(path for path in folder.iterdir() if f".{label}-" in path.name)


async def test_byte_flipped_database_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    async with SqliteStorage(path) as storage:
        await _fill(storage, 20)
    # The first byte of a b-tree page is its page type, and 0xFF is not a valid type.
    data = bytearray(path.read_bytes())
    data[_root_page_offset(path, "users")] = 0xFF
    path.write_bytes(bytes(data))

    storage = SqliteStorage(path)
    await storage.open()
    try:
        aside = _aside_files(tmp_path, "corrupt")
        main = aside[0]
        assert {file.name for file in aside} <= {main.name, main.name + "-wal", main.name + "-shm"}
        assert main.read_bytes() == bytes(data)
        assert storage.startup_alert is not None
        assert str(main) in storage.startup_alert
        assert (await storage.health())["startup_alert"] == storage.startup_alert
        assert await storage.count_users() == 0
        user = await storage.create_user(username="fresh", password_hash=None)
        assert (await storage.get_user(user.id)) == user
        assert await storage.integrity_check() == "ok"
    finally:
        await storage.close()


async def test_garbage_file_moved_aside_with_wal(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    garbage = random.Random(7).randbytes(3 * 4096)
    path.write_bytes(garbage)
    path.with_name(path.name + "-wal").write_bytes(b"not a wal either")

    async with SqliteStorage(path) as storage:
        assert storage.startup_alert is not None
        await storage.set_app_state("instance", "new")
        assert await storage.get_app_state("instance") == "new"

    aside = _aside_files(tmp_path, "corrupt")
    main = aside[0]
    wal = main.with_name(main.name + "-wal")
    assert main.read_bytes() == garbage
    assert wal.read_bytes() == b"not a wal either"
    assert {file.name for file in aside} <= {main.name, wal.name, main.name + "-shm"}


async def test_healthy_database_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    async with SqliteStorage(path) as storage:
        await _fill(storage, 3)

    async with SqliteStorage(path) as storage:
        assert storage.startup_alert is None
        assert await storage.count_users() == 3
    assert _aside_files(tmp_path, "corrupt") == []


async def test_backup_restore_keeps_counts(tmp_path: Path) -> None:
    path = tmp_path / "live" / "tiles-edge.db"
    backup = tmp_path / "backup.db"
    async with SqliteStorage(path) as storage:
        await _fill(storage, 10)
        await storage.backup(backup)
        backed_up = _counts(path)
        # Changes after the backup must disappear on restore.
        await storage.create_user(username="late", password_hash=None)
        await storage.delete_user(1)
        await storage.purge_kpi_readings(1_700_000_050)
    changed = _counts(path)
    assert changed != backed_up
    assert backup.stat().st_mode & 0o777 == 0o600

    replaced = await SqliteStorage.restore(backup, path)

    assert replaced is not None
    assert _counts(replaced) == changed
    async with SqliteStorage(path) as storage:
        assert await storage.integrity_check() == "ok"
        assert storage.startup_alert is None
        assert (await storage.get_user_by_username("user0")) is not None
        assert (await storage.get_user_by_username("late")) is None
    assert _counts(path) == backed_up


async def test_backup_while_writing(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    backup = tmp_path / "online.db"
    async with SqliteStorage(path) as storage:
        await _fill(storage, 5)
        before = await storage.count_users()

        async def keep_writing() -> None:
            for n in range(50):
                await storage.create_user(username=f"during{n}", password_hash=None)

        await asyncio.gather(keep_writing(), storage.backup(backup))
        after = await storage.count_users()

    async with SqliteStorage(backup) as copy:
        assert await copy.integrity_check() == "ok"
        assert before <= await copy.count_users() <= after


async def test_backup_to_live_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    async with SqliteStorage(path) as storage:
        with pytest.raises(ValueError, match="live database"):
            await storage.backup(path)
        with pytest.raises(StorageError, match="does not exist"):
            await storage.backup(tmp_path / "missing" / "b.db")


async def test_restore_rejects_damaged_backup(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    backup = tmp_path / "backup.db"
    async with SqliteStorage(path) as storage:
        await _fill(storage, 5)
        await storage.backup(backup)
    data = bytearray(backup.read_bytes())
    data[_root_page_offset(backup, "users")] = 0xFF
    backup.write_bytes(bytes(data))
    live = path.read_bytes()

    with pytest.raises(StorageError, match="backup"):
        await SqliteStorage.restore(backup, path)

    assert path.read_bytes() == live
    assert _aside_files(tmp_path, "pre-restore") == []


async def test_restore_rejects_foreign_database(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()

    with pytest.raises(StorageError, match="not a usable tiles-edge database"):
        await SqliteStorage.restore(other, tmp_path / "tiles-edge.db")


async def test_restore_rejects_open_database(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    backup = tmp_path / "backup.db"
    async with SqliteStorage(path) as storage:
        await storage.backup(backup)
        with pytest.raises(StorageError, match="close it before restoring"):
            await SqliteStorage.restore(backup, path)


# The child writes through SqliteStorage from several tasks and prints "<user id> <name>"
# only after both writes of an item returned, which is what acknowledged means.
_WRITER_CHILD = """
import asyncio, os, sys
from pathlib import Path
from tiles_edge.storage import SqliteStorage

async def main(path):
    storage = SqliteStorage(Path(path))
    await storage.open()
    sys.stdout.write("ready\\n")
    sys.stdout.flush()

    async def writer(worker):
        item = 0
        while True:
            name = f"p{os.getpid()}-w{worker}-{item}"
            user = await storage.create_user(username=name, password_hash=None)
            await storage.set_preference(user.id, "durability", "name", name)
            sys.stdout.write(f"{user.id} {name}\\n")
            sys.stdout.flush()
            item += 1

    await asyncio.gather(*(writer(worker) for worker in range(4)))

asyncio.run(main(sys.argv[1]))
"""


def _read_line(process: subprocess.Popen[bytes], deadline: float) -> bytes:
    assert process.stdout is not None
    remaining = deadline - time.monotonic()
    ready, _, _ = select.select([process.stdout], [], [], max(remaining, 0))
    if not ready:
        raise AssertionError("the writer process printed nothing before the deadline")
    return process.stdout.readline()


def _write_until_killed(path: Path, rng: random.Random, acknowledged: dict[int, str]) -> None:
    """Run one writer child, SIGKILL it after a random number of acknowledgements."""
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER_CHILD, str(path)],
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 30
        assert _read_line(process, deadline) == b"ready\n"
        for _ in range(rng.randint(1, 150)):
            user_id, name = _read_line(process, deadline).split()
            acknowledged[int(user_id)] = name.decode()
        process.send_signal(signal.SIGKILL)
        assert process.stdout is not None
        # Lines already in the pipe were acknowledged before the kill too. The piece after
        # the last newline is empty, or a line cut short by the kill.
        for line in process.stdout.read().split(b"\n")[:-1]:
            user_id, name = line.split()
            acknowledged[int(user_id)] = name.decode()
    finally:
        process.kill()
        process.wait()
    assert process.returncode == -signal.SIGKILL


async def _find_missing(path: Path, acknowledged: dict[int, str]) -> list[tuple[int, str]]:
    missing = []
    async with SqliteStorage(path) as storage:
        assert storage.startup_alert is None
        assert await storage.integrity_check() == "ok"
        for user_id, name in acknowledged.items():
            user = await storage.get_user(user_id)
            found, value = await storage.get_preference(user_id, "durability", "name")
            if user is None or user.username != name or not found or value != name:
                missing.append((user_id, name))
    return missing


@pytest.mark.slow
def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    acknowledged: dict[int, str] = {}

    for _round in range(6):
        _write_until_killed(path, rng, acknowledged)

    assert len(acknowledged) >= 6
    assert asyncio.run(_find_missing(path, acknowledged)) == [], f"seed {seed}"
