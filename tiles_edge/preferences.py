"""Per-user preferences: validation rules, size caps and the service behind the preferences API.

Preferences are ``{category: {key: value}}`` with JSON values, stored per user in the
``user_preferences`` table. Every change publishes a ``preferences`` event on the event bus
whose data carries ``userId``, so the event stream can deliver it to that user's streams only.
Event data shapes:

- set: ``{"userId", "category", "key", "value", "clientId"?}``
- delete: ``{"userId", "category", "key", "value": null, "deleted": true, "clientId"?}``
- migrate with at least one import: ``{"userId", "category": null, "key": null,
  "reload": true, "imported": N}``, meaning "fetch GET /api/user/preferences again".
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tiles_edge.errors import ApiError

logger = logging.getLogger(__name__)

# Categories are lower-case namespaces such as "appearance" or "sections".
CATEGORY_PATTERN = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
# Keys also allow upper case (camelCase names such as "fontSize") and ":" so that a device
# uid such as "main:12" can be a key. The first character is a letter or digit, so "." and
# ".." can never be a key.
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
CLIENT_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Category names the generic preferences API neither lists nor changes, with the reason.
RESERVED_CATEGORIES: dict[str, str] = {
    "backgrounds": "tile backgrounds are changed through /api/user/backgrounds",
    "migrate": "it is the path of the import route POST /api/user/preferences/migrate",
}

MAX_VALUE_BYTES = 32 * 1024
"""Largest value, as compact UTF-8 JSON. A tile order of 2,000 device uids such as
``"main:1234"`` takes about 24 KiB, and a PUT body must still fit the app-wide 64 KiB cap."""
MAX_USER_BYTES = 1024 * 1024
"""Largest total of one user's preferences: category, key and compact JSON value summed."""
MAX_MIGRATE_ENTRIES = 2000
"""Most entries accepted in one migrate snapshot."""
MAX_MIGRATE_BODY_BYTES = 1024 * 1024
"""Largest migrate request body. PUT bodies fit the app-wide ``max_body_bytes``."""
MAX_REJECTED_LISTED = 50
"""Most rejected entries a migrate reply lists one by one (all are counted)."""


class PreferenceStorage(Protocol):
    """The storage methods this module uses; every method is scoped by ``user_id``."""

    async def get_preferences(
        self, user_id: int, category: str | None = None
    ) -> dict[str, dict[str, Any]]: ...

    async def get_preference(self, user_id: int, category: str, key: str) -> tuple[bool, Any]: ...

    async def set_preference(self, user_id: int, category: str, key: str, value: Any) -> None: ...

    async def set_preferences_bulk(
        self, user_id: int, items: list[tuple[str, str, Any]], only_missing: bool
    ) -> Any: ...

    async def delete_preference(self, user_id: int, category: str, key: str) -> bool: ...


class EventPublisher(Protocol):
    def publish(self, event_type: str, data: dict[str, Any]) -> int: ...


def validate_category(category: object, field_name: str = "category") -> str:
    """Return ``category`` when it is a valid category name, else raise ApiError 400."""
    if not isinstance(category, str) or not CATEGORY_PATTERN.fullmatch(category):
        raise ApiError(
            400,
            "invalid_category",
            f"{field_name} {_quote(category)} is invalid: use 1 to 64 characters, a lower-case "
            "letter first, then lower-case letters, digits, '_', '.' or '-'",
        )
    return category


def validate_writable_category(category: object, field_name: str = "category") -> str:
    """Validate ``category`` and reject the reserved ones with ApiError 400."""
    name = validate_category(category, field_name)
    reason = RESERVED_CATEGORIES.get(name)
    if reason is not None:
        raise ApiError(400, "reserved_category", f"{field_name} '{name}' is reserved: {reason}")
    return name


def validate_key(key: object, field_name: str = "key") -> str:
    """Return ``key`` when it is a valid preference key, else raise ApiError 400."""
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ApiError(
            400,
            "invalid_key",
            f"{field_name} {_quote(key)} is invalid: use 1 to 128 characters, a letter or digit "
            "first, then letters, digits, '_', '.', ':' or '-'",
        )
    return key


def validate_client_id(client_id: object) -> str | None:
    """Return the optional ``clientId`` that a tab sends to recognise its own events."""
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not CLIENT_ID_PATTERN.fullmatch(client_id):
        raise ApiError(
            400,
            "invalid_client_id",
            "clientId is invalid: use 1 to 64 letters, digits, '_' or '-'",
        )
    return client_id


