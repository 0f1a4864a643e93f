"""``tiles-edge db backup|restore``: copies of the SQLite database."""

from __future__ import annotations

import sys
from pathlib import Path

from tiles_edge.config import Settings
from tiles_edge.errors import StorageError, TilesError


class DbCliError(TilesError):
    """A database command failed in a way the user can fix, and the message names the fix."""


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


async def backup_database(settings: Settings, dest: Path) -> int:
    """Write a consistent copy of the live database, also while the server runs."""
    from tiles_edge.storage import open_storage

    storage = open_storage(settings.database_url, settings.state_dir)
    await storage.open()
    try:
        await storage.backup(dest)
        integrity = await storage.integrity_check()
    except (StorageError, ValueError) as err:
        raise DbCliError(f"backup to {dest} failed: {err}") from err
    finally:
        await storage.close()
    _out(f"wrote a backup of the database to {dest} (integrity of the live database: {integrity})")
    return 0


def resolve_file(path: Path, *, must_exist: bool) -> Path:
    """Return ``path`` made absolute, checking first that it exists when it must."""
    resolved = path.expanduser().resolve()
    if must_exist and not resolved.is_file():
        raise DbCliError(f"backup file {resolved} does not exist")
    return resolved


async def restore_database(settings: Settings, backup: Path) -> int:
    """Replace the database with a checked backup; the server must be stopped."""
    from tiles_edge.storage import sqlite_path_for
    from tiles_edge.storage.sqlite import SqliteStorage

    if settings.database_url and not settings.database_url.startswith("sqlite"):
        raise DbCliError("restore works on the SQLite database only")
    source = backup
    target = sqlite_path_for(settings.database_url, settings.state_dir)
    try:
        previous = await SqliteStorage.restore(source, target)
    except StorageError as err:
        raise DbCliError(f"restore from {source} failed: {err}") from err
    _out(f"restored {target} from {source}")
    if previous is not None:
        _out(f"the database it replaced was kept as {previous}")
    return 0
