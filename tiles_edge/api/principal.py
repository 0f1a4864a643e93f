"""The user a request acts for, and the single local user used until accounts exist."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from tiles_edge.errors import ApiError, StorageError

logger = logging.getLogger(__name__)

LOCAL_USERNAME = "local"
# Not a bcrypt hash, so no password ever matches it and the local user cannot sign in.
UNUSABLE_PASSWORD_HASH = "!"  # noqa: S105 (a marker, not a password)


def current_user_id(request: Request) -> int:
    """Return the id of the user a request acts for.

    That is the user of ``request.state.principal`` when the auth middleware set one, else
    ``request.app.state.services.local_user_id`` (the single local user of an install without
    accounts). Raises ApiError 401 when neither exists.
    """
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        user_id = _principal_user_id(principal)
        if user_id is None:
            raise ApiError(401, "not_signed_in", "the session names no user: sign in again")
        return user_id
    services = getattr(request.app.state, "services", None)
    local_user_id = getattr(services, "local_user_id", None)
    if isinstance(local_user_id, int) and not isinstance(local_user_id, bool):
        return local_user_id
    raise ApiError(401, "not_signed_in", "sign in to use this route")


def _principal_user_id(principal: object) -> int | None:
    if isinstance(principal, Mapping):
        user_id = principal.get("user_id")
    else:
        user_id = getattr(principal, "user_id", None)
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        return user_id
    return None


async def ensure_local_user(storage: Any) -> int:
    """Return the id of the user named ``local``, creating it on first use.

    The local user owns the preferences and backgrounds of an install without accounts. Its
    password hash is unusable and authentication is enabled for it, so it can never sign in.
    Its role is ``user``, so it has no admin rights once accounts exist.
    """
    existing = await storage.get_user_by_username(LOCAL_USERNAME)
    if existing is not None:
        return _record_id(existing)
    try:
        created = await storage.create_user(
            username=LOCAL_USERNAME,
            password_hash=UNUSABLE_PASSWORD_HASH,
            role="user",
            active=True,
            auth_enabled=True,
        )
    except StorageError:
        # Another task created it between the lookup and the insert.
        existing = await storage.get_user_by_username(LOCAL_USERNAME)
        if existing is None:
            raise
        return _record_id(existing)
    user_id = _record_id(created)
    logger.info("created the local user (id %d) for preferences without accounts", user_id)
    return user_id


def _record_id(record: Any) -> int:
    if isinstance(record, int):
        return record
    if isinstance(record, Mapping):
        return int(record["id"])
    return int(record.id)