def encode_value(value: Any, max_bytes: int = MAX_VALUE_BYTES, field_name: str = "value") -> str:
    """Serialise ``value`` as compact JSON, raising ApiError 413 when it exceeds ``max_bytes``.

    Raises ApiError 400 when the value is not JSON: a non-finite float, or a type JSON lacks.
    """
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as err:
        raise ApiError(400, "invalid_value", f"{field_name} is not a JSON value: {err}") from err
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise ApiError(
            413,
            "value_too_large",
            f"{field_name} is {size} bytes as JSON; the maximum is {max_bytes} bytes",
        )
    return text


def entry_size(category: str, key: str, value: Any) -> int:
    """Count the bytes one entry adds to a user's total: category, key and JSON value."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return len(category) + len(key) + len(text.encode("utf-8"))


@dataclass(slots=True)
class MigrateResult:
    imported: int = 0
    skipped: int = 0
    """Entries the server already had; the server's value was kept."""
    rejected: list[dict[str, str]] = field(default_factory=list)
    rejected_count: int = 0

    def reject(self, category: str, key: str, reason: str) -> None:
        self.rejected_count += 1
        if len(self.rejected) < MAX_REJECTED_LISTED:
            self.rejected.append({"category": category, "key": key, "reason": reason})

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped": self.skipped,
            "rejectedCount": self.rejected_count,
            "rejected": self.rejected,
        }


class PreferenceService:
    """Read, change and import one user's preferences within the size caps.

    Changes for one user are serialised by a per-user lock so that the total-size check and
    the write cannot interleave with another change of the same user.
    """

    def __init__(
        self,
        storage: PreferenceStorage,
        bus: EventPublisher | None,
        *,
        max_value_bytes: int = MAX_VALUE_BYTES,
        max_user_bytes: int = MAX_USER_BYTES,
        max_migrate_entries: int = MAX_MIGRATE_ENTRIES,
    ) -> None:
        self._storage = storage
        self._bus = bus
        self.max_value_bytes = max_value_bytes
        self.max_user_bytes = max_user_bytes
        self.max_migrate_entries = max_migrate_entries
        self._locks: dict[int, asyncio.Lock] = {}

    def validate_names(self, category: object, key: object) -> None:
        """Raise ApiError 400 unless ``category`` is writable and ``key`` is valid."""
        validate_writable_category(category)
        validate_key(key)

    async def get_all(self, user_id: int) -> dict[str, dict[str, Any]]:
        preferences = await self._storage.get_preferences(user_id)
        return {
            category: values
            for category, values in preferences.items()
            if category not in RESERVED_CATEGORIES
        }

    async def get_category(self, user_id: int, category: str) -> dict[str, Any]:
        validate_writable_category(category)
        preferences = await self._storage.get_preferences(user_id, category)
        return dict(preferences.get(category, {}))

    async def get(self, user_id: int, category: str, key: str) -> Any:
        """Return the stored value, or raise ApiError 404 when the key has none."""
        validate_writable_category(category)
        validate_key(key)
        found, value = await self._storage.get_preference(user_id, category, key)
        if not found:
            raise ApiError(
                404, "preference_not_found", f"no preference '{key}' in category '{category}'"
            )
        return value

    async def set(
        self, user_id: int, category: str, key: str, value: Any, client_id: str | None = None
    ) -> None:
        validate_writable_category(category)
        validate_key(key)
        encode_value(value, self.max_value_bytes)
        async with self._lock(user_id):
            current = await self._storage.get_preferences(user_id)
            total = _total_size(current, skip=(category, key)) + entry_size(category, key, value)
            if total > self.max_user_bytes:
                raise ApiError(
                    413,
                    "preferences_quota_exceeded",
                    f"saving '{category}/{key}' would bring this user's preferences to {total} "
                    f"bytes; the maximum is {self.max_user_bytes} bytes: delete unused "
                    "preferences first",
                )
            await self._storage.set_preference(user_id, category, key, value)
        self._publish(user_id, {"category": category, "key": key, "value": value}, client_id)

    async def delete(
        self, user_id: int, category: str, key: str, client_id: str | None = None
    ) -> bool:
        validate_writable_category(category)
        validate_key(key)
        async with self._lock(user_id):
            deleted = await self._storage.delete_preference(user_id, category, key)
        if deleted:
            data = {"category": category, "key": key, "value": None, "deleted": True}
            self._publish(user_id, data, client_id)
        return deleted

    async def migrate(self, user_id: int, snapshot: object) -> MigrateResult:
        """Import the entries of ``snapshot`` that the server lacks; existing values win.

        ``snapshot`` is ``{category: {key: value}}``. A malformed top level raises ApiError
        400 and a snapshot of more than ``max_migrate_entries`` entries raises 413. An entry
        with an invalid name or value, in a reserved category, or beyond the user's total
        cap is rejected and listed, and the others are still imported. Calling it again with
        the same snapshot imports nothing.
        """
        entries = _flatten_snapshot(snapshot, self.max_migrate_entries)
        result = MigrateResult()
        async with self._lock(user_id):
            current = await self._storage.get_preferences(user_id)
            total = _total_size(current)
            new_items: list[tuple[str, str, Any]] = []
            for category, key, value in entries:
                reason = self._entry_problem(category, key, value)
                if reason is not None:
                    result.reject(category, key, reason)
                    continue
                if key in current.get(category, {}):
                    result.skipped += 1
                    continue
                size = entry_size(category, key, value)
                if total + size > self.max_user_bytes:
                    result.reject(category, key, "preferences_quota_exceeded")
                    continue
                total += size
                current.setdefault(category, {})[key] = value
                new_items.append((category, key, value))
            if new_items:
                # only_missing keeps a value written between the read above and this write,
                # although the per-user lock already rules that out within this process.
                await self._storage.set_preferences_bulk(user_id, new_items, only_missing=True)
        result.imported = len(new_items)
        if result.imported:
            logger.info(
                "imported %d preferences for user %d (%d already present, %d rejected)",
                result.imported,
                user_id,
                result.skipped,
                result.rejected_count,
            )
            data = {"category": None, "key": None, "reload": True, "imported": result.imported}
            self._publish(user_id, data, None)
        return result

    def _entry_problem(self, category: str, key: str, value: Any) -> str | None:
        if not CATEGORY_PATTERN.fullmatch(category):
            return "invalid_category"
        if category in RESERVED_CATEGORIES:
            return "reserved_category"
        if not KEY_PATTERN.fullmatch(key):
            return "invalid_key"
        try:
            encode_value(value, self.max_value_bytes)
        except ApiError as err:
            return err.code
        return None

    def _lock(self, user_id: int) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock

    def _publish(self, user_id: int, data: dict[str, Any], client_id: str | None) -> None:
        publish_preference_change(self._bus, user_id, data, client_id)


