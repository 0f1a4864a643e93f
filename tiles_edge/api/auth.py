"""Accounts routes: first-admin setup, sign-in, users, API tokens and security settings.

Handlers read the ``AuthService`` from ``request.app.state.auth`` and the principal that the
auth middleware stored on ``request.state``. Unknown user and wrong password get the same
401 reply after the same bcrypt work.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.errors import error_response, read_json_object
from tiles_edge.auth.cookies import clear_session_cookie, read_session_token, session_cookie
from tiles_edge.auth.networks import ClientAddress, match_trusted_network
from tiles_edge.auth.principal import Principal
from tiles_edge.auth.service import AuthService
from tiles_edge.auth.sessions import SessionKind, trusted_entry_for
from tiles_edge.auth.tokens import hash_token, new_api_token
from tiles_edge.auth.unlock import apply_unlock_request
from tiles_edge.errors import ApiError, StorageConflictError
from tiles_edge.storage.records import ApiTokenRecord, UserRecord

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MAX_TOKEN_NAME_LENGTH = 100
# Bodies of these routes are a few short strings; larger ones are rejected early.
MAX_AUTH_BODY_BYTES = 16 * 1024
SETUP_DONE_KEY = "auth.setup_completed"
# Length of a generated temporary password, in random bytes (16 characters of base64).
TEMPORARY_PASSWORD_BYTES = 12

INVALID_CREDENTIALS = "wrong username or password"


def auth_of(request: Request) -> AuthService:
    auth: AuthService = request.app.state.auth
    return auth


def _principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise ApiError(401, "not_signed_in", "sign in to use this route")
    return principal


def _client(request: Request, auth: AuthService) -> ClientAddress:
    client = getattr(request.state, "client_address", None)
    if isinstance(client, ClientAddress):
        return client
    return auth.client_address(request.scope)


def _https(request: Request, auth: AuthService) -> bool:
    https = getattr(request.state, "https", None)
    if isinstance(https, bool):
        return https
    return auth.is_https(request.scope, _client(request, auth))


async def _body(request: Request) -> dict[str, Any]:
    return await read_json_object(request, MAX_AUTH_BODY_BYTES)


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    if body.get(name) is None:
        return None
    return _required_string(body, name)


def _required_string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise ApiError(400, "missing_field", f"{name!r} is missing: send it as a string")
    if not isinstance(value, str):
        raise ApiError(400, "invalid_field", f"{name!r} must be a string")
    return value


def _bool(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ApiError(400, "invalid_field", f"{name!r} must be true or false")
    return value


def _valid_username(username: str) -> str:
    if not USERNAME_PATTERN.fullmatch(username):
        raise ApiError(
            400,
            "invalid_username",
            "'username' must be 1 to 64 characters: letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit",
        )
    return username


def _path_id(request: Request, name: str = "id") -> int:
    raw = str(request.path_params.get(name, ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ApiError(400, "invalid_id", f"{name} {raw[:40]!r} must be a whole number")
    return int(raw)


def user_json(user: UserRecord) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "role": user.role,
        "active": user.active,
        "authEnabled": user.auth_enabled,
        "createdAt": user.created_at,
        "lastLoginAt": user.last_login_at,
    }


def token_json(record: ApiTokenRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "createdAt": record.created_at,
        "lastUsedAt": record.last_used_at,
        "revokedAt": record.revoked_at,
    }


async def _setup_open(auth: AuthService) -> bool:
    if await auth.storage.get_app_state(SETUP_DONE_KEY):
        return False
    users: list[UserRecord] = await auth.storage.list_users()
    return not any(user.role == "admin" for user in users)


async def _sign_in(
    request: Request,
    auth: AuthService,
    user: UserRecord,
    kind: SessionKind,
    status_code: int = 200,
) -> Response:
    """Issue a session for ``user`` and return a reply with the user and the session cookie."""
    client = _client(request, auth)
    https = _https(request, auth)
    previous = read_session_token(request.headers.get("cookie"), https=https)
    token, record = await auth.sessions.create(
        user,
        kind=kind,
        ip_address=str(client),
        user_agent=request.headers.get("user-agent"),
        previous_token=previous,
        timeout_minutes=auth.idle_minutes,
    )
    await auth.storage.update_user(user.id, last_login_at=auth.clock())
    response = JSONResponse(
        {"user": user_json(user), "kind": "trusted" if kind == "trusted" else "session"},
        status_code=status_code,
    )
    response.headers.append(
        "set-cookie",
        session_cookie(token, https=https, max_age_s=int(auth.sessions.lifetime_s)),
    )
    response.headers["cache-control"] = "no-store"
    auth.security_log.event(
        "login", outcome="ok", user=user.username, address=client, kind=kind, session=record.id
    )
    return response


# Setup and sign-in


async def setup(request: Request) -> Response:
    """Create the first admin while no admin exists, and sign them in."""
    auth = auth_of(request)
    body = await _body(request)
    username = _valid_username(_required_string(body, "username"))
    password_hash = await auth.hasher.hash(_required_string(body, "password"))
    async with auth.setup_lock:
        if not await _setup_open(auth):
            auth.security_log.event(
                "setup", outcome="denied", user=username, address=_client(request, auth)
            )
            raise ApiError(403, "setup_closed", "the admin account already exists: sign in")
        try:
            user = await auth.storage.create_user(
                username=username, password_hash=password_hash, role="admin"
            )
        except StorageConflictError as err:
            raise ApiError(409, "username_taken", f"username {username!r} is taken") from err
        await auth.storage.set_app_state(SETUP_DONE_KEY, True)
    auth.security_log.event(
        "setup", outcome="ok", user=username, address=_client(request, auth), role="admin"
    )
    return await _sign_in(request, auth, user, "password", status_code=201)


async def login(request: Request) -> Response:
    """Sign in with a password, or with ``{"trusted": true}`` from a trusted network."""
    auth = auth_of(request)
    body = await _body(request)
    if _bool(body, "trusted"):
        return await _login_trusted(request, auth, _optional_string(body, "username"))

    username = _required_string(body, "username")
    password = _required_string(body, "password")
    client = _client(request, auth)
    address = str(client)

    wait = auth.throttle.retry_after(username, address)
    if wait and await apply_unlock_request(auth.storage, auth.throttle, username):
        auth.security_log.event("user_unlock", outcome="ok", user=username, address=client)
        wait = auth.throttle.retry_after(username, address)
    if wait:
        auth.security_log.event("login", outcome="throttled", user=username, address=client)
        response = error_response(
            429,
            "too_many_attempts",
            f"too many failed sign-ins: wait {wait} seconds before trying again",
        )
        response.headers["retry-after"] = str(wait)
        return response

    user = None
    if USERNAME_PATTERN.fullmatch(username):
        user = await auth.storage.get_user_by_username(username)

    # A user without a password requirement signs in from a trusted network only.
    if (
        user is not None
        and user.active
        and not user.auth_enabled
        and trusted_entry_for(user, client, auth.security.trusted_networks) is not None
    ):
        auth.throttle.record_success(username, address)
        return await _sign_in(request, auth, user, "trusted")

    stored_hash = user.password_hash if user is not None and user.auth_enabled else None
    verified = await auth.hasher.verify(password, stored_hash)
    if user is None or not verified:
        wait = auth.throttle.record_failure(username, address)
        auth.security_log.event(
            "login",
            outcome="failed",
            user=username,
            address=client,
            known_user=user is not None,
        )
        response = error_response(401, "invalid_credentials", INVALID_CREDENTIALS)
        if wait:
            response.headers["retry-after"] = str(wait)
        return response

    auth.throttle.record_success(username, address)
    if not user.active:
        auth.security_log.event("login", outcome="inactive", user=user.username, address=client)
        raise ApiError(
            403, "account_inactive", "this account is disabled or awaits an admin's approval"
        )
    if stored_hash is not None and auth.hasher.needs_rehash(stored_hash):
        new_hash = await auth.hasher.rehash(password)
        await auth.storage.update_user(user.id, password_hash=new_hash)
    return await _sign_in(request, auth, user, "password")


async def _login_trusted(request: Request, auth: AuthService, username: str | None) -> Response:
    client = _client(request, auth)
    networks = auth.security.trusted_networks
    user: UserRecord | None = None
    if username is not None:
        if USERNAME_PATTERN.fullmatch(username):
            user = await auth.storage.get_user_by_username(username)
    else:
        entry = match_trusted_network(client, networks)
        if entry is not None:
            user = await auth.storage.get_user_by_username(entry.username)
    if user is None or not user.active or trusted_entry_for(user, client, networks) is None:
        auth.security_log.event(
            "login", outcome="not_trusted", user=username, address=client, kind="trusted"
        )
        raise ApiError(
            401,
            "not_trusted",
            f"address {client} may not sign in without a password: sign in with a password",
        )
    return await _sign_in(request, auth, user, "trusted")


async def logout(request: Request) -> Response:
    """End the session named by the cookie and clear the cookie."""
    auth = auth_of(request)
    https = _https(request, auth)
    token = read_session_token(request.headers.get("cookie"), https=https)
    ended = await auth.sessions.end_by_token(token) if token else None
    principal = getattr(request.state, "principal", None)
    auth.security_log.event(
        "logout",
        outcome="ok" if ended is not None else "no_session",
        user=principal.username if isinstance(principal, Principal) else None,
        address=_client(request, auth),
    )
    response = JSONResponse({"signedOut": True})
    response.headers.append("set-cookie", clear_session_cookie(https=https))
    return response


async def session_info(request: Request) -> Response:
    """Describe the current sign-in and what the sign-in screen should offer."""
    auth = auth_of(request)
    principal = getattr(request.state, "principal", None)
    client = _client(request, auth)
    trusted = match_trusted_network(client, auth.security.trusted_networks)
    body: dict[str, Any] = {
        "authenticated": isinstance(principal, Principal),
        "user": None,
        "kind": None,
        "setupRequired": await _setup_open(auth),
        "registrationEnabled": auth.security.registration_enabled,
        "trustedSignIn": trusted is not None,
        "clientAddress": str(client),
    }
    if isinstance(principal, Principal):
        user = await auth.storage.get_user(principal.user_id)
        body["user"] = user_json(user) if user is not None else principal.to_json()
        body["kind"] = principal.kind
    response = JSONResponse(body)
    response.headers["cache-control"] = "no-store"
    return response


async def register(request: Request) -> Response:
    """Create a user account when an admin has opened self-registration."""
    auth = auth_of(request)
    security = auth.security
    if not security.registration_enabled:
        raise ApiError(403, "registration_closed", "self-registration is off: ask an admin")
    body = await _body(request)
    username = _valid_username(_required_string(body, "username"))
    password_hash = await auth.hasher.hash(_required_string(body, "password"))
    try:
        user = await auth.storage.create_user(
            username=username,
            password_hash=password_hash,
            role="user",
            active=security.registration_auto_approve,
        )
    except StorageConflictError as err:
        raise ApiError(409, "username_taken", f"username {username!r} is taken") from err
    auth.security_log.event(
        "register",
        outcome="ok",
        user=username,
        address=_client(request, auth),
        active=user.active,
    )
    return JSONResponse(
        {"user": user_json(user), "awaitingApproval": not user.active}, status_code=201
    )


async def change_password(request: Request) -> Response:
    """Change one's own password, ending every session, then sign this browser in again."""
    auth = auth_of(request)
    principal = _principal(request)
    if principal.kind == "bearer":
        raise ApiError(403, "session_required", "change the password from a signed-in browser")
    body = await _body(request)
    current = _required_string(body, "currentPassword")
    new_password = _required_string(body, "newPassword")

    client = _client(request, auth)
    wait = auth.throttle.retry_after(principal.username, str(client))
    if wait:
        response = error_response(
            429, "too_many_attempts", f"too many wrong passwords: wait {wait} seconds"
        )
        response.headers["retry-after"] = str(wait)
        return response

    user = await auth.storage.get_user(principal.user_id)
    if user is None:
        raise ApiError(401, "not_signed_in", "the account no longer exists")
    auth.hasher.validate(new_password)
    if not await auth.hasher.verify(current, user.password_hash):
        auth.throttle.record_failure(principal.username, str(client))
        auth.security_log.event(
            "password_change", outcome="wrong_password", user=user.username, address=client
        )
        raise ApiError(403, "wrong_password", "the current password is wrong")

    new_hash = await auth.hasher.hash(new_password)
    await auth.storage.update_user(user.id, password_hash=new_hash)
    ended = await auth.sessions.end_user_sessions(user.id)
    auth.security_log.event(
        "password_change", outcome="ok", user=user.username, address=client, ended=len(ended)
    )
    kind: SessionKind = "trusted" if principal.kind == "trusted" else "password"
    return await _sign_in(request, auth, user, kind)


