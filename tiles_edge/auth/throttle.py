"""Login throttling per username and per client address, with growing delays.

After ``free_attempts`` failures a key must wait ``base_delay_s``, then twice that after the
next failure, and so on up to ``max_delay_s``. Attempts made while a key waits are rejected
without being counted, so repeated attempts never extend the wait and no account is locked
out for good. A success clears the username's counter; the address counter is left to expire, so
signing in to one's own account does not buy more guesses against another one.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_FREE_ATTEMPTS = 5
DEFAULT_ADDRESS_FREE_ATTEMPTS = 10
DEFAULT_BASE_DELAY_S = 1.0
DEFAULT_MAX_DELAY_S = 15 * 60.0
# A key with no failure for this long is forgotten and starts again with free attempts.
DEFAULT_FORGET_AFTER_S = 60 * 60.0
DEFAULT_MAX_ENTRIES = 10_000


@dataclass(slots=True)
class _Entry:
    failures: int
    last_failure: float
    blocked_until: float


class LoginThrottle:
    """Count failed sign-ins per username and per address and compute the wait before the next.

    ``clock`` returns seconds on a monotonic scale; tests pass their own. At most
    ``max_entries`` keys are kept: the least recently failed ones are evicted first.
    """

    def __init__(
        self,
        *,
        free_attempts: int = DEFAULT_FREE_ATTEMPTS,
        address_free_attempts: int = DEFAULT_ADDRESS_FREE_ATTEMPTS,
        base_delay_s: float = DEFAULT_BASE_DELAY_S,
        max_delay_s: float = DEFAULT_MAX_DELAY_S,
        forget_after_s: float = DEFAULT_FORGET_AFTER_S,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if free_attempts < 0 or address_free_attempts < 0:
            raise ValueError("free attempts must not be negative")
        if base_delay_s <= 0 or max_delay_s < base_delay_s:
            raise ValueError("delays must satisfy 0 < base_delay_s <= max_delay_s")
        if max_entries < 2:
            raise ValueError(f"max_entries must be at least 2, got {max_entries}")
        self._free = {"user": free_attempts, "address": address_free_attempts}
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._forget_after_s = max(forget_after_s, max_delay_s)
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def retry_after(self, username: str, address: str) -> int:
        """Return the whole seconds to wait before trying ``username`` from ``address`` (0: go)."""
        now = self._clock()
        wait = 0.0
        for key in self._keys(username, address):
            entry = self._live_entry(key, now)
            if entry is not None:
                wait = max(wait, entry.blocked_until - now)
        return math.ceil(wait) if wait > 0 else 0

    def record_failure(self, username: str, address: str) -> int:
        """Count a failed sign-in and return the seconds the next attempt must wait."""
        now = self._clock()
        for key in self._keys(username, address):
            entry = self._live_entry(key, now)
            if entry is None:
                entry = _Entry(failures=0, last_failure=now, blocked_until=now)
            entry.failures += 1
            entry.last_failure = now
            extra = entry.failures - self._free[key[0]]
            if extra > 0:
                delay = min(self._base_delay_s * 2 ** min(extra - 1, 60), self._max_delay_s)
                entry.blocked_until = now + delay
            self._entries[key] = entry
            self._entries.move_to_end(key)
        self._evict(now)
        return self.retry_after(username, address)

    def record_success(self, username: str, address: str) -> None:
        """Clear the username's failures after a successful sign-in."""
        self._entries.pop(("user", _normalize_username(username)), None)

    def unlock(self, username: str) -> bool:
        """Clear the username's failures; return whether it had any. Used by the CLI."""
        return self._entries.pop(("user", _normalize_username(username)), None) is not None

    def unlock_address(self, address: str) -> bool:
        """Clear an address's failures; return whether it had any."""
        return self._entries.pop(("address", address), None) is not None

    def _keys(self, username: str, address: str) -> tuple[tuple[str, str], ...]:
        return (("user", _normalize_username(username)), ("address", address))

    def _live_entry(self, key: tuple[str, str], now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._is_stale(entry, now):
            del self._entries[key]
            return None
        return entry

    def _is_stale(self, entry: _Entry, now: float) -> bool:
        return now >= entry.blocked_until and now - entry.last_failure >= self._forget_after_s

    def _evict(self, now: float) -> None:
        if len(self._entries) <= self._max_entries:
            return
        for key in [key for key, entry in self._entries.items() if self._is_stale(entry, now)]:
            del self._entries[key]
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


def _normalize_username(username: str) -> str:
    return username.strip().casefold()
