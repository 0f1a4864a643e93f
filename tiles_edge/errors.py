"""The product's own exception types.

Library exceptions (httpx, websockets, sqlite3, psycopg) are caught at the module that talks
to them and re-raised as one of these, chained with ``raise ... from err``.
"""

from __future__ import annotations


class TilesError(Exception):
    """Base of every error this package raises on purpose."""


class ApiError(TilesError):
    """An error returned to an HTTP client as ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class HubError(TilesError):
    """A call to a hub failed. ``code`` is stable and machine-readable."""

    code = "hub_error"

    def __init__(self, hub_id: str, message: str) -> None:
        super().__init__(message)
        self.hub_id = hub_id
        self.message = message


class HubAuthError(HubError):
    code = "hub_token_rejected"


class HubNotFoundError(HubError):
    """The hub replied 404: the Maker API app id or the host is wrong."""

    code = "hub_app_not_found"


class HubUnreachableError(HubError):
    code = "hub_unreachable"


class HubTimeoutError(HubUnreachableError):
    code = "hub_timeout"


class HubReplyError(HubError):
    """The hub replied with an error status, a non-JSON body or an ``error`` key."""

    code = "hub_reply_error"


class StorageError(TilesError):
    pass


class StorageClosedError(StorageError):
    """The storage was used after ``close()``."""


class StorageConflictError(StorageError):
    """A write broke a uniqueness or reference rule, such as a username already taken."""


class StorageNotFoundError(StorageError):
    """A write named a row that does not exist, such as an unknown hub id."""
