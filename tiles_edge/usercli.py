"""``tiles-edge user …`` and ``tiles-edge token …``: accounts stored in the database.

These commands work on the database directly, also while the server runs. The server looks
sessions and tokens up in the database on every request, so a password change, a disabled
or deleted user, or a revoked token takes effect at the next request. ``user unlock``
leaves a marker that the server reads at that user's next throttled sign-in. An open event
stream re-checks its credentials once per heartbeat period, so it ends within
``sse_heartbeat_s`` of these commands.
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from tiles_edge.api.auth import SETUP_DONE_KEY, USERNAME_PATTERN
from tiles_edge.auth.passwords import PasswordHasher, PasswordPolicyError
from tiles_edge.auth.tokens import hash_token, new_api_token, token_hint
from tiles_edge.auth.unlock import request_unlock
from tiles_edge.config import Settings
from tiles_edge.errors import StorageConflictError, TilesError
from tiles_edge.storage.records import UserRecord

PASSWORD_ENV = "TILES_USER_PASSWORD"  # noqa: S105 (the name of a variable, not a password)
MAX_TOKEN_NAME_LENGTH = 100


class UserCliError(TilesError):
    """A user or token command failed in a way the user can fix, and the message names the fix."""


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


def _time(value: float | None) -> str:
    if value is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(value))


async def _open(settings: Settings) -> Any:
    from tiles_edge.storage import open_storage

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    storage = open_storage(settings.database_url, settings.state_dir)
    await storage.open()
    return storage


def make_hasher(settings: Settings) -> PasswordHasher:
    """Build the production hasher (bcrypt cost 12) with the configured minimum length."""
    return PasswordHasher(min_length=settings.password_min_length)


def read_new_password(
    prompt: Callable[[str], str] = getpass.getpass,
    environ: dict[str, str] | None = None,
) -> str:
    """Return the password from ``TILES_USER_PASSWORD``, else ask for it twice."""
    env = os.environ if environ is None else environ
    from_env = env.get(PASSWORD_ENV)
    if from_env:
        return from_env
    if prompt is getpass.getpass and not sys.stdin.isatty():
        # Without a terminal, getpass falls back to reading stdin with an echo warning.
        raise UserCliError(
            f"no password given: set {PASSWORD_ENV} or run the command in a terminal"
        )
    try:
        first = prompt("New password: ")
        second = prompt("Repeat the password: ")
    except EOFError as err:
        raise UserCliError(
            f"no password given: set {PASSWORD_ENV} or run the command in a terminal"
        ) from err
    if first != second:
        raise UserCliError("the two passwords differ: run the command again")
    return first


def _check_username(username: str) -> None:
    if not USERNAME_PATTERN.fullmatch(username):
        raise UserCliError(
            f"invalid username {username[:64]!r}: use 1 to 64 letters, digits, '.', '_', '@' "
            "or '-', starting with a letter or digit"
        )


async def _hash(hasher: PasswordHasher, password: str) -> str:
    try:
        hasher.validate(password)
    except PasswordPolicyError as err:
        raise UserCliError(err.message) from err
    return await hasher.hash(password)


async def _user(storage: Any, username: str) -> UserRecord:
    user: UserRecord | None = await storage.get_user_by_username(username)
    if user is None:
        raise UserCliError(f"no user named {username!r}: list them with 'tiles-edge user list'")
    return user


async def add_user(
    settings: Settings,
    username: str,
    password: str,
    *,
    admin: bool = False,
    hasher: PasswordHasher | None = None,
) -> int:
    """Create an active user; the first admin created here also closes the web setup page."""
    _check_username(username)
    password_hash = await _hash(hasher or make_hasher(settings), password)
    storage = await _open(settings)
    try:
        try:
            user = await storage.create_user(
                username=username,
                password_hash=password_hash,
                role="admin" if admin else "user",
            )
        except StorageConflictError as err:
            raise UserCliError(f"a user named {username!r} exists already") from err
        if admin:
            await storage.set_app_state(SETUP_DONE_KEY, True)
    finally:
        await storage.close()
    _out(f"added {'admin' if admin else 'user'} '{user.username}' (id {user.id})")
    return 0


async def list_users(settings: Settings) -> int:
    storage = await _open(settings)
    try:
        users: list[UserRecord] = await storage.list_users()
    finally:
        await storage.close()
    if not users:
        _out("no users yet: create the admin with 'tiles-edge user add --admin NAME'")
        return 0
    _out(f"{'ID':>4}  {'USERNAME':<24} {'ROLE':<6} {'STATE':<9} {'PASSWORD':<9} LAST SIGN-IN")
    for user in users:
        state = "active" if user.active else "disabled"
        password = "required" if user.auth_enabled else "trusted"
        _out(
            f"{user.id:>4}  {user.username:<24} {user.role:<6} {state:<9} {password:<9} "
            f"{_time(user.last_login_at)}"
        )
    return 0


async def require_user(settings: Settings, username: str) -> None:
    """Raise UserCliError unless ``username`` exists, before a password is asked for."""
    storage = await _open(settings)
    try:
        await _user(storage, username)
    finally:
        await storage.close()


async def change_password(
    settings: Settings, username: str, password: str, *, hasher: PasswordHasher | None = None
) -> int:
    """Set a new password and end every session of the user."""
    password_hash = await _hash(hasher or make_hasher(settings), password)
    storage = await _open(settings)
    try:
        user = await _user(storage, username)
        await storage.update_user(user.id, password_hash=password_hash)
        ended = await storage.delete_user_sessions(user.id)
    finally:
        await storage.close()
    _out(f"changed the password of '{user.username}' and ended {len(ended)} session(s)")
    return 0


def _last_admin_error(user: UserRecord) -> UserCliError:
    return UserCliError(
        f"'{user.username}' is the last active admin: make another user an admin first"
    )


async def disable_user(settings: Settings, username: str) -> int:
    """Mark the user inactive and end their sessions, unless it is the last active admin."""
    storage = await _open(settings)
    try:
        user = await _user(storage, username)
        try:
            await storage.update_user(user.id, active=False, keep_active_admin=True)
        except StorageConflictError as err:
            raise _last_admin_error(user) from err
        ended = await storage.delete_user_sessions(user.id)
    finally:
        await storage.close()
    _out(f"disabled '{user.username}' and ended {len(ended)} session(s)")
    return 0


async def delete_user(settings: Settings, username: str) -> int:
    """Delete the user with their sessions, tokens and preferences, unless the last admin."""
    storage = await _open(settings)
    try:
        user = await _user(storage, username)
        try:
            await storage.delete_user(user.id, keep_active_admin=True)
        except StorageConflictError as err:
            raise _last_admin_error(user) from err
    finally:
        await storage.close()
    _out(f"deleted '{user.username}' with their sessions, tokens and preferences")
    return 0


async def unlock_user(settings: Settings, username: str) -> int:
    """Ask the running server to clear the user's failed sign-ins."""
    storage = await _open(settings)
    try:
        user = await _user(storage, username)
        await request_unlock(storage, user.username)
    finally:
        await storage.close()
    _out(f"'{user.username}' may sign in again at once (the running server reads this)")
    return 0