# Users (admin)


async def list_users(request: Request) -> Response:
    users: list[UserRecord] = await auth_of(request).storage.list_users()
    return JSONResponse({"users": [user_json(user) for user in users]})


async def create_user(request: Request) -> Response:
    """Create a user; without a password a temporary one is generated and returned once."""
    auth = auth_of(request)
    admin = _principal(request)
    body = await _body(request)
    username = _valid_username(_required_string(body, "username"))
    role = _role(body.get("role", "user"))
    active = _bool(body, "active")
    auth_enabled = _bool(body, "authEnabled")
    password = _optional_string(body, "password")
    generated = password is None
    if password is None:
        password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    password_hash = await auth.hasher.hash(password)

    try:
        user = await auth.storage.create_user(
            username=username,
            password_hash=password_hash,
            role=role,
            active=True if active is None else active,
            auth_enabled=True if auth_enabled is None else auth_enabled,
        )
    except StorageConflictError as err:
        raise ApiError(409, "username_taken", f"username {username!r} is taken") from err
    _log_admin_change(request, auth, admin, "user_create", user, role=role)
    result: dict[str, Any] = {"user": user_json(user)}
    if generated:
        result["temporaryPassword"] = password
    response = JSONResponse(result, status_code=201)
    response.headers["cache-control"] = "no-store"
    return response


