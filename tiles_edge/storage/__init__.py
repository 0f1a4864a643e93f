"""Persistent state: users, sessions, preferences, hubs and KPI readings.

``open_storage`` picks the backend from the configured database URL; callers then
``await storage.open()`` (or use ``async with``) and ``await storage.close()``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from tiles_edge.errors import StorageError
from tiles_edge.storage.base import Storage
from tiles_edge.storage.records import (
    ApiTokenRecord,
    DeviceSelectionRecord,
    KpiReading,
    MatterMapping,
    SessionRecord,
    UserRecord,
)
from tiles_edge.storage.sqlite import SqliteStorage

DEFAULT_SQLITE_NAME = "tiles-edge.db"

__all__ = [
    "DEFAULT_SQLITE_NAME",
    "ApiTokenRecord",
    "DeviceSelectionRecord",
    "KpiReading",
    "MatterMapping",
    "SessionRecord",
    "SqliteStorage",
    "Storage",
    "UserRecord",
    "open_storage",
    "sqlite_path_for",
]


def sqlite_path_for(database_url: str, state_dir: Path) -> Path:
    """Return the SQLite file for ``""`` or a ``sqlite:`` URL.

    ``""`` is ``<state_dir>/tiles-edge.db``; ``sqlite:///var/x.db`` is the absolute path
    ``/var/x.db``; ``sqlite:x.db`` is relative to the state directory.
    """
    if database_url == "":
        return state_dir / DEFAULT_SQLITE_NAME
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        raise StorageError(f"database URL scheme {parts.scheme!r} is not SQLite")
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise StorageError(
            "a sqlite: database URL takes a file path only, such as "
            "sqlite:///var/lib/tiles-edge/tiles-edge.db"
        )
    if not parts.path or parts.path.endswith("/"):
        raise StorageError("the sqlite: database URL names no file")
    path = Path(unquote(parts.path))
    return path if path.is_absolute() else state_dir / path


def open_storage(database_url: str, state_dir: Path) -> Storage:
    """Build the storage backend for ``database_url`` without connecting.

    ``""`` and ``sqlite:`` URLs give SQLite. The error for any other URL names only its
    scheme, because the URL may contain a password.
    """
    scheme = urlsplit(database_url).scheme.lower() if database_url else ""
    if scheme in ("", "sqlite"):
        return SqliteStorage(sqlite_path_for(database_url, state_dir))
    if scheme in ("postgres", "postgresql") or scheme.startswith("postgresql+"):
        raise StorageError(
            "the PostgreSQL backend is not available in this build yet: leave the database "
            "URL empty to use SQLite in the state directory"
        )
    raise StorageError(
        f"database URL scheme {scheme!r} is not supported: leave the URL empty for SQLite "
        "or use a sqlite: or postgresql: URL"
    )
