"""Security events as single log lines on the ``tiles_edge.security`` logger.

Each line reads ``<UTC time> <event> outcome=<outcome> user=<name> address=<ip> key=value…``.
Values are quoted and escaped, so a user name holding a line break cannot forge a second line.
The call takes named fields only and raises ``TypeError`` for a field named like a secret
(password, token, cookie, secret, authorization; ids such as ``token_id`` are allowed), so
a secret is not passed by mistake under its usual name.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime

logger = logging.getLogger("tiles_edge.security")

_SECRET_FIELD = re.compile(r"password|passwd|token|cookie|secret|authorization", re.IGNORECASE)
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.:/@+-]{1,128}")
_MAX_VALUE_LENGTH = 128


def _format_value(value: object) -> str:
    if value is None:
        return "-"
    text = str(value)
    if _PLAIN_VALUE.fullmatch(text):
        return text
    if len(text) > _MAX_VALUE_LENGTH:
        text = text[:_MAX_VALUE_LENGTH] + "…"
    # repr() escapes line breaks and control characters and adds quotes.
    return repr(text)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class SecurityLog:
    """Write security events. ``clock`` returns an aware UTC datetime; tests pass their own."""

    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock

    def event(
        self,
        event: str,
        *,
        outcome: str,
        user: str | None = None,
        address: object = None,
        level: int = logging.INFO,
        **fields: object,
    ) -> None:
        """Log one event, such as ``login`` with outcome ``ok``, ``failed`` or ``throttled``."""
        for name in fields:
            if _SECRET_FIELD.search(name) and not name.endswith("_id"):
                raise TypeError(f"security log field {name!r} looks like a secret")
        timestamp = self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        parts = [
            timestamp,
            _format_value(event),
            f"outcome={_format_value(outcome)}",
            f"user={_format_value(user)}",
            f"address={_format_value(address)}",
        ]
        parts.extend(f"{name}={_format_value(value)}" for name, value in sorted(fields.items()))
        logger.log(level, "%s", " ".join(parts))
