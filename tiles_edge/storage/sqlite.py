"""The SQLite backend of ``Storage`` (aiosqlite, one writer, read-only readers)."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self, Unpack

from tiles_edge.errors import (
    StorageClosedError,
    StorageConflictError,
    StorageError,
    StorageNotFoundError,
)
from tiles_edge.hubs.model import HubConfig
from tiles_edge.storage import sqlite_files
from tiles_edge.storage.migrations import load_migrations, split_statements
from tiles_edge.storage.records import (
    ApiTokenRecord,
    DeviceSelectionRecord,
    KpiReading,
    MatterMapping,
    Role,
    SessionRecord,
    UserChanges,
    UserRecord,
    check_hub_id,
    check_name,
    check_role,
    check_token_hash,
    check_transport,
    decode_json,
    encode_json,
)
from tiles_edge.storage.sqlite_connections import SqliteConnections, WriteTransaction

logger = logging.getLogger(__name__)

BACKEND = "sqlite"
DEFAULT_READERS = 2

_UPSERT_PREFERENCE_SQL = (
    "INSERT INTO user_preferences (user_id, category, key, value_json, updated_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, category, key) DO UPDATE SET "
    "value_json = excluded.value_json, updated_at = excluded.updated_at"
)
_INSERT_MISSING_PREFERENCE_SQL = (
    "INSERT INTO user_preferences (user_id, category, key, value_json, updated_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, category, key) DO NOTHING"
)
_MAX_SELECTION_TYPE_LENGTH = 64
_MAX_SESSION_KIND_LENGTH = 32


class SqliteStorage:
    """``Storage`` on one SQLite file in WAL mode.

    ``open()`` checks the file with ``PRAGMA quick_check`` and moves a damaged one aside
    (``<name>.corrupt-<UTC time>``, never deleted), then applies pending migrations.
    """

    # Databases open in this process, so that restore() can refuse to swap a file in use.
    _open_paths: ClassVar[dict[Path, int]] = {}

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = 5000,
        readers: int = DEFAULT_READERS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if busy_timeout_ms < 5000:
            raise ValueError(f"busy_timeout_ms is {busy_timeout_ms}; use at least 5000")
        self.path = Path(path)
        self.startup_alert: str | None = None
        self._busy_timeout_ms = busy_timeout_ms
        self._readers = readers
        self._clock = clock
        self._connections: SqliteConnections | None = None
        self._closed = False
        self._registered = False
        self._open_lock = asyncio.Lock()

    # Lifecycle

    async def open(self) -> None:
        if self._closed:
            raise StorageClosedError(f"the database {self.path} was closed; open a new storage")
        async with self._open_lock:
            if self._connections is None:
                await self._connect()

    async def _connect(self) -> None:
        await asyncio.to_thread(self._prepare_file)
        connections = SqliteConnections(
            self.path, busy_timeout_ms=self._busy_timeout_ms, readers=self._readers
        )
        try:
            await connections.connect_writer()
            await self._migrate(connections)
            await connections.connect_readers()
        except BaseException:
            await connections.close()
            raise
        self._connections = connections
        self._open_paths[self._key] = self._open_paths.get(self._key, 0) + 1
        self._registered = True

    def _prepare_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        has_wal = sqlite_files.side_file(self.path, "-wal").exists()
        if self.path.exists() and (self.path.stat().st_size > 0 or has_wal):
            problems = sqlite_files.find_damage(self.path, self._busy_timeout_ms)
            if problems:
                aside = sqlite_files.move_aside(self.path, "corrupt")
                self.startup_alert = (
                    f"The database {self.path} failed its integrity check "
                    f"({'; '.join(problems[:3])}). It was moved to {aside} and a new, empty "
                    "database was started: restore a backup while the server is stopped, "
                    "or add the users and hubs again."
                )
                logger.error("%s", self.startup_alert)
        sqlite_files.create_private_file(self.path)

    async def _migrate(self, connections: SqliteConnections) -> None:
        migrations = load_migrations(BACKEND)
        latest = max((migration.version for migration in migrations), default=0)
        async with connections.transaction() as transaction:
            await transaction.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, "
                "applied_at REAL NOT NULL)"
            )
            rows = await transaction.execute("SELECT version, checksum FROM schema_migrations")
            applied = {int(row["version"]): str(row["checksum"]) for row in rows}
            newest = max(applied, default=0)
            if newest > latest:
                raise StorageError(
                    f"the database {self.path} has schema version {newest}, newer than this "
                    f"build's {latest}: run the newer tiles-edge or restore an older backup"
                )
            for migration in migrations:
                if migration.version in applied:
                    if applied[migration.version] != migration.checksum:
                        logger.warning(
                            "migration %s changed after it was applied to %s",
                            migration.name,
                            self.path,
                        )
                    continue
                for statement in split_statements(migration.sql):
                    await transaction.execute(statement)
                await transaction.execute(
                    "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
                    "VALUES (?, ?, ?, ?)",
                    (migration.version, migration.name, migration.checksum, self._clock()),
                )
                logger.info("applied migration %s to %s", migration.name, self.path)

    async def close(self) -> None:
        self._closed = True
        connections = self._connections
        if connections is None:
            return
        try:
            await connections.close()
        finally:
            # Only now may restore() replace the file.
            if self._registered:
                self._registered = False
                remaining = self._open_paths.get(self._key, 1) - 1
                if remaining > 0:
                    self._open_paths[self._key] = remaining
                else:
                    self._open_paths.pop(self._key, None)

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def _key(self) -> Path:
        return self.path.resolve()

    @property
    def _db(self) -> SqliteConnections:
        if self._closed:
            raise StorageClosedError(f"the database {self.path} is closed")
        if self._connections is None:
            raise StorageError(f"the database {self.path} is not open: await open() first")
        return self._connections

    # Maintenance

    async def health(self) -> dict[str, Any]:
        database = self._db
        result: dict[str, Any] = {
            "ok": True,
            "backend": BACKEND,
            "path": str(self.path),
            "size_bytes": _file_size(self.path),
            "wal_bytes": _file_size(sqlite_files.side_file(self.path, "-wal")),
            "startup_alert": self.startup_alert,
        }
        try:
            rows = await database.read("SELECT max(version) FROM schema_migrations")
        except StorageClosedError:
            raise
        except StorageError as err:
            result["ok"] = False
            result["error"] = str(err)
        else:
            result["schema_version"] = rows[0][0]
        return result

    async def integrity_check(self) -> str:
        rows = await self._db.read("PRAGMA integrity_check")
        return "\n".join(str(row[0]) for row in rows)

    async def connection_pragmas(self) -> list[dict[str, Any]]:
        """Return journal_mode, synchronous, foreign_keys, busy_timeout and query_only of
        every connection, the writer first."""
        return await self._db.read_pragmas()

    async def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it to zero bytes.

        Readers never hold a transaction past one statement, so the checkpoint waits at most
        for the statements running now.
        """
        rows = await self._db.run_on_writer("PRAGMA wal_checkpoint(TRUNCATE)")
        busy, wal_pages, copied_pages = (int(value) for value in rows[0])
        if busy:
            logger.debug(
                "WAL checkpoint of %s was blocked after %d of %d pages",
                self.path,
                copied_pages,
                wal_pages,
            )

    async def backup(self, dest: Path) -> None:
        """Write a consistent copy to ``dest`` with VACUUM INTO, replacing ``dest`` atomically.

        Writes continue while the copy runs, and the copy contains the state at its start.
        """
        dest = Path(dest)
        database = self._db
        if dest.resolve() in self._own_files():
            raise ValueError(f"backup destination {dest} is the live database")
        if not dest.parent.is_dir():
            raise StorageError(f"backup folder {dest.parent} does not exist")
        temporary = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
        temporary.unlink(missing_ok=True)
        try:
            await database.vacuum_into(temporary)
            await asyncio.to_thread(sqlite_files.finish_backup_file, temporary, dest)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        logger.info("backed up %s to %s", self.path, dest)

    def _own_files(self) -> set[Path]:
        main = self.path.resolve()
        return {main} | {sqlite_files.side_file(main, suffix) for suffix in ("-wal", "-shm")}

    @classmethod
    async def restore(cls, backup: Path, path: Path, *, busy_timeout_ms: int = 5000) -> Path | None:
        """Replace the database at ``path`` with a checked copy of ``backup``.

        The backup must pass ``PRAGMA integrity_check`` and come from a schema this build
        knows. The current database, with its WAL, is renamed to
        ``<name>.pre-restore-<UTC time>`` and that path is returned (``None`` when there
        was none). Call it while no process has ``path`` open.

        NOTE: only opens within this process are detected; a server running in another
        process must be stopped first.
        """
        backup = Path(backup)
        path = Path(path)
        if cls._open_paths.get(path.resolve(), 0) > 0:
            raise StorageError(f"the database {path} is open: close it before restoring")
        return await asyncio.to_thread(cls._restore_blocking, backup, path)

    @staticmethod
    def _restore_blocking(backup: Path, path: Path) -> Path | None:
        latest = max((migration.version for migration in load_migrations(BACKEND)), default=0)
        sqlite_files.check_backup(backup, latest)
        if backup.resolve() == path.resolve():
            raise ValueError(f"backup {backup} is the database it would replace")
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.restoring-{os.getpid()}")
        # A leftover from an interrupted restore is a partial copy, never user data.
        for suffix in ("", "-wal", "-shm"):
            sqlite_files.side_file(temporary, suffix).unlink(missing_ok=True)
        sqlite_files.copy_database(backup, temporary)
        has_current = path.exists() or sqlite_files.side_file(path, "-wal").exists()
        replaced = sqlite_files.move_aside(path, "pre-restore") if has_current else None
        os.rename(temporary, path)
        sqlite_files.fsync_directory(path.parent)
        logger.info("restored %s from %s (previous database kept at %s)", path, backup, replaced)
        return replaced

    # Server-wide values

    async def get_app_state(self, key: str) -> Any:
        rows = await self._db.read("SELECT value_json FROM app_state WHERE key = ?", (key,))
        return decode_json(rows[0][0]) if rows else None

    async def set_app_state(self, key: str, value: Any) -> None:
        check_name(key, "app state key")
        await self._db.write(
            "INSERT INTO app_state (key, value_json, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json, "
            "updated_at = excluded.updated_at",
            (key, encode_json(value, f"app state {key!r}"), self._clock()),
        )

    async def ensure_app_state(self, key: str, value: Any) -> Any:
        check_name(key, "app state key")
        async with self._db.transaction() as transaction:
            await transaction.execute(
                "INSERT INTO app_state (key, value_json, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING",
                (key, encode_json(value, f"app state {key!r}"), self._clock()),
            )
            rows = await transaction.execute(
                "SELECT value_json FROM app_state WHERE key = ?", (key,)
            )
        return decode_json(rows[0][0])

    # Hubs

    async def list_hub_configs(self) -> list[HubConfig]:
        rows = await self._db.read("SELECT * FROM hub_configurations ORDER BY sort_order, hub_id")
        return [_hub(row) for row in rows]

    async def get_hub_config(self, hub_id: str) -> HubConfig | None:
        rows = await self._db.read("SELECT * FROM hub_configurations WHERE hub_id = ?", (hub_id,))
        return _hub(rows[0]) if rows else None

    async def save_hub_config(self, hub: HubConfig) -> None:
        check_hub_id(hub.hub_id)
        check_transport(hub.transport)
        check_name(hub.name, "hub name")
        check_name(hub.host, "hub host")
        check_name(hub.app_id, "Maker API app id")
        check_name(hub.token, "hub access token")
        now = self._clock()
        await self._db.write(
            "INSERT INTO hub_configurations (hub_id, name, host, app_id, token, transport, "
            "sort_order, active, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (hub_id) DO UPDATE SET name = excluded.name, host = excluded.host, "
            "app_id = excluded.app_id, token = excluded.token, "
            "transport = excluded.transport, sort_order = excluded.sort_order, "
            "active = excluded.active, updated_at = excluded.updated_at",
            (
                hub.hub_id,
                hub.name,
                hub.host,
                hub.app_id,
                hub.token,
                hub.transport,
                int(hub.order),
                int(bool(hub.active)),
                now,
                now,
            ),
        )

    async def delete_hub_config(self, hub_id: str) -> bool:
        rows = await self._db.write(
            "DELETE FROM hub_configurations WHERE hub_id = ? RETURNING hub_id", (hub_id,)
        )
        return bool(rows)

    async def set_hub_webhook_secret(self, hub_id: str, token_hash: str | None) -> None:
        if token_hash is not None:
            check_token_hash(token_hash, "webhook token hash")
        rows = await self._db.write(
            "UPDATE hub_configurations SET webhook_token_hash = ?, updated_at = ? "
            "WHERE hub_id = ? RETURNING hub_id",
            (token_hash, self._clock(), hub_id),
        )
        if not rows:
            raise StorageNotFoundError(
                f"no hub with id {hub_id!r}: save the hub before setting its webhook secret"
            )

    async def get_hub_webhook_secrets(self) -> dict[str, str]:
        rows = await self._db.read(
            "SELECT hub_id, webhook_token_hash FROM hub_configurations "
            "WHERE active = 1 AND webhook_token_hash IS NOT NULL ORDER BY hub_id"
        )
        return {str(row[0]): str(row[1]) for row in rows}

    # Users

    async def create_user(
        self,
        *,
        username: str,
        password_hash: str | None,
        role: Role = "user",
        active: bool = True,
        auth_enabled: bool = True,
    ) -> UserRecord:
        check_name(username, "username")
        check_role(role)
        now = self._clock()
        try:
            rows = await self._db.write(
                "INSERT INTO users (username, password_hash, role, active, auth_enabled, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (username, password_hash, role, int(active), int(auth_enabled), now, now),
            )
        except StorageConflictError as err:
            raise StorageConflictError(f"username {username!r} is already taken") from err
        return _user(rows[0])

    async def get_user(self, user_id: int) -> UserRecord | None:
        rows = await self._db.read("SELECT * FROM users WHERE id = ?", (user_id,))
        return _user(rows[0]) if rows else None

    async def get_user_by_username(self, username: str) -> UserRecord | None:
        """Look the user up with ASCII case folding (SQLite's NOCASE collation)."""
        rows = await self._db.read("SELECT * FROM users WHERE username = ?", (username,))
        return _user(rows[0]) if rows else None

    async def list_users(self) -> list[UserRecord]:
        rows = await self._db.read("SELECT * FROM users ORDER BY id")
        return [_user(row) for row in rows]

    async def update_user(
        self, user_id: int, *, keep_active_admin: bool = False, **changes: Unpack[UserChanges]
    ) -> UserRecord | None:
        assignments: list[str] = []
        params: list[Any] = []
        for name, value in changes.items():
            assignments.append(f"{name} = ?")
            params.append(_user_column_value(name, value))
        assignments.append("updated_at = ?")
        params.append(self._clock())
        try:
            async with self._db.transaction() as transaction:
                # The column names come from UserChanges (checked above), never from input.
                set_clause = ", ".join(assignments)
                statement = f"UPDATE users SET {set_clause} WHERE id = ? RETURNING *"  # noqa: S608
                rows = await transaction.execute(statement, (*params, user_id))
                if rows and keep_active_admin:
                    await _require_active_admin(transaction)
        except StorageConflictError as err:
            if "username" in changes and "users.username" in str(err):
                username = changes["username"]
                raise StorageConflictError(f"username {username!r} is already taken") from err
            raise
        return _user(rows[0]) if rows else None

    async def delete_user(self, user_id: int, *, keep_active_admin: bool = False) -> bool:
        async with self._db.transaction() as transaction:
            rows = await transaction.execute(
                "DELETE FROM users WHERE id = ? RETURNING id", (user_id,)
            )
            if rows and keep_active_admin:
                await _require_active_admin(transaction)
        return bool(rows)

    async def count_users(self) -> int:
        rows = await self._db.read("SELECT count(*) FROM users")
        return int(rows[0][0])

    async def count_active_admins(self) -> int:
        rows = await self._db.read("SELECT count(*) FROM users WHERE role = 'admin' AND active = 1")
        return int(rows[0][0])

    # Sessions

    async def create_session(
        self,
        *,
        user_id: int,
        token_hash: str,
        expires_at: float,
        timeout_minutes: int,
        kind: str = "password",
        ip_address: str | None = None,
        user_agent: str | None = None,
        now: float | None = None,
    ) -> SessionRecord:
        check_token_hash(token_hash, "session token hash")
        check_name(kind, "session kind", _MAX_SESSION_KIND_LENGTH)
        if isinstance(timeout_minutes, bool) or not isinstance(timeout_minutes, int):
            raise ValueError(f"timeout_minutes must be an int, got {timeout_minutes!r}")
        if timeout_minutes <= 0:
            raise ValueError(f"timeout_minutes must be positive, got {timeout_minutes}")
        created_at = self._clock() if now is None else now
        try:
            rows = await self._db.write(
                "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, "
                "expires_at, timeout_minutes, ip_address, user_agent, kind) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    token_hash,
                    user_id,
                    created_at,
                    created_at,
                    float(expires_at),
                    timeout_minutes,
                    ip_address,
                    user_agent,
                    kind,
                ),
            )
        except StorageNotFoundError as err:
            raise StorageNotFoundError(f"user {user_id} does not exist") from err
        return _session(rows[0])

    async def get_session_by_hash(self, token_hash: str) -> SessionRecord | None:
        rows = await self._db.read("SELECT * FROM sessions WHERE token_hash = ?", (token_hash,))
        return _session(rows[0]) if rows else None

    async def get_session_with_user(
        self, token_hash: str
    ) -> tuple[SessionRecord, UserRecord] | None:
        async with self._db.snapshot() as snapshot:
            sessions = await snapshot.execute(
                "SELECT * FROM sessions WHERE token_hash = ?", (token_hash,)
            )
            if not sessions:
                return None
            users = await snapshot.execute(
                "SELECT * FROM users WHERE id = ?", (sessions[0]["user_id"],)
            )
        # ON DELETE CASCADE removes a user's sessions, so the user row exists.
        return _session(sessions[0]), _user(users[0])

    async def list_user_sessions(self, user_id: int) -> list[SessionRecord]:
        rows = await self._db.read(
            "SELECT * FROM sessions WHERE user_id = ? ORDER BY last_seen_at DESC, id DESC",
            (user_id,),
        )
        return [_session(row) for row in rows]

    async def touch_session(
        self, session_id: int, last_seen_at: float, expires_at: float | None = None
    ) -> bool:
        """Record activity and, for sliding expiry, move ``expires_at``.

        Each call is a synced transaction; callers touch at most about once a minute per
        session rather than on every request.
        """
        rows = await self._db.write(
            "UPDATE sessions SET last_seen_at = ?, expires_at = coalesce(?, expires_at) "
            "WHERE id = ? RETURNING id",
            (last_seen_at, expires_at, session_id),
        )
        return bool(rows)

    async def delete_session(self, session_id: int) -> bool:
        rows = await self._db.write("DELETE FROM sessions WHERE id = ? RETURNING id", (session_id,))
        return bool(rows)

    async def delete_user_sessions(
        self, user_id: int, *, except_session_id: int | None = None
    ) -> list[int]:
        rows = await self._db.write(
            "DELETE FROM sessions WHERE user_id = ? AND id IS NOT ? RETURNING id",
            (user_id, except_session_id),
        )
        return sorted(int(row[0]) for row in rows)

    async def purge_expired_sessions(self, now: float) -> int:
        async with self._db.transaction() as transaction:
            count = await transaction.execute_count(
                "DELETE FROM sessions WHERE expires_at <= ?", (now,)
            )
        if count:
            logger.info("purged %d expired sessions", count)
            await self.checkpoint()
        return count

    # API tokens

    async def create_api_token(
        self, *, user_id: int, name: str, token_hash: str, now: float | None = None
    ) -> ApiTokenRecord:
        check_token_hash(token_hash, "API token hash")
        check_name(name, "API token name")
        created_at = self._clock() if now is None else now
        try:
            rows = await self._db.write(
                "INSERT INTO api_tokens (name, token_hash, user_id, created_at) "
                "VALUES (?, ?, ?, ?) RETURNING *",
                (name, token_hash, user_id, created_at),
            )
        except StorageNotFoundError as err:
            raise StorageNotFoundError(f"user {user_id} does not exist") from err
        return _api_token(rows[0])

    async def list_api_tokens(self, user_id: int) -> list[ApiTokenRecord]:
        rows = await self._db.read(
            "SELECT * FROM api_tokens WHERE user_id = ? ORDER BY created_at DESC, id DESC",
            (user_id,),
        )
        return [_api_token(row) for row in rows]

    async def get_api_token_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        rows = await self._db.read(
            "SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
            (token_hash,),
        )
        return _api_token(rows[0]) if rows else None

    async def touch_api_token(self, token_id: int, last_used_at: float) -> bool:
        rows = await self._db.write(
            "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL "
            "RETURNING id",
            (last_used_at, token_id),
        )
        return bool(rows)

    async def revoke_api_token(self, user_id: int, token_id: int, now: float | None = None) -> bool:
        rows = await self._db.write(
            "UPDATE api_tokens SET revoked_at = ? "
            "WHERE id = ? AND user_id = ? AND revoked_at IS NULL RETURNING id",
            (self._clock() if now is None else now, token_id, user_id),
        )
        return bool(rows)

    # Preferences

    async def get_preferences(
        self, user_id: int, category: str | None = None
    ) -> dict[str, dict[str, Any]]:
        if category is None:
            rows = await self._db.read(
                "SELECT category, key, value_json FROM user_preferences WHERE user_id = ? "
                "ORDER BY category, key",
                (user_id,),
            )
        else:
            rows = await self._db.read(
                "SELECT category, key, value_json FROM user_preferences "
                "WHERE user_id = ? AND category = ? ORDER BY key",
                (user_id, category),
            )
        preferences: dict[str, dict[str, Any]] = {}
        for row in rows:
            preferences.setdefault(row[0], {})[row[1]] = decode_json(row[2])
        return preferences

    async def get_preference(self, user_id: int, category: str, key: str) -> tuple[bool, Any]:
        rows = await self._db.read(
            "SELECT value_json FROM user_preferences "
            "WHERE user_id = ? AND category = ? AND key = ?",
            (user_id, category, key),
        )
        return (True, decode_json(rows[0][0])) if rows else (False, None)

    async def set_preference(self, user_id: int, category: str, key: str, value: Any) -> None:
        await self.set_preferences_bulk(user_id, [(category, key, value)])

    async def set_preferences_bulk(
        self, user_id: int, items: Iterable[tuple[str, str, Any]], only_missing: bool = False
    ) -> int:
        now = self._clock()
        rows = [
            (user_id, *_preference_item(category, key, value), now)
            for category, key, value in items
        ]
        if not rows:
            return 0
        statement = _INSERT_MISSING_PREFERENCE_SQL if only_missing else _UPSERT_PREFERENCE_SQL
        try:
            async with self._db.transaction() as transaction:
                return await transaction.executemany(statement, rows)
        except StorageNotFoundError as err:
            raise StorageNotFoundError(f"user {user_id} does not exist") from err

    async def delete_preference(self, user_id: int, category: str, key: str) -> bool:
        rows = await self._db.write(
            "DELETE FROM user_preferences WHERE user_id = ? AND category = ? AND key = ? "
            "RETURNING key",
            (user_id, category, key),
        )
        return bool(rows)

    async def delete_preferences(self, user_id: int, category: str | None = None) -> int:
        async with self._db.transaction() as transaction:
            return await transaction.execute_count(
                "DELETE FROM user_preferences WHERE user_id = ? AND (? IS NULL OR category = ?)",
                (user_id, category, category),
            )

    # Per-user settings

    async def get_user_settings(self, user_id: int) -> dict[str, Any]:
        rows = await self._db.read(
            "SELECT key, value_json FROM user_settings WHERE user_id = ? ORDER BY key",
            (user_id,),
        )
        return {str(row[0]): decode_json(row[1]) for row in rows}

    async def set_user_setting(self, user_id: int, key: str, value: Any) -> None:
        check_name(key, "setting key")
        try:
            await self._db.write(
                "INSERT INTO user_settings (user_id, key, value_json, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (user_id, key) DO UPDATE SET "
                "value_json = excluded.value_json, updated_at = excluded.updated_at",
                (user_id, key, encode_json(value, f"setting {key!r}"), self._clock()),
            )
        except StorageNotFoundError as err:
            raise StorageNotFoundError(f"user {user_id} does not exist") from err

    async def delete_user_setting(self, user_id: int, key: str) -> bool:
        rows = await self._db.write(
            "DELETE FROM user_settings WHERE user_id = ? AND key = ? RETURNING key",
            (user_id, key),
        )
        return bool(rows)

    # Device selections

    async def list_device_selections(
        self, user_id: int | None, selection_type: str | None = None
    ) -> list[DeviceSelectionRecord]:
        rows = await self._db.read(
            "SELECT * FROM device_selections "
            "WHERE user_id IS ? AND (? IS NULL OR selection_type = ?) "
            "ORDER BY selection_type, sort_order, device_uid",
            (user_id, selection_type, selection_type),
        )
        return [_selection(row) for row in rows]

    async def set_device_selection(
        self,
        user_id: int | None,
        selection_type: str,
        device_uid: str,
        value: Any = None,
        sort_order: int = 0,
    ) -> None:
        check_name(selection_type, "selection type", _MAX_SELECTION_TYPE_LENGTH)
        check_name(device_uid, "device uid")
        value_json = None if value is None else encode_json(value, "selection value")
        try:
            await self._db.write(
                "INSERT INTO device_selections (user_id, selection_type, device_uid, "
                "value_json, sort_order, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (ifnull(user_id, 0), selection_type, device_uid) DO UPDATE SET "
                "value_json = excluded.value_json, sort_order = excluded.sort_order, "
                "updated_at = excluded.updated_at",
                (user_id, selection_type, device_uid, value_json, int(sort_order), self._clock()),
            )
        except StorageNotFoundError as err:
            raise StorageNotFoundError(f"user {user_id} does not exist") from err

    async def delete_device_selection(
        self, user_id: int | None, selection_type: str, device_uid: str
    ) -> bool:
        rows = await self._db.write(
            "DELETE FROM device_selections "
            "WHERE user_id IS ? AND selection_type = ? AND device_uid = ? RETURNING id",
            (user_id, selection_type, device_uid),
        )
        return bool(rows)

    # Matter bridge mapping

    async def list_matter_mappings(self) -> list[MatterMapping]:
        rows = await self._db.read(
            "SELECT device_uid, matter_node_id, endpoint, updated_at FROM device_matter_map "
            "ORDER BY device_uid"
        )
        return [MatterMapping(str(row[0]), str(row[1]), int(row[2]), float(row[3])) for row in rows]

    async def set_matter_mapping(self, device_uid: str, matter_node_id: str, endpoint: int) -> None:
        check_name(device_uid, "device uid")
        check_name(matter_node_id, "Matter node id")
        if isinstance(endpoint, bool) or not isinstance(endpoint, int):
            raise ValueError(f"Matter endpoint must be an int, got {endpoint!r}")
        if not 0 <= endpoint <= 0xFFFF:
            raise ValueError(f"Matter endpoint {endpoint} is outside 0 to 65535")
        await self._db.write(
            "INSERT INTO device_matter_map (device_uid, matter_node_id, endpoint, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (device_uid) DO UPDATE SET "
            "matter_node_id = excluded.matter_node_id, endpoint = excluded.endpoint, "
            "updated_at = excluded.updated_at",
            (device_uid, matter_node_id, endpoint, self._clock()),
        )

    async def delete_matter_mapping(self, device_uid: str) -> bool:
        rows = await self._db.write(
            "DELETE FROM device_matter_map WHERE device_uid = ? RETURNING device_uid",
            (device_uid,),
        )
        return bool(rows)

    # KPI readings

    async def add_kpi_readings(self, rows: Sequence[KpiReading]) -> int:
        params = [_kpi_params(reading) for reading in rows]
        if not params:
            return 0
        async with self._db.transaction() as transaction:
            return await transaction.executemany(
                "INSERT INTO kpi_sensor_readings (device_uid, metric, value, unit, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                params,
            )

    async def kpi_readings(
        self, device_uid: str, metric: str, since: int, until: int
    ) -> list[KpiReading]:
        rows = await self._db.read(
            "SELECT device_uid, metric, value, unit, recorded_at FROM kpi_sensor_readings "
            "WHERE device_uid = ? AND metric = ? AND recorded_at >= ? AND recorded_at < ? "
            "ORDER BY recorded_at, id",
            (device_uid, metric, since, until),
        )
        return [KpiReading(row[0], row[1], float(row[2]), row[3], int(row[4])) for row in rows]

    async def purge_kpi_readings(self, before: int) -> int:
        async with self._db.transaction() as transaction:
            count = await transaction.execute_count(
                "DELETE FROM kpi_sensor_readings WHERE recorded_at < ?", (before,)
            )
        if count:
            logger.info("purged %d KPI readings recorded before %d", count, before)
            await self.checkpoint()
        return count