def _role(value: Any) -> str:
    if value not in ("admin", "user"):
        raise ApiError(400, "invalid_field", "'role' must be 'admin' or 'user'")
    return str(value)


async def update_user(request: Request) -> Response:
    """Change a user's role, active flag or password-less sign-in; keep an active admin."""
    auth = auth_of(request)
    admin = _principal(request)
    user_id = _path_id(request)
    body = await _body(request)
    unknown = sorted(set(body) - {"role", "active", "authEnabled"})
    if unknown:
        raise ApiError(
            400, "invalid_field", f"unknown field {unknown[0]!r}: use role, active or authEnabled"
        )
    changes: dict[str, Any] = {}
    if "role" in body:
        changes["role"] = _role(body["role"])
    for name, column in (("active", "active"), ("authEnabled", "auth_enabled")):
        value = _bool(body, name)
        if value is not None:
            changes[column] = value
    if not changes:
        raise ApiError(400, "missing_field", "send at least one of role, active or authEnabled")
    user = await _apply_user_changes(auth, user_id, changes)
    if changes.get("active") is False:
        await auth.sessions.end_user_sessions(user.id)
    _log_admin_change(request, auth, admin, "user_update", user, **changes)
    return JSONResponse({"user": user_json(user)})


async def _apply_user_changes(
    auth: AuthService, user_id: int, changes: dict[str, Any]
) -> UserRecord:
    try:
        user: UserRecord | None = await auth.storage.update_user(
            user_id, keep_active_admin=True, **changes
        )
    except StorageConflictError as err:
        raise ApiError(
            409,
            "last_admin",
            "this change would leave no active admin: make another user an admin first",
        ) from err
    if user is None:
        raise ApiError(404, "user_not_found", f"no user with id {user_id}")
    return user


