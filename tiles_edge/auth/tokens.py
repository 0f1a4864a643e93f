"""Session and API tokens: 256 bits from ``secrets``, stored only as their SHA-256 hex digest.

API tokens start with ``tiles_`` so secret scanners (GitHub push protection, gitleaks and
similar) can be taught to recognise a leaked one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32
API_TOKEN_PREFIX = "tiles_"  # noqa: S105 (a public prefix, not a secret)
# token_urlsafe(32) yields 43 characters of the URL-safe base64 alphabet.
_TOKEN_BODY_LENGTH = 43
_URLSAFE_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def new_session_token() -> str:
    """Return a new session token (256 random bits, URL-safe base64, 43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_api_token() -> str:
    """Return a new API token: ``tiles_`` followed by 256 random bits in URL-safe base64."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_well_formed_session_token(value: str) -> bool:
    """Tell whether ``value`` has the shape of a session token, before any database lookup."""
    return len(value) == _TOKEN_BODY_LENGTH and set(value) <= _URLSAFE_ALPHABET


def is_well_formed_api_token(value: str) -> bool:
    """Tell whether ``value`` has the shape of an API token made by ``new_api_token``."""
    if not value.startswith(API_TOKEN_PREFIX):
        return False
    return is_well_formed_session_token(value.removeprefix(API_TOKEN_PREFIX))


def token_matches(token: str, expected: str) -> bool:
    """Compare a presented token with a configured one in constant time."""
    return hmac.compare_digest(hash_token(token), hash_token(expected))


def token_hint(token: str) -> str:
    """Return the first characters of an API token, shown in lists to tell tokens apart."""
    return token[: len(API_TOKEN_PREFIX) + 4] + "…"
