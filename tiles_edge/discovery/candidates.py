"""The list of discovered candidates, merged across sources and logged once each.

A candidate is keyed by its kind, the address or host name it is probed at, and its port.
The same MediaMTX server found through ``_rtsp._tcp``, ``_mediamtx._tcp`` and the port-9997
sweep is one entry whose ``sources`` lists all three.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

logger = logging.getLogger(__name__)

CandidateKind = Literal["hubitat", "mediamtx"]
CandidateKey = tuple[str, str, int]

UNCONFIRMED = "unconfirmed"


@dataclass(slots=True)
class Candidate:
    kind: CandidateKind
    name: str
    host: str
    """The address (or host name when none resolved) that the probe used."""
    port: int
    addresses: list[str]
    source: str
    """The first source that reported it, such as ``mdns:_hubitat._tcp`` or ``probe:9997``."""
    confirmed: bool = False
    detail: str = UNCONFIRMED
    last_seen: float = 0.0
    hostname: str | None = None
    """The mDNS host name (``hubitat.local``) when the candidate came from mDNS."""
    sources: list[str] = field(default_factory=list)

    @property
    def key(self) -> CandidateKey:
        return (self.kind, self.host.lower(), self.port)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "host": self.host,
            "port": self.port,
            "hostname": self.hostname,
            "addresses": list(self.addresses),
            "source": self.source,
            "sources": list(self.sources),
            "confirmed": self.confirmed,
            "detail": self.detail,
            "lastSeen": self.last_seen,
        }


class CandidateTable:
    """Candidates by key; ``observe`` merges, ``confirm`` records probe results.

    A candidate is logged at INFO when it first appears and again only when its confirmation
    changes, so repeated mDNS announcements and periodic probes add no log lines.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._entries: dict[CandidateKey, Candidate] = {}
        self._logged: dict[CandidateKey, tuple[bool, str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: CandidateKey) -> Candidate | None:
        return self._entries.get(key)

    def observe(
        self,
        kind: CandidateKind,
        *,
        name: str,
        host: str,
        port: int,
        source: str,
        addresses: Iterable[str] = (),
        hostname: str | None = None,
    ) -> Candidate:
        """Insert or refresh a candidate seen by ``source`` and return the stored entry."""
        now = self._clock()
        key: CandidateKey = (kind, host.lower(), port)
        entry = self._entries.get(key)
        if entry is None:
            entry = Candidate(
                kind=kind,
                name=name or host,
                host=host,
                port=port,
                addresses=[],
                source=source,
                hostname=hostname,
                sources=[source],
            )
            self._entries[key] = entry
        else:
            if source not in entry.sources:
                entry.sources.append(source)
            # An mDNS instance name says more than a bare address from a port sweep.
            if name and (entry.name == entry.host or source.startswith("mdns:")):
                entry.name = name
            if hostname and entry.hostname is None:
                entry.hostname = hostname
        for address in addresses:
            if address not in entry.addresses:
                entry.addresses.append(address)
        if host not in entry.addresses and _looks_like_address(host):
            entry.addresses.insert(0, host)
        entry.last_seen = now
        return entry

    def confirm(self, key: CandidateKey, confirmed: bool, detail: str) -> Candidate | None:
        """Store a probe result and log the candidate if this is news."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        entry.confirmed = confirmed
        entry.detail = detail
        entry.last_seen = self._clock()
        self._log_if_changed(entry)
        return entry

    def items(self) -> list[Candidate]:
        """Return the candidates, confirmed first, then by kind, name and host."""
        return sorted(
            self._entries.values(),
            key=lambda entry: (not entry.confirmed, entry.kind, entry.name.lower(), entry.host),
        )

    def to_json(self) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in self.items()]

    def _log_if_changed(self, entry: Candidate) -> None:
        state = (entry.confirmed, entry.detail)
        previous = self._logged.get(entry.key)
        if previous == state:
            return
        # A changing failure reason (timeout, then refused) is not worth a new line.
        if previous is not None and not previous[0] and not entry.confirmed:
            return
        self._logged[entry.key] = state
        if entry.confirmed:
            logger.info(
                "discovery found %s %r at %s:%d via %s: %s",
                entry.kind,
                entry.name,
                entry.host,
                entry.port,
                entry.source,
                entry.detail,
            )
        else:
            logger.info(
                "discovery found %s candidate %r at %s:%d via %s, not confirmed: %s",
                entry.kind,
                entry.name,
                entry.host,
                entry.port,
                entry.source,
                entry.detail,
            )


def _looks_like_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True
