"""The ``Storage`` interface that every database backend implements.

Backends return the records of ``tiles_edge.storage.records``, plain dicts and the hub
model's ``HubConfig``, never driver rows. Every user-data method takes the ``user_id`` it
acts for and touches that user's rows only. Library errors surface as
``tiles_edge.errors.StorageError`` and its subclasses. A value that breaks a documented
rule, such as an unknown role or a token hash that is not SHA-256 hex, raises
``ValueError`` before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, Unpack

from tiles_edge.hubs.model import HubConfig
from tiles_edge.storage.records import (
    ApiTokenRecord,
    DeviceSelectionRecord,
    KpiReading,
    MatterMapping,
    Role,
    SessionRecord,
    UserChanges,
    UserRecord,
)


class Storage(Protocol):
    startup_alert: str | None
    """Message for the admins about a problem found while opening, such as a damaged
    database that was moved aside; ``None`` when there was none."""

    # Lifecycle and maintenance

    async def open(self) -> None:
        """Connect and apply pending migrations."""

    async def close(self) -> None:
        """Finish pending writes and disconnect; safe to call twice.

        Any later call raises ``StorageClosedError``.
        """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def health(self) -> dict[str, Any]:
        """Return at least ``ok``, ``backend``, ``path`` and ``size_bytes``."""

    async def integrity_check(self) -> str:
        """Run the backend's full consistency check; ``"ok"`` when nothing is wrong."""

    async def backup(self, dest: Path) -> None:
        """Write a consistent copy of the database to ``dest`` while it stays in use."""

    # Server-wide values

    async def get_app_state(self, key: str) -> Any:
        """Return the stored JSON value, or ``None`` when the key is absent."""

    async def set_app_state(self, key: str, value: Any) -> None: ...

    async def ensure_app_state(self, key: str, value: Any) -> Any:
        """Store ``value`` unless the key exists, and return the stored value either way."""

    # Hubs

    async def list_hub_configs(self) -> list[HubConfig]:
        """Return every hub, ordered by ``order`` then ``hub_id``."""

    async def get_hub_config(self, hub_id: str) -> HubConfig | None: ...

    async def save_hub_config(self, hub: HubConfig) -> None:
        """Insert or update the hub; its webhook secret is kept."""

    async def delete_hub_config(self, hub_id: str) -> bool: ...

    async def set_hub_webhook_secret(self, hub_id: str, token_hash: str | None) -> None:
        """Store the SHA-256 hex of the hub's webhook token; ``None`` clears it.

        Raises ``StorageNotFoundError`` when the hub does not exist.
        """

    async def get_hub_webhook_secrets(self) -> dict[str, str]:
        """Return ``{hub_id: token_hash}`` for every active hub that has a webhook secret."""

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
        """Insert a user; raises ``StorageConflictError`` when the name is taken.

        Usernames are unique ignoring the case of ASCII letters.
        """

    async def get_user(self, user_id: int) -> UserRecord | None: ...

    async def get_user_by_username(self, username: str) -> UserRecord | None:
        """Look the user up ignoring the case of ASCII letters."""

    async def list_users(self) -> list[UserRecord]:
        """Return every user ordered by id."""

    async def update_user(
        self, user_id: int, *, keep_active_admin: bool = False, **changes: Unpack[UserChanges]
    ) -> UserRecord | None:
        """Change the given fields and return the new record, ``None`` for an unknown user.

        With ``keep_active_admin`` the change raises ``StorageConflictError`` instead of
        leaving no active admin; the check and the write are one transaction.
        """

    async def delete_user(self, user_id: int, *, keep_active_admin: bool = False) -> bool:
        """Delete the user with their sessions, tokens, preferences and selections."""

    async def count_users(self) -> int: ...

    async def count_active_admins(self) -> int: ...

    # Sessions: the caller hashes the token; only the hash is stored.

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
    ) -> SessionRecord: ...

    async def get_session_by_hash(self, token_hash: str) -> SessionRecord | None:
        """Return the session whether or not it has expired; the caller checks."""

    async def get_session_with_user(
        self, token_hash: str
    ) -> tuple[SessionRecord, UserRecord] | None:
        """Return the session and its user from one consistent read."""

    async def list_user_sessions(self, user_id: int) -> list[SessionRecord]: ...

    async def touch_session(
        self, session_id: int, last_seen_at: float, expires_at: float | None = None
    ) -> bool:
        """Record activity and, for sliding expiry, move ``expires_at``."""

    async def delete_session(self, session_id: int) -> bool: ...

    async def delete_user_sessions(
        self, user_id: int, *, except_session_id: int | None = None
    ) -> list[int]:
        """Delete the user's sessions (all, or all but one) and return the deleted ids."""

    async def purge_expired_sessions(self, now: float) -> int:
        """Delete sessions with ``expires_at <= now`` and return how many went."""

    # API tokens

    async def create_api_token(
        self, *, user_id: int, name: str, token_hash: str, now: float | None = None
    ) -> ApiTokenRecord: ...

    async def list_api_tokens(self, user_id: int) -> list[ApiTokenRecord]:
        """Return the user's tokens, revoked ones included, newest first."""

    async def get_api_token_by_hash(self, token_hash: str) -> ApiTokenRecord | None:
        """Return the token unless it is unknown or revoked."""

    async def touch_api_token(self, token_id: int, last_used_at: float) -> bool: ...

    async def revoke_api_token(self, user_id: int, token_id: int, now: float | None = None) -> bool:
        """Revoke the user's token; ``False`` when it is not theirs or already revoked."""

    # Preferences: {category: {key: JSON value}}

    async def get_preferences(
        self, user_id: int, category: str | None = None
    ) -> dict[str, dict[str, Any]]: ...

    async def get_preference(self, user_id: int, category: str, key: str) -> tuple[bool, Any]:
        """Return ``(found, value)`` so that a stored JSON ``null`` differs from absence."""

    async def set_preference(self, user_id: int, category: str, key: str, value: Any) -> None: ...

    async def set_preferences_bulk(
        self, user_id: int, items: Iterable[tuple[str, str, Any]], only_missing: bool = False
    ) -> int:
        """Write ``(category, key, value)`` items in one transaction; return rows written.

        With ``only_missing`` existing keys keep their values.
        """

    async def delete_preference(self, user_id: int, category: str, key: str) -> bool: ...

    async def delete_preferences(self, user_id: int, category: str | None = None) -> int:
        """Delete one category of the user's preferences, or all of them."""

    # Per-user settings: {key: JSON value}

    async def get_user_settings(self, user_id: int) -> dict[str, Any]: ...

    async def set_user_setting(self, user_id: int, key: str, value: Any) -> None: ...

    async def delete_user_setting(self, user_id: int, key: str) -> bool: ...

    # Device selections; user_id None is the household-wide selection.

    async def list_device_selections(
        self, user_id: int | None, selection_type: str | None = None
    ) -> list[DeviceSelectionRecord]:
        """Return the rows of exactly this owner, ordered by type, sort order and uid."""

    async def set_device_selection(
        self,
        user_id: int | None,
        selection_type: str,
        device_uid: str,
        value: Any = None,
        sort_order: int = 0,
    ) -> None: ...

    async def delete_device_selection(
        self, user_id: int | None, selection_type: str, device_uid: str
    ) -> bool: ...

    # Matter bridge mapping

    async def list_matter_mappings(self) -> list[MatterMapping]: ...

    async def set_matter_mapping(
        self, device_uid: str, matter_node_id: str, endpoint: int
    ) -> None: ...

    async def delete_matter_mapping(self, device_uid: str) -> bool: ...

    # KPI readings

    async def add_kpi_readings(self, rows: Sequence[KpiReading]) -> int: ...

    async def kpi_readings(
        self, device_uid: str, metric: str, since: int, until: int
    ) -> list[KpiReading]:
        """Return readings with ``since <= recorded_at < until``, oldest first."""

    async def purge_kpi_readings(self, before: int) -> int:
        """Delete readings recorded before ``before`` and return how many went."""
