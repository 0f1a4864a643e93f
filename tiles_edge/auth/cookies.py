"""The session cookie: its name and its ``Set-Cookie`` values over HTTP and HTTPS.

Over HTTPS the name carries the ``__Host-`` prefix. Browsers accept such a cookie only with
``Secure``, ``Path=/`` and no ``Domain``, so no other host of the same site can set or
shadow it. Over plain HTTP, the usual case on a home LAN, neither
``Secure`` nor the prefix is possible.
"""

from __future__ import annotations

HTTP_COOKIE_NAME = "tiles_session"
HTTPS_COOKIE_NAME = "__Host-tiles_session"


def cookie_name(https: bool) -> str:
    return HTTPS_COOKIE_NAME if https else HTTP_COOKIE_NAME


def session_cookie(token: str, *, https: bool, max_age_s: int | None = None) -> str:
    """Return the ``Set-Cookie`` value that stores ``token``.

    Without ``max_age_s`` the cookie lasts until the browser closes; the server enforces the
    real deadlines either way.
    """
    parts = [f"{cookie_name(https)}={token}", "HttpOnly", "SameSite=Strict", "Path=/"]
    if max_age_s is not None:
        parts.append(f"Max-Age={max(0, max_age_s)}")
    if https:
        parts.append("Secure")
    return "; ".join(parts)


def clear_session_cookie(*, https: bool) -> str:
    """Return the ``Set-Cookie`` value that makes the browser drop the session cookie."""
    return session_cookie("", https=https, max_age_s=0)


def read_session_token(cookie_header: str | None, *, https: bool) -> str | None:
    """Return the session token from a ``Cookie`` header, or None.

    Over HTTPS only the ``__Host-`` cookie counts, because a plain-named cookie could have
    been planted by a sibling host or over HTTP.
    """
    if not cookie_header:
        return None
    name = cookie_name(https)
    # Split by hand: http.cookies.SimpleCookie stops at the first pair it cannot parse,
    # which browsers do not do.
    for pair in cookie_header.split(";"):
        key, sep, value = pair.strip().partition("=")
        if sep and key.strip() == name:
            return value.strip().strip('"') or None
    return None