def _flatten_snapshot(snapshot: object, max_entries: int) -> list[tuple[str, str, Any]]:
    if not isinstance(snapshot, Mapping):
        raise ApiError(
            400,
            "invalid_preferences",
            "preferences must be an object of categories, each an object of key: value",
        )
    entries: list[tuple[str, str, Any]] = []
    for category, values in snapshot.items():
        if not isinstance(values, Mapping):
            raise ApiError(
                400,
                "invalid_preferences",
                f"preferences.{_quote(category)} must be an object of key: value",
            )
        for key, value in values.items():
            entries.append((str(category), str(key), value))
            if len(entries) > max_entries:
                raise ApiError(
                    413,
                    "snapshot_too_large",
                    f"preferences holds more than {max_entries} entries; import it in parts",
                )
    return entries


def _total_size(
    preferences: Mapping[str, Mapping[str, Any]], skip: tuple[str, str] | None = None
) -> int:
    total = 0
    for category, values in preferences.items():
        if category in RESERVED_CATEGORIES:
            continue
        for key, value in values.items():
            if skip == (category, key):
                continue
            try:
                total += entry_size(category, key, value)
            except ValueError:
                # A stored non-finite float cannot be re-encoded; count its key only.
                total += len(category) + len(key)
    return total


def _quote(value: object, limit: int = 40) -> str:
    """Quote a client-supplied name for an error message, shortened to ``limit`` characters."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return json.dumps(text, ensure_ascii=True)


def publish_preference_change(
    bus: EventPublisher | None, user_id: int, data: dict[str, Any], client_id: str | None
) -> None:
    """Publish a ``preferences`` event for the streams of ``user_id`` only.

    ``clientId`` names the tab that made the change, so that tab can ignore its own echo.
    """
    if bus is None:
        return
    event = {"userId": user_id, **data}
    if client_id is not None:
        event["clientId"] = client_id
    bus.publish("preferences", event)
