"""Concurrent writers and readers on the SQLite backend."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tiles_edge.storage import KpiReading, SqliteStorage

WRITERS = 50
ITEMS_PER_WRITER = 6


async def _write_items(storage: SqliteStorage, prefix: str, worker: int) -> None:
    for item in range(ITEMS_PER_WRITER):
        user = await storage.create_user(username=f"{prefix}-{worker}-{item}", password_hash=None)
        await storage.set_preferences_bulk(
            user.id, [("layout", "columns", item), ("layout", "theme", "dark")]
        )
        await storage.add_kpi_readings(
            [KpiReading(f"{prefix}:{worker}", "power", float(item), "W", item)]
        )


async def test_fifty_writers_with_readers_never_busy(tmp_path: Path) -> None:
    path = tmp_path / "tiles-edge.db"
    # A second storage on the same file plays another process, such as the command line
    # adding a hub while the server runs. Its writer waits for the lock via busy_timeout.
    async with SqliteStorage(path) as storage, SqliteStorage(path) as other:
        writers_done = asyncio.Event()
        reads = 0

        async def read_until_done() -> None:
            nonlocal reads
            while not writers_done.is_set():
                await storage.count_users()
                await storage.get_user(1)
                await other.get_preferences(1)
                reads += 3

        async def write_all() -> None:
            try:
                await asyncio.gather(
                    *(_write_items(storage, "main", worker) for worker in range(WRITERS)),
                    *(_write_items(other, "other", worker) for worker in range(WRITERS // 5)),
                )
            finally:
                writers_done.set()

        await asyncio.gather(write_all(), *(read_until_done() for _ in range(8)))

        total_writers = WRITERS + WRITERS // 5
        assert await storage.count_users() == total_writers * ITEMS_PER_WRITER
        assert reads > 0
        kpi = await storage.kpi_readings("main:7", "power", 0, ITEMS_PER_WRITER)
        assert [reading.value for reading in kpi] == [float(n) for n in range(ITEMS_PER_WRITER)]
        assert await storage.integrity_check() == "ok"


async def test_cancelled_bulk_write_is_all_or_nothing(tmp_path: Path) -> None:
    async with SqliteStorage(tmp_path / "tiles-edge.db") as storage:
        user = await storage.create_user(username="alice", password_hash=None)
        items = [("bulk", f"key{n}", n) for n in range(500)]
        blocker_entered = asyncio.Event()
        release_blocker = asyncio.Event()

        async def hold_writer() -> None:
            async with storage._db.transaction():
                blocker_entered.set()
                await release_blocker.wait()

        blocker = asyncio.create_task(hold_writer())
        await blocker_entered.wait()
        # This write queues behind the held writer and is cancelled while it waits.
        queued = asyncio.create_task(storage.set_preferences_bulk(user.id, items))
        follower = asyncio.create_task(storage.set_preference(user.id, "after", "k", 1))
        await asyncio.sleep(0)
        queued.cancel()
        release_blocker.set()
        await blocker
        with pytest.raises(asyncio.CancelledError):
            await queued
        await follower

        preferences = await storage.get_preferences(user.id)
        assert "bulk" not in preferences
        assert preferences["after"] == {"k": 1}

        # A write cancelled while its statements run still ends in a whole transaction.
        running = asyncio.create_task(storage.set_preferences_bulk(user.id, items))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await storage.set_preference(user.id, "after", "k", 2)

        bulk = (await storage.get_preferences(user.id, "bulk")).get("bulk", {})
        assert len(bulk) in (0, len(items))
        assert (await storage.get_preference(user.id, "after", "k")) == (True, 2)
        assert await storage.integrity_check() == "ok"