async def delete_user(request: Request) -> Response:
    auth = auth_of(request)
    admin = _principal(request)
    user_id = _path_id(request)
    user = await auth.storage.get_user(user_id)
    if user is None:
        raise ApiError(404, "user_not_found", f"no user with id {user_id}")
    sessions = await auth.storage.list_user_sessions(user_id)
    try:
        deleted = await auth.storage.delete_user(user_id, keep_active_admin=True)
    except StorageConflictError as err:
        raise ApiError(
            409,
            "last_admin",
            "the last active admin cannot be deleted: make another user an admin first",
        ) from err
    if not deleted:
        raise ApiError(404, "user_not_found", f"no user with id {user_id}")
    for session in sessions:
        await auth.sessions.end_session(session.id)
    _log_admin_change(request, auth, admin, "user_delete", user)
    return Response(status_code=204)


async def reset_password(request: Request) -> Response:
    """Set a user's password (generated when none is sent) and end their sessions."""
    auth = auth_of(request)
    admin = _principal(request)
    user_id = _path_id(request)
    body = await _body(request) if _has_body(request) else {}
    password = _optional_string(body, "password")
    generated = password is None
    if password is None:
        password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    password_hash = await auth.hasher.hash(password)
    user = await auth.storage.update_user(user_id, password_hash=password_hash)
    if user is None:
        raise ApiError(404, "user_not_found", f"no user with id {user_id}")
    ended = await auth.sessions.end_user_sessions(user_id)
    auth.throttle.unlock(user.username)
    _log_admin_change(request, auth, admin, "password_reset", user, ended=len(ended))
    result: dict[str, Any] = {"user": user_json(user)}
    if generated:
        result["temporaryPassword"] = password
    response = JSONResponse(result)
    response.headers["cache-control"] = "no-store"
    return response


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length", "0").strip()
    return "transfer-encoding" in request.headers or not (length.isdigit() and int(length) == 0)


