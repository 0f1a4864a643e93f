"""The principal: who a request acts for, set by the auth middleware on ``request.state``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

UserRole = Literal["admin", "user"]
PrincipalKind = Literal["session", "bearer", "trusted"]


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user as seen by one request.

    ``kind`` is ``session`` for a password sign-in, ``trusted`` for a session made from a
    trusted network and ``bearer`` for an API token. ``session_id`` is set for the first two,
    ``token_id`` for API tokens from the database (None for the configured ``api_token``).
    """

    user_id: int
    username: str
    role: UserRole
    kind: PrincipalKind
    session_id: int | None = None
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.user_id,
            "username": self.username,
            "role": self.role,
            "kind": self.kind,
        }


def session_owner(session_id: int) -> str:
    """Return the event bus owner of a session's streams.

    The auth middleware stores it as ``request.state.session_id`` for the event stream route.
    """
    return str(session_id)
