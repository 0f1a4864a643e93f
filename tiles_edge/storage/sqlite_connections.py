"""The connections to one SQLite file: one writer and a small pool of read-only readers.

Every write runs on the writer inside ``BEGIN IMMEDIATE``, one transaction at a time, so
writers in this process never get ``SQLITE_BUSY``. A writer in another process waits for
the lock up to ``busy_timeout``. Readers run single statements in autocommit mode, so a
read transaction ends with its statement and does not hold back WAL checkpoints (the
short ``snapshot()`` block is the one exception).

aiosqlite runs each connection's calls in order on that connection's own thread. A
transaction interrupted by cancellation therefore still ends with the ROLLBACK queued
behind it, before the next writer's BEGIN.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from tiles_edge.errors import (
    StorageClosedError,
    StorageConflictError,
    StorageError,
    StorageNotFoundError,
)

logger = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]

# WAL file size kept on disk after a checkpoint resets it; bounds the file between
# checkpoints of a quiet database.
JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024


class WriteTransaction:
    """Statements of one ``BEGIN IMMEDIATE`` transaction on the writer connection."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement and return its rows (``RETURNING`` rows for writes)."""
        return list(await self._connection.execute_fetchall(sql, params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement per parameter set and return the number of rows changed."""
        cursor = await self._connection.executemany(sql, rows)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def execute_count(self, sql: str, params: Params = ()) -> int:
        """Run one write statement and return the number of rows it changed."""
        await self._connection.execute_fetchall(sql, params)
        rows = await self._connection.execute_fetchall("SELECT changes()")
        return int(next(iter(rows))[0])


class ReadSnapshot:
    """Statements of one read transaction on a reader connection."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._connection.execute_fetchall(sql, params))


class SqliteConnections:
    def __init__(self, path: Path, *, busy_timeout_ms: int, readers: int) -> None:
        if busy_timeout_ms < 5000:
            raise ValueError(f"busy_timeout_ms is {busy_timeout_ms}; use at least 5000")
        if readers < 1:
            raise ValueError(f"readers is {readers}; use at least 1")
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._reader_count = readers
        self._writer: aiosqlite.Connection | None = None
        self._readers: list[aiosqlite.Connection] = []
        self._idle_readers: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        self._write_lock = asyncio.Lock()
        self._closing = False
        self._closed = asyncio.Event()

    async def connect_writer(self) -> None:
        self._writer = await self._connect(read_only=False)

    async def connect_readers(self) -> None:
        for _ in range(self._reader_count):
            reader = await self._connect(read_only=True)
            self._readers.append(reader)
            self._idle_readers.put_nowait(reader)

    async def _connect(self, *, read_only: bool) -> aiosqlite.Connection:
        # isolation_level=None: the sqlite3 module opens no implicit transactions, so BEGIN
        # and COMMIT are issued here and nowhere else.
        connection = await aiosqlite.connect(
            self.path, isolation_level=None, timeout=self._busy_timeout_ms / 1000
        )
        try:
            connection.row_factory = sqlite3.Row
            rows = await connection.execute_fetchall("PRAGMA journal_mode = WAL")
            mode = next(iter(rows))[0]
            if mode != "wal":
                raise StorageError(
                    f"SQLite could not switch {self.path} to WAL mode (journal mode is {mode!r}): "
                    "put the state directory on a local file system"
                )
            await connection.execute_fetchall(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            await connection.execute_fetchall("PRAGMA synchronous = FULL")
            await connection.execute_fetchall("PRAGMA foreign_keys = ON")
            await connection.execute_fetchall(
                f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT_BYTES}"
            )
            if read_only:
                await connection.execute_fetchall("PRAGMA query_only = ON")
        except BaseException:
            await connection.close()
            raise
        return connection

    @property
    def closing(self) -> bool:
        return self._closing

    def check_open(self) -> None:
        if self._closing:
            raise StorageClosedError(f"the database {self.path} is closed")

    async def read(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one read-only statement on an idle reader and return all its rows."""
        self.check_open()
        reader = await self._idle_readers.get()
        try:
            return list(await reader.execute_fetchall(sql, params))
        except sqlite3.Error as err:
            raise translate_error(err) from err
        finally:
            self._idle_readers.put_nowait(reader)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[ReadSnapshot]:
        """Hold one reader in a read transaction, so several statements see one state.

        Keep the block short: an open read transaction stops checkpoints from resetting
        the WAL.
        """
        self.check_open()
        reader = await self._idle_readers.get()
        try:
            await reader.execute_fetchall("BEGIN")
            try:
                yield ReadSnapshot(reader)
            finally:
                await reader.rollback()
        except sqlite3.Error as err:
            raise translate_error(err) from err
        finally:
            self._idle_readers.put_nowait(reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[WriteTransaction]:
        """Hold the writer in ``BEGIN IMMEDIATE``; commit on exit, roll back on an error.

        The write is acknowledged (the block exits) only after COMMIT returned, which with
        ``synchronous=FULL`` means the WAL was synced to disk.
        """
        self.check_open()
        async with self._write_lock:
            writer = self._require_writer()
            try:
                await writer.execute_fetchall("BEGIN IMMEDIATE")
                yield WriteTransaction(writer)
                await writer.execute_fetchall("COMMIT")
            except BaseException as err:
                await writer.rollback()
                if isinstance(err, sqlite3.Error):
                    raise translate_error(err) from err
                raise

    async def write(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement in its own transaction and return its rows."""
        async with self.transaction() as transaction:
            return await transaction.execute(sql, params)

    async def run_on_writer(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run a statement on the writer outside any transaction (a checkpoint, VACUUM)."""
        self.check_open()
        async with self._write_lock:
            try:
                return list(await self._require_writer().execute_fetchall(sql, params))
            except sqlite3.Error as err:
                raise translate_error(err) from err

    async def read_pragmas(self) -> list[dict[str, Any]]:
        """Return the durability pragmas of every connection, the writer first."""
        self.check_open()
        names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout", "query_only")
        result: list[dict[str, Any]] = []
        async with self._write_lock:
            result.append(await _pragmas(self._require_writer(), "writer", names))
        for reader in self._readers:
            result.append(await _pragmas(reader, "reader", names))
        return result

    async def vacuum_into(self, dest: Path) -> None:
        """Write a compacted, consistent copy of the database to the new file ``dest``.

        VACUUM INTO is rejected on query_only readers and would stall writes on the writer,
        so it runs on a connection of its own that reads one snapshot.
        """
        self.check_open()
        connection = await self._connect(read_only=False)
        try:
            await connection.execute_fetchall("VACUUM INTO ?", (str(dest),))
        except sqlite3.Error as err:
            raise translate_error(err) from err
        finally:
            await _close_quietly(connection, self.path)

    def _require_writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StorageClosedError(f"the database {self.path} is not open")
        return self._writer

    async def close(self) -> None:
        """Let pending reads and writes finish, then close every connection; idempotent."""
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            # asyncio.Lock and asyncio.Queue serve waiters first come, first served, so
            # every write and read that started before close() runs before this point.
            async with self._write_lock:
                for _ in self._readers:
                    await self._idle_readers.get()
                for reader in self._readers:
                    await _close_quietly(reader, self.path)
                self._readers.clear()
                if self._writer is not None:
                    try:
                        await self._writer.execute_fetchall("PRAGMA optimize")
                    except sqlite3.Error as err:
                        logger.warning("PRAGMA optimize failed on %s: %s", self.path, err)
                    # The last connection to close checkpoints the WAL into the database.
                    await _close_quietly(self._writer, self.path)
                    self._writer = None
        finally:
            self._closed.set()


async def _pragmas(
    connection: aiosqlite.Connection, role: str, names: Iterable[str]
) -> dict[str, Any]:
    values: dict[str, Any] = {"role": role}
    for name in names:
        rows = await connection.execute_fetchall(f"PRAGMA {name}")
        values[name] = next(iter(rows))[0]
    return values


async def _close_quietly(connection: aiosqlite.Connection, path: Path) -> None:
    try:
        await connection.close()
    except sqlite3.Error as err:
        logger.warning("closing a connection to %s failed: %s", path, err)


def translate_error(err: sqlite3.Error) -> StorageError:
    """Map a sqlite3 error to the storage error a caller can act on."""
    if isinstance(err, sqlite3.IntegrityError):
        if "FOREIGN KEY" in str(err):
            return StorageNotFoundError(f"the write refers to a row that does not exist: {err}")
        return StorageConflictError(f"the database rejected the write: {err}")
    return StorageError(f"SQLite error: {err}")