async def toggle_auth(request: Request) -> Response:
    """Flip whether the user needs a password (off: trusted-network sign-in only)."""
    auth = auth_of(request)
    admin = _principal(request)
    user_id = _path_id(request)
    user = await auth.storage.get_user(user_id)
    if user is None:
        raise ApiError(404, "user_not_found", f"no user with id {user_id}")
    updated = await _apply_user_changes(auth, user_id, {"auth_enabled": not user.auth_enabled})
    _log_admin_change(
        request, auth, admin, "user_update", updated, auth_enabled=updated.auth_enabled
    )
    return JSONResponse({"user": user_json(updated)})


async def unlock_user(request: Request) -> Response:
    """Clear the user's failed sign-in count so they may try again at once."""
    auth = auth_of(request)
    admin = _principal(request)
    user_id = _path_id(request)
    user = await auth.storage.get_user(user_id)
    if user is None:
        raise ApiError(404, "user_not_found", f"no user with id {user_id}")
    was_locked = auth.throttle.unlock(user.username)
    _log_admin_change(request, auth, admin, "user_unlock", user, was_locked=was_locked)
    return JSONResponse({"user": user_json(user), "wasLocked": was_locked})


def _log_admin_change(
    request: Request,
    auth: AuthService,
    admin: Principal,
    event: str,
    user: UserRecord,
    **fields: object,
) -> None:
    auth.security_log.event(
        event,
        outcome="ok",
        user=admin.username,
        address=_client(request, auth),
        level=logging.INFO,
        target=user.username,
        target_id=user.id,
        **fields,
    )


# API tokens (each user manages their own)


async def list_tokens(request: Request) -> Response:
    principal = _principal(request)
    records = await auth_of(request).storage.list_api_tokens(principal.user_id)
    return JSONResponse({"tokens": [token_json(record) for record in records]})


async def create_token(request: Request) -> Response:
    """Create an API token for the signed-in user; the token is in this reply only."""
    auth = auth_of(request)
    principal = _principal(request)
    if principal.kind == "bearer":
        raise ApiError(403, "session_required", "create API tokens from a signed-in browser")
    body = await _body(request)
    name = _required_string(body, "name").strip()
    if not 1 <= len(name) <= MAX_TOKEN_NAME_LENGTH:
        raise ApiError(
            400, "invalid_field", f"'name' must be 1 to {MAX_TOKEN_NAME_LENGTH} characters"
        )
    token = new_api_token()
    record = await auth.storage.create_api_token(
        user_id=principal.user_id, name=name, token_hash=hash_token(token), now=auth.clock()
    )
    auth.security_log.event(
        "token_create",
        outcome="ok",
        user=principal.username,
        address=_client(request, auth),
        token_id=record.id,
    )
    response = JSONResponse({**token_json(record), "token": token}, status_code=201)
    response.headers["cache-control"] = "no-store"
    return response


