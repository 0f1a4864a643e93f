"""The auth service: one object the middleware and the auth routes share.

It owns the password hasher, the login throttle, the session service, the client address
resolver and the cached security settings, and turns a request's cookie or bearer token
into a ``Principal``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tiles_edge.auth.cookies import read_session_token
from tiles_edge.auth.networks import ClientAddress, ClientAddressResolver
from tiles_edge.auth.passwords import DEFAULT_MIN_PASSWORD_LENGTH, PasswordHasher
from tiles_edge.auth.principal import Principal
from tiles_edge.auth.security_settings import (
    SecuritySettings,
    load_security_settings,
    save_security_settings,
)
from tiles_edge.auth.securitylog import SecurityLog
from tiles_edge.auth.sessions import (
    DEFAULT_IDLE_MINUTES,
    DEFAULT_LIFETIME_HOURS,
    SessionService,
    StreamCloser,
)
from tiles_edge.auth.throttle import LoginThrottle
from tiles_edge.auth.tokens import hash_token, is_well_formed_api_token, token_matches
from tiles_edge.errors import ApiError, StorageError
from tiles_edge.storage.records import UserRecord

logger = logging.getLogger(__name__)

# Last-used times of API tokens are written at most this often per token.
TOKEN_TOUCH_INTERVAL_S = 60.0
# 32 characters of URL-safe base64 carry 192 bits; generated tokens carry 256.
MIN_API_TOKEN_LENGTH = 32
# Seconds between deletions of expired sessions by ``purge_periodically``.
PURGE_INTERVAL_S = 3600.0


class BearerRejectedError(Exception):
    """An ``Authorization`` header was sent but names no valid token."""


@dataclass(frozen=True, slots=True)
class AuthOptions:
    """The server settings the auth service reads; names match ``tiles_edge.config.Settings``."""

    api_token: str = ""
    allowed_hosts: str = ""
    trusted_proxies: str = ""
    session_idle_minutes: int = DEFAULT_IDLE_MINUTES
    session_lifetime_hours: int = DEFAULT_LIFETIME_HOURS
    password_min_length: int = DEFAULT_MIN_PASSWORD_LENGTH
    max_body_bytes: int = 65536

    @classmethod
    def from_settings(cls, settings: Any) -> AuthOptions:
        """Copy the fields of a ``Settings`` (or any object with the same attributes)."""
        defaults = cls()
        values = {
            name: getattr(settings, name, getattr(defaults, name))
            for name in cls.__dataclass_fields__
        }
        return cls(**values)


class AuthService:
    """Sign-in state of the server. Call ``start(storage)`` once the storage is open."""

    def __init__(
        self,
        options: AuthOptions | None = None,
        *,
        hasher: PasswordHasher | None = None,
        throttle: LoginThrottle | None = None,
        clock: Callable[[], float] = time.time,
        streams: StreamCloser | None = None,
        security_log: SecurityLog | None = None,
    ) -> None:
        self.options = options if options is not None else AuthOptions()
        self.hasher = (
            hasher
            if hasher is not None
            else PasswordHasher(min_length=self.options.password_min_length)
        )
        self.throttle = throttle if throttle is not None else LoginThrottle()
        self.clock = clock
        self.addresses = ClientAddressResolver(self.options.trusted_proxies)
        self.security_log = security_log if security_log is not None else SecurityLog()
        self.security = SecuritySettings()
        self.sessions = SessionService(
            None,
            idle_minutes=self.options.session_idle_minutes,
            lifetime_hours=self.options.session_lifetime_hours,
            clock=clock,
            streams=streams,
        )
        # Serialises first-admin setup, so concurrent requests create one admin.
        self.setup_lock = asyncio.Lock()
        self._storage: Any = None

    @property
    def storage(self) -> Any:
        if self._storage is None:
            raise ApiError(503, "starting", "the server is starting; retry in a few seconds")
        return self._storage

    async def start(self, storage: Any) -> None:
        """Attach the open storage and load the security settings from it."""
        self._storage = storage
        self.sessions.storage = storage
        self.security = await load_security_settings(storage)
        if self.options.api_token and len(self.options.api_token) < MIN_API_TOKEN_LENGTH:
            logger.warning(
                "the api_token setting is %d characters long, which is easy to guess: use at "
                "least %d random characters, or create a token with 'tiles-edge token create'",
                len(self.options.api_token),
                MIN_API_TOKEN_LENGTH,
            )
        purged = await self.sessions.purge_expired()
        if purged:
            logger.info("removed %d expired session(s) at start-up", purged)

    def set_streams(self, streams: StreamCloser | None) -> None:
        """Use ``streams`` (the event bus) to close the streams of ended sessions."""
        self.sessions.streams = streams

    async def purge_periodically(self, interval_s: float = PURGE_INTERVAL_S) -> None:
        """Delete expired sessions every ``interval_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                purged = await self.sessions.purge_expired()
            except StorageError as err:
                logger.warning("could not delete expired sessions: %s", err)
                continue
            if purged:
                logger.info("deleted %d expired session(s)", purged)

    async def update_security(self, settings: SecuritySettings) -> None:
        await save_security_settings(self.storage, settings)
        self.security = settings

    @property
    def idle_minutes(self) -> int:
        configured = self.security.session_idle_minutes
        return configured if configured is not None else self.options.session_idle_minutes

    def client_address(self, scope: Mapping[str, Any]) -> ClientAddress:
        client = scope.get("client")
        peer = client[0] if client else None
        return self.addresses.resolve(peer, _header_map(scope))

    def is_https(self, scope: Mapping[str, Any], client: ClientAddress) -> bool:
        """Tell whether the browser reached us over HTTPS, directly or through a proxy."""
        if scope.get("scheme") in ("https", "wss"):
            return True
        if client.via_proxy:
            proto = _header_map(scope).get("x-forwarded-proto", "")
            return proto.split(",")[-1].strip().lower() == "https"
        return False

    async def authenticate(
        self, scope: Mapping[str, Any], client: ClientAddress, https: bool
    ) -> Principal | None:
        """Return the principal of a request, or None for an anonymous one.

        The bearer token is read from the ``Authorization`` header only. A header that is
        present but invalid raises BearerRejectedError, and the cookie is then not tried.
        """
        headers = _header_map(scope)
        authorization = headers.get("authorization")
        if authorization is not None:
            return await self._authenticate_bearer(authorization, client)
        token = read_session_token(headers.get("cookie"), https=https)
        if token is None:
            return None
        active = await self.sessions.resolve(token, client, self.security.trusted_networks)
        if active is None:
            return None
        return Principal(
            user_id=active.user.id,
            username=active.user.username,
            role=active.user.role,
            kind="trusted" if active.session.kind == "trusted" else "session",
            session_id=active.session.id,
        )

    async def _authenticate_bearer(self, authorization: str, client: ClientAddress) -> Principal:
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise BearerRejectedError("the Authorization header is not 'Bearer <token>'")

        configured = self.options.api_token
        if configured and token_matches(token, configured):
            admin = await self._first_active_admin()
            if admin is None:
                raise BearerRejectedError("the configured api_token has no active admin to act as")
            return _bearer_principal(admin, None)

        if not is_well_formed_api_token(token):
            raise BearerRejectedError("the bearer token is malformed")
        record = await self.storage.get_api_token_by_hash(hash_token(token))
        if record is None or record.revoked_at is not None:
            raise BearerRejectedError("the bearer token is unknown or revoked")
        user: UserRecord | None = await self.storage.get_user(record.user_id)
        if user is None or not user.active:
            raise BearerRejectedError("the bearer token's user is missing or disabled")
        now = self.clock()
        if record.last_used_at is None or now - record.last_used_at >= TOKEN_TOUCH_INTERVAL_S:
            await self.storage.touch_api_token(record.id, now)
            self.security_log.event(
                "token_use", outcome="ok", user=user.username, address=client, token_id=record.id
            )
        return _bearer_principal(user, record.id)

    async def _first_active_admin(self) -> UserRecord | None:
        users: list[UserRecord] = await self.storage.list_users()
        return next((user for user in users if user.role == "admin" and user.active), None)


def _bearer_principal(user: UserRecord, token_id: int | None) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        kind="bearer",
        token_id=token_id,
    )


def _header_map(scope: Mapping[str, Any]) -> dict[str, str]:
    """Return the request headers by lower-case name; a repeated header keeps its last value."""
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in ("x-forwarded-for", "forwarded") and name in headers:
            # Repeated forwarding headers form one list, in order (RFC 7230 section 3.2.2).
            headers[name] = f"{headers[name]}, {value}"
        elif name == "cookie" and name in headers:
            # HTTP/2 may split the Cookie header into one field per cookie (RFC 9113 8.2.3).
            headers[name] = f"{headers[name]}; {value}"
        else:
            headers[name] = value
    return headers
