"""The user a request acts for: the principal the auth middleware resolved."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request

from tiles_edge.errors import ApiError


def current_user_id(request: Request) -> int:
    """Return the id of the user of ``request.state.principal``.

    The auth middleware sets the principal before any route that needs a user runs. Raises
    ApiError 401 when the request has no principal or the principal names no user.
    """
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise ApiError(401, "not_signed_in", "sign in to use this route")
    user_id = _principal_user_id(principal)
    if user_id is None:
        raise ApiError(401, "not_signed_in", "the session names no user: sign in again")
    return user_id


def _principal_user_id(principal: object) -> int | None:
    if isinstance(principal, Mapping):
        user_id = principal.get("user_id")
    else:
        user_id = getattr(principal, "user_id", None)
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        return user_id
    return None
