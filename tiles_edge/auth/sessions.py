"""Sign-in sessions on top of the storage: issue, resolve, expire and end them.

A session ends at the first of: ``timeout_minutes`` without a request (idle timeout), the
absolute lifetime after sign-in, logout, a password change, or the user being disabled or
deleted. The stored ``expires_at`` is the earlier of the idle and the absolute deadline, so
``purge_expired_sessions`` removes both kinds. The idle check itself reads ``last_seen_at``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from tiles_edge.auth.networks import ClientAddress, TrustedNetwork
from tiles_edge.auth.principal import session_owner
from tiles_edge.auth.tokens import hash_token, is_well_formed_session_token, new_session_token
from tiles_edge.storage.records import SessionRecord, UserRecord

logger = logging.getLogger(__name__)

DEFAULT_IDLE_MINUTES = 1440
DEFAULT_LIFETIME_HOURS = 720
# Activity is written at most this often per session, so a busy dashboard does not write
# on every request. The idle timeout is therefore measured with this granularity.
TOUCH_INTERVAL_S = 60.0
# Maximum length of the user agent string stored with a session.
MAX_USER_AGENT_LENGTH = 256

SessionKind = Literal["password", "trusted"]


class StreamCloser(Protocol):
    def close_owner(self, owner: str) -> int: ...


@dataclass(frozen=True, slots=True)
class ActiveSession:
    """A session that passed every check for the current request, with its user."""

    session: SessionRecord
    user: UserRecord


def trusted_entry_for(
    user: UserRecord, client: ClientAddress, networks: Sequence[TrustedNetwork]
) -> TrustedNetwork | None:
    """Return the trusted network that lets ``user`` in from ``client``, or None.

    An entry admits the user it names. It also admits any user with ``auth_enabled`` off,
    which is how a kiosk account signs in without a password. An admin is admitted only by
    an entry with ``allow_admin``. Loopback through a proxy never matches.
    """
    if client.ip is None or (client.via_proxy and client.ip.is_loopback):
        return None
    for entry in networks:
        if client.ip.version != entry.network.version or client.ip not in entry.network:
            continue
        names_user = entry.username.casefold() == user.username.casefold()
        if not names_user and user.auth_enabled:
            continue
        if user.role == "admin" and not entry.allow_admin:
            continue
        return entry
    return None


class SessionService:
    """Create and check sessions. ``clock`` returns UTC epoch seconds; tests pass their own.

    ``streams`` is the event bus: ending a session closes the streams it opened.
    """

    def __init__(
        self,
        storage: Any,
        *,
        idle_minutes: int = DEFAULT_IDLE_MINUTES,
        lifetime_hours: int = DEFAULT_LIFETIME_HOURS,
        clock: Callable[[], float] = time.time,
        streams: StreamCloser | None = None,
    ) -> None:
        if idle_minutes < 1 or lifetime_hours < 1:
            raise ValueError("session idle minutes and lifetime hours must be at least 1")
        self.storage = storage
        self.idle_minutes = idle_minutes
        self.lifetime_s = lifetime_hours * 3600.0
        self._clock = clock
        self.streams = streams

    def now(self) -> float:
        return self._clock()

    async def create(
        self,
        user: UserRecord,
        *,
        kind: SessionKind,
        ip_address: str | None,
        user_agent: str | None,
        previous_token: str | None = None,
        timeout_minutes: int | None = None,
    ) -> tuple[str, SessionRecord]:
        """Issue a fresh session for ``user`` and return its token and record.

        Any session named by ``previous_token`` (the cookie sent with the sign-in request)
        is ended first, so a token planted before sign-in never becomes valid.
        """
        if previous_token:
            await self.end_by_token(previous_token)
        now = self._clock()
        timeout = timeout_minutes if timeout_minutes is not None else self.idle_minutes
        token = new_session_token()
        record = await self.storage.create_session(
            user_id=user.id,
            token_hash=hash_token(token),
            expires_at=min(now + self.lifetime_s, now + timeout * 60.0),
            timeout_minutes=timeout,
            kind=kind,
            ip_address=ip_address,
            user_agent=user_agent[:MAX_USER_AGENT_LENGTH] if user_agent else None,
            now=now,
        )
        return token, record

    async def resolve(
        self,
        token: str,
        client: ClientAddress,
        trusted_networks: Sequence[TrustedNetwork],
    ) -> ActiveSession | None:
        """Return the live session for ``token``, or None when it must not be honoured.

        Expired sessions and sessions of inactive users are deleted. A trusted-network
        session is honoured only while the client is inside a network that admits its user.
        Outside such a network it is rejected but kept, so it works again back on that network.
        """
        if not is_well_formed_session_token(token):
            return None
        found = await self.storage.get_session_with_user(hash_token(token))
        if found is None:
            return None
        session, user = found
        now = self._clock()
        reason = self._expiry_reason(session, now)
        if reason is None and not user.active:
            reason = "user inactive"
        if reason is not None:
            logger.debug("session %d of user %d ended: %s", session.id, user.id, reason)
            await self._end(session.id)
            return None
        if session.kind == "trusted" and trusted_entry_for(user, client, trusted_networks) is None:
            return None
        if now - session.last_seen_at >= TOUCH_INTERVAL_S:
            await self.storage.touch_session(
                session.id,
                now,
                min(session.created_at + self.lifetime_s, now + session.timeout_minutes * 60.0),
            )
        return ActiveSession(session, user)

    def _expiry_reason(self, session: SessionRecord, now: float) -> str | None:
        if now >= session.created_at + self.lifetime_s:
            return "absolute lifetime reached"
        if now - session.last_seen_at >= session.timeout_minutes * 60.0:
            return "idle timeout"
        if now >= session.expires_at:
            return "expired"
        return None

    async def end_by_token(self, token: str) -> int | None:
        """End the session named by ``token``; return its id, or None when there was none."""
        if not is_well_formed_session_token(token):
            return None
        session = await self.storage.get_session_by_hash(hash_token(token))
        if session is None:
            return None
        await self._end(session.id)
        return int(session.id)

    async def end_session(self, session_id: int) -> bool:
        """End one session and close its event streams."""
        return await self._end(session_id)

    async def end_user_sessions(
        self, user_id: int, *, except_session_id: int | None = None
    ) -> list[int]:
        """End all of a user's sessions (but ``except_session_id``) and close their streams.

        Returns the ids of the ended sessions.
        """
        ended: list[int] = await self.storage.delete_user_sessions(
            user_id, except_session_id=except_session_id
        )
        for session_id in ended:
            self._close_streams(session_id)
        return ended

    async def purge_expired(self) -> int:
        """Delete sessions whose stored deadline has passed and return how many went."""
        count: int = await self.storage.purge_expired_sessions(self._clock())
        return count

    async def _end(self, session_id: int) -> bool:
        deleted: bool = await self.storage.delete_session(session_id)
        self._close_streams(session_id)
        return deleted

    def _close_streams(self, session_id: int) -> None:
        if self.streams is not None:
            self.streams.close_owner(session_owner(session_id))
