"""File operations on SQLite databases: start-up check, moving aside, backup files, restore.

These functions block, so async callers run them with ``asyncio.to_thread``. Nothing here
deletes a database: a damaged or replaced one is renamed next to the original.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from tiles_edge.errors import StorageError

logger = logging.getLogger(__name__)

# Primary result codes (the low byte of an extended code) that mean the file is damaged
# or is not an SQLite database: https://www.sqlite.org/rescode.html
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_SIDE_FILE_SUFFIXES = ("-wal", "-shm")
_FILE_MODE = 0o600


def is_corruption(err: sqlite3.Error) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def find_damage(path: Path, busy_timeout_ms: int) -> list[str]:
    """Run ``PRAGMA quick_check`` on ``path``; return the problems, ``[]`` when healthy.

    A file that SQLite cannot read as a database counts as damaged. Any other failure
    (permissions, a lock held past the busy timeout) raises StorageError, because moving
    a healthy database aside would hide the user's data.
    """
    # Read-only, because a read-write connection deletes the -wal file of a file that is
    # not a database when it closes, and checkpoints into a damaged one.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(
            uri, uri=True, timeout=busy_timeout_ms / 1000, isolation_level=None
        )
    except sqlite3.Error as err:
        raise StorageError(f"cannot open the database {path}: {err}") from err
    try:
        rows = connection.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as err:
        if is_corruption(err):
            return [str(err)]
        raise StorageError(f"cannot check the database {path}: {err}") from err
    finally:
        connection.close()
    problems = [str(row[0]) for row in rows]
    return [] if problems == ["ok"] else problems


def side_file(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def move_aside(path: Path, label: str) -> Path:
    """Rename ``path`` and its -wal and -shm files to ``<name>.<label>-<UTC time>``.

    The side files move first: a WAL left behind would be replayed into whatever database
    is created under the old name next.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{label}-{stamp}")
    attempt = 1
    while _any_exists(target):
        attempt += 1
        target = path.with_name(f"{path.name}.{label}-{stamp}-{attempt}")
    for suffix in _SIDE_FILE_SUFFIXES:
        if side_file(path, suffix).exists():
            os.rename(side_file(path, suffix), side_file(target, suffix))
    if path.exists():
        os.rename(path, target)
    fsync_directory(path.parent)
    return target


def _any_exists(path: Path) -> bool:
    return path.exists() or any(side_file(path, s).exists() for s in _SIDE_FILE_SUFFIXES)


def create_private_file(path: Path) -> None:
    """Create an empty ``path`` readable by its owner only, unless it exists.

    SQLite gives the -wal and -shm files the database file's permissions, so this keeps
    hub access tokens and password hashes private to the service user.
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    except FileExistsError:
        return
    os.close(descriptor)
    fsync_directory(path.parent)


def fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_directory(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def finish_backup_file(temporary: Path, dest: Path) -> None:
    """Sync a freshly written backup, make it private and rename it to ``dest``."""
    os.chmod(temporary, _FILE_MODE)
    fsync_file(temporary)
    os.replace(temporary, dest)
    fsync_directory(dest.parent)


def check_backup(backup: Path, latest_version: int) -> int:
    """Run ``PRAGMA integrity_check`` on a backup and return its schema version.

    Raises StorageError when the file is missing, damaged, not one of our databases or
    from a newer schema version than this build supports.
    """
    if not backup.is_file():
        raise StorageError(f"backup {backup} does not exist or is not a file")
    uri = f"{backup.resolve().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as err:
        raise StorageError(f"cannot open backup {backup}: {err}") from err
    try:
        problems = [str(row[0]) for row in connection.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise StorageError(
                f"backup {backup} failed the integrity check: {'; '.join(problems[:3])}"
            )
        row = connection.execute("SELECT max(version) FROM schema_migrations").fetchone()
    except sqlite3.DatabaseError as err:
        raise StorageError(f"backup {backup} is not a usable tiles-edge database: {err}") from err
    finally:
        connection.close()
    version = int(row[0]) if row is not None and row[0] is not None else 0
    if version > latest_version:
        raise StorageError(
            f"backup {backup} has schema version {version}, newer than this build's "
            f"{latest_version}: restore it with a newer tiles-edge"
        )
    return version


def copy_database(source: Path, dest: Path) -> None:
    """Copy ``source`` (with its WAL, if any) to the new file ``dest`` via the backup API."""
    uri = f"{source.resolve().as_uri()}?mode=ro"
    source_connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        create_private_file(dest)
        dest_connection = sqlite3.connect(dest, isolation_level=None)
        try:
            source_connection.backup(dest_connection)
        finally:
            dest_connection.close()
    finally:
        source_connection.close()
    fsync_file(dest)