_USER_CHANGE_COLUMNS = frozenset(UserChanges.__annotations__)


def _user_column_value(name: str, value: Any) -> Any:
    """Validate one ``update_user`` change and convert it to its column value."""
    if name not in _USER_CHANGE_COLUMNS:
        raise TypeError(f"update_user() got an unknown field {name!r}")
    if name == "username":
        return check_name(value, "username")
    if name == "role":
        return check_role(value)
    if name in ("active", "auth_enabled"):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be a bool, got {value!r}")
        return int(value)
    if name == "password_hash" and value is not None and not isinstance(value, str):
        raise ValueError("password_hash must be a string or None")
    if name == "last_login_at" and value is not None:
        return float(value)
    return value


async def _require_active_admin(transaction: WriteTransaction) -> None:
    rows = await transaction.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1"
    )
    if int(rows[0][0]) == 0:
        raise StorageConflictError(
            "the change would leave no active admin: make another user an admin first"
        )


def _preference_item(category: str, key: str, value: Any) -> tuple[str, str, str]:
    check_name(category, "preference category")
    check_name(key, "preference key")
    return category, key, encode_json(value, f"preference {category}/{key}")


def _kpi_params(reading: KpiReading) -> tuple[str, str, float, str | None, int]:
    check_name(reading.device_uid, "device uid")
    check_name(reading.metric, "KPI metric")
    value = float(reading.value)
    if not math.isfinite(value):
        raise ValueError(f"KPI value {reading.value!r} for {reading.device_uid} is not finite")
    if isinstance(reading.recorded_at, bool) or not isinstance(reading.recorded_at, int):
        raise ValueError(f"recorded_at must be int epoch seconds, got {reading.recorded_at!r}")
    return reading.device_uid, reading.metric, value, reading.unit, reading.recorded_at


