"""Unlock requests that reach a running server's login throttle through the database.

The throttle lives in the server's memory, so ``tiles-edge user unlock`` (a separate
process) stores a marker in app state instead. When a sign-in of that user is throttled,
the server looks for the marker, clears the user's failures and deletes the marker.
"""

from __future__ import annotations

import time
from typing import Any

from tiles_edge.auth.throttle import LoginThrottle

KEY_PREFIX = "auth.unlock."
# A marker older than the throttle's longest delay (15 minutes) is ignored: every block it
# was meant for has ended by then, and it must not lift a later one.
MAX_MARKER_AGE_S = 900.0


def unlock_key(username: str) -> str:
    """Return the app-state key of ``username``'s unlock marker (usernames ignore case)."""
    return KEY_PREFIX + username.strip().casefold()


async def request_unlock(storage: Any, username: str, now: float | None = None) -> None:
    """Store an unlock marker for ``username``, read by the running server's next sign-in."""
    await storage.set_app_state(unlock_key(username), {"requestedAt": _now(now)})


async def apply_unlock_request(
    storage: Any, throttle: LoginThrottle, username: str, now: float | None = None
) -> bool:
    """Clear ``username``'s failures if a fresh marker asks for it; delete any marker.

    Returns whether a fresh marker was found.
    """
    key = unlock_key(username)
    marker = await storage.get_app_state(key)
    if marker is None:
        return False
    await storage.set_app_state(key, None)
    requested_at = marker.get("requestedAt") if isinstance(marker, dict) else None
    if not isinstance(requested_at, (int, float)) or isinstance(requested_at, bool):
        return False
    if _now(now) - requested_at > MAX_MARKER_AGE_S:
        return False
    throttle.unlock(username)
    return True


def _now(now: float | None) -> float:
    return time.time() if now is None else now