async def revoke_token(request: Request) -> Response:
    auth = auth_of(request)
    principal = _principal(request)
    token_id = _path_id(request)
    revoked = await auth.storage.revoke_api_token(principal.user_id, token_id, now=auth.clock())
    if not revoked:
        raise ApiError(404, "token_not_found", f"you have no active API token with id {token_id}")
    auth.security_log.event(
        "token_revoke",
        outcome="ok",
        user=principal.username,
        address=_client(request, auth),
        token_id=token_id,
    )
    return Response(status_code=204)


# Security settings (admin)


async def get_security_settings(request: Request) -> Response:
    return JSONResponse(auth_of(request).security.to_json())


async def update_security_settings(request: Request) -> Response:
    auth = auth_of(request)
    admin = _principal(request)
    body = await _body(request)
    updated = auth.security.updated(body)
    if "trustedNetworks" in body:
        await _check_trusted_users(auth, updated.trusted_networks)
    await auth.update_security(updated)
    auth.security_log.event(
        "security_settings",
        outcome="ok",
        user=admin.username,
        address=_client(request, auth),
        fields=",".join(sorted(body)),
    )
    return JSONResponse(updated.to_json())


async def _check_trusted_users(auth: AuthService, networks: Any) -> None:
    """Reject a trusted network that could never sign anyone in, naming the entry and fix."""
    for index, entry in enumerate(networks):
        field = f"trustedNetworks[{index}].username"
        user = await auth.storage.get_user_by_username(entry.username)
        if user is None:
            raise ApiError(
                400,
                "invalid_field",
                f"{field}: no user is named {entry.username!r}; create the user first",
            )
        if not user.active:
            raise ApiError(
                400,
                "invalid_field",
                f"{field}: {user.username!r} is disabled; enable the user first",
            )
        if user.role == "admin" and not entry.allow_admin:
            raise ApiError(
                400,
                "invalid_field",
                f"{field}: {user.username!r} is an admin; allow admin sign-in for this "
                "network or name a user who is not an admin",
            )


# Rows in the field order of tiles_edge.api.routes.RouteSpec: path, methods, endpoint, role,
# name.
ROUTES: tuple[tuple[str, tuple[str, ...], Any, str, str], ...] = (
    ("/api/auth/setup", ("POST",), setup, "anonymous", "auth_setup"),
    ("/api/auth/login", ("POST",), login, "anonymous", "auth_login"),
    ("/api/auth/logout", ("POST",), logout, "anonymous", "auth_logout"),
    ("/api/auth/session", ("GET",), session_info, "anonymous", "auth_session"),
    ("/api/auth/register", ("POST",), register, "anonymous", "auth_register"),
    ("/api/auth/change-password", ("POST",), change_password, "user", "auth_change_password"),
    ("/api/auth/users", ("GET",), list_users, "admin", "auth_users"),
    ("/api/auth/users", ("POST",), create_user, "admin", "auth_user_create"),
    ("/api/auth/users/{id}", ("PATCH",), update_user, "admin", "auth_user_update"),
    ("/api/auth/users/{id}", ("DELETE",), delete_user, "admin", "auth_user_delete"),
    (
        "/api/auth/users/{id}/reset-password",
        ("POST",),
        reset_password,
        "admin",
        "auth_user_reset_password",
    ),
    ("/api/auth/users/{id}/unlock", ("POST",), unlock_user, "admin", "auth_user_unlock"),
    ("/api/users/{id}/toggle-auth", ("POST",), toggle_auth, "admin", "user_toggle_auth"),
    ("/api/auth/tokens", ("GET",), list_tokens, "user", "auth_tokens"),
    ("/api/auth/tokens", ("POST",), create_token, "user", "auth_token_create"),
    ("/api/auth/tokens/{id}", ("DELETE",), revoke_token, "user", "auth_token_revoke"),
    ("/api/auth/settings", ("GET",), get_security_settings, "admin", "auth_settings"),
    ("/api/auth/settings", ("PATCH",), update_security_settings, "admin", "auth_settings_update"),
)
