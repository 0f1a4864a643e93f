"""Recent log records kept in memory for ``GET /api/logs``, with secrets masked.

Masking happens when a record is stored, so no secret is ever held in the buffer. Two
layers: exact values registered with ``SecretMasker.add`` (hub tokens, webhook tokens), and
patterns for secrets that show up in URLs and headers of any origin.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from typing import Any

MASK = "********"

# access_token=... in Maker API URLs, the path token of our webhook URLs, bearer tokens,
# the password part of user:password@host URLs, and session cookies.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(access_token=)[^&\s\"'#]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(/api/webhook/(?:event|mode)/)[^/\s?\"'#]+"), r"\1" + MASK),
    (re.compile(r"(bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), r"\1" + MASK),
    (re.compile(r"(://[^:/@\s]*:)[^@/\s]+@"), r"\1" + MASK + "@"),
    (
        re.compile(r"((?:session|cookie)[\"']?\s*[=:]\s*[\"']?)[^;\s\"',]+", re.IGNORECASE),
        r"\1" + MASK,
    ),
)

# Exact values shorter than this are not masked one by one: masking "1" or "on" would
# garble every message, and such values are not secrets anyway.
_MIN_SECRET_LENGTH = 6


class SecretMasker:
    """Replaces registered secret values and secret-looking patterns in text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= _MIN_SECRET_LENGTH:
            with self._lock:
                self._secrets.add(secret)

    def mask(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class LogBuffer(logging.Handler):
    """A logging handler that keeps the last ``capacity`` records as masked dicts."""

    def __init__(
        self, capacity: int = 100, masker: SecretMasker | None = None, level: int = logging.INFO
    ) -> None:
        super().__init__(level)
        self.masker = masker if masker is not None else SecretMasker()
        self._records: deque[dict[str, Any]] = deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                error = record.exc_info[1]
                message = f"{message}: {type(error).__name__}: {error}"
            entry = {
                "ts": record.created,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": self.masker.mask(message),
            }
        except Exception:  # a bad format string in someone's log call must not break logging
            self.handleError(record)
            return
        with self.lock or threading.Lock():
            self._records.append(entry)

    def records(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Return the kept records, oldest first, at most the newest ``limit``."""
        with self.lock or threading.Lock():
            entries = list(self._records)
        if limit is not None:
            entries = entries[-limit:] if limit > 0 else []
        return entries