async def create_token(settings: Settings, username: str, name: str) -> int:
    """Create an API token for the user and print it once."""
    name = name.strip()
    if not name or len(name) > MAX_TOKEN_NAME_LENGTH:
        raise UserCliError(f"the token name must be 1 to {MAX_TOKEN_NAME_LENGTH} characters")
    token = new_api_token()
    storage = await _open(settings)
    try:
        user = await _user(storage, username)
        if not user.active:
            raise UserCliError(f"'{user.username}' is disabled: enable the user first")
        record = await storage.create_api_token(
            user_id=user.id, name=name, token_hash=hash_token(token)
        )
    finally:
        await storage.close()
    _out(f"created token {record.id} '{record.name}' for '{user.username}'.")
    _out("Copy it now; it is not shown again:")
    _out(token)
    _out(f"Use it as the header: Authorization: Bearer {token_hint(token)}")
    return 0


async def list_tokens(settings: Settings, username: str | None = None) -> int:
    storage = await _open(settings)
    try:
        users: list[UserRecord] = (
            [await _user(storage, username)] if username else await storage.list_users()
        )
        rows = [(user, await storage.list_api_tokens(user.id)) for user in users]
    finally:
        await storage.close()
    if not any(tokens for _, tokens in rows):
        _out("no API tokens: create one with 'tiles-edge token create --user U --name N'")
        return 0
    _out(f"{'ID':>4}  {'USER':<24} {'NAME':<24} {'CREATED':<20} {'LAST USED':<20} STATE")
    for user, tokens in rows:
        for record in tokens:
            state = "revoked" if record.revoked_at is not None else "active"
            _out(
                f"{record.id:>4}  {user.username:<24} {record.name[:24]:<24} "
                f"{_time(record.created_at):<20} {_time(record.last_used_at):<20} {state}"
            )
    return 0


async def revoke_token(settings: Settings, token_id: int) -> int:
    """Revoke the token with this id, for any owner."""
    storage = await _open(settings)
    try:
        users: list[UserRecord] = await storage.list_users()
        for user in users:
            tokens = await storage.list_api_tokens(user.id)
            if any(record.id == token_id for record in tokens):
                if not await storage.revoke_api_token(user.id, token_id):
                    raise UserCliError(f"token {token_id} is revoked already")
                _out(f"revoked token {token_id} of '{user.username}'")
                return 0
    finally:
        await storage.close()
    raise UserCliError(f"no token with id {token_id}: list them with 'tiles-edge token list'")
