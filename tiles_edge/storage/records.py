"""Records returned by every storage backend, and the value checks every backend shares.

Timestamps are UTC seconds since the epoch: ``float`` for accounts, sessions, tokens and
hubs, ``int`` for KPI readings. Secret hashes are excluded from ``repr`` so that logging a
record never writes them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from tiles_edge.hubs.model import TRANSPORTS

Role = Literal["admin", "user"]
ROLES: tuple[Role, ...] = ("admin", "user")

# A hub id becomes the first part of every device uid ("<hubId>:<deviceId>"), a URL path
# segment and a CLI argument, so it is a lower-case slug without ":" or "/".
HUB_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
# Session, API token and webhook token hashes are SHA-256 digests in lower-case hex. The
# database rejects anything else, so a raw token can never be stored by mistake.
TOKEN_HASH_PATTERN = re.compile(r"[0-9a-f]{64}")
MAX_NAME_LENGTH = 255


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    password_hash: str | None = field(repr=False)
    role: Role
    active: bool
    auth_enabled: bool
    created_at: float
    updated_at: float
    last_login_at: float | None


class UserChanges(TypedDict, total=False):
    """Fields ``update_user`` can change; a missing key leaves the column as it is."""

    username: str
    password_hash: str | None
    role: Role
    active: bool
    auth_enabled: bool
    last_login_at: float | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    token_hash: str = field(repr=False)
    user_id: int
    created_at: float
    last_seen_at: float
    expires_at: float
    timeout_minutes: int
    ip_address: str | None
    user_agent: str | None
    kind: str


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    id: int
    name: str
    token_hash: str = field(repr=False)
    user_id: int
    created_at: float
    last_used_at: float | None
    revoked_at: float | None


@dataclass(frozen=True, slots=True)
class DeviceSelectionRecord:
    """One device in a named selection (favourites, hidden, a section, …).

    ``user_id`` is ``None`` for a household-wide selection.
    """

    user_id: int | None
    selection_type: str
    device_uid: str
    value: Any
    sort_order: int
    updated_at: float


@dataclass(frozen=True, slots=True)
class KpiReading:
    device_uid: str
    metric: str
    value: float
    unit: str | None
    recorded_at: int


@dataclass(frozen=True, slots=True)
class MatterMapping:
    """The Matter node and endpoint that a hub device is exposed as.

    Matter node ids are 64-bit unsigned, beyond SQLite's signed INTEGER, so they are text.
    """

    device_uid: str
    matter_node_id: str
    endpoint: int
    updated_at: float


def check_token_hash(token_hash: str, field_name: str = "token hash") -> str:
    """Return ``token_hash`` when it is lower-case SHA-256 hex, else raise ValueError."""
    if not isinstance(token_hash, str) or not TOKEN_HASH_PATTERN.fullmatch(token_hash):
        raise ValueError(
            f"{field_name} must be a SHA-256 digest in 64 lower-case hex characters; "
            "hash the token before storing it"
        )
    return token_hash


def check_hub_id(hub_id: str) -> str:
    if not isinstance(hub_id, str) or not HUB_ID_PATTERN.fullmatch(hub_id):
        raise ValueError(
            f"hub id {hub_id!r} is invalid: use 1 to 32 characters, a lower-case letter or "
            "digit first, then lower-case letters, digits, '_' or '-'"
        )
    return hub_id


def check_transport(transport: str) -> str:
    if transport not in TRANSPORTS:
        raise ValueError(f"transport {transport!r} is invalid: use one of {', '.join(TRANSPORTS)}")
    return transport


def check_role(role: str) -> Role:
    if role == "admin":
        return "admin"
    if role == "user":
        return "user"
    raise ValueError(f"role {role!r} is invalid: use 'admin' or 'user'")


def check_name(value: str, field_name: str, max_length: int = MAX_NAME_LENGTH) -> str:
    """Return ``value`` when it is a non-empty string of at most ``max_length`` characters."""
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ValueError(f"{field_name} must be a string of 1 to {max_length} characters")
    return value


def encode_json(value: Any, field_name: str) -> str:
    """Serialise ``value`` as compact JSON, raising ValueError when it is not a JSON value."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as err:
        raise ValueError(f"{field_name} is not a JSON value: {err}") from err


def decode_json(text: str | None) -> Any:
    if text is None:
        return None
    return json.loads(text)