def _optional_float(value: Any) -> float | None:
    # SQLite may return a whole REAL value as an int, for example from RETURNING.
    return None if value is None else float(value)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _user(row: sqlite3.Row) -> UserRecord:
    return UserRecord(
        id=row["id"],
        username=row["username"],
        password_hash=row["password_hash"],
        role=check_role(row["role"]),
        active=bool(row["active"]),
        auth_enabled=bool(row["auth_enabled"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        last_login_at=_optional_float(row["last_login_at"]),
    )


def _session(row: sqlite3.Row) -> SessionRecord:
    return SessionRecord(
        id=row["id"],
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        created_at=float(row["created_at"]),
        last_seen_at=float(row["last_seen_at"]),
        expires_at=float(row["expires_at"]),
        timeout_minutes=row["timeout_minutes"],
        ip_address=row["ip_address"],
        user_agent=row["user_agent"],
        kind=row["kind"],
    )


def _api_token(row: sqlite3.Row) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=row["id"],
        name=row["name"],
        token_hash=row["token_hash"],
        user_id=row["user_id"],
        created_at=float(row["created_at"]),
        last_used_at=_optional_float(row["last_used_at"]),
        revoked_at=_optional_float(row["revoked_at"]),
    )


def _hub(row: sqlite3.Row) -> HubConfig:
    return HubConfig(
        hub_id=row["hub_id"],
        name=row["name"],
        host=row["host"],
        app_id=row["app_id"],
        token=row["token"],
        transport=row["transport"],
        order=int(row["sort_order"]),
        active=bool(row["active"]),
    )


def _selection(row: sqlite3.Row) -> DeviceSelectionRecord:
    return DeviceSelectionRecord(
        user_id=row["user_id"],
        selection_type=row["selection_type"],
        device_uid=row["device_uid"],
        value=decode_json(row["value_json"]),
        sort_order=int(row["sort_order"]),
        updated_at=float(row["updated_at"]),
    )
