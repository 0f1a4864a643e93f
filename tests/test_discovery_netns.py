"""Discovery across two network namespaces joined by a veth pair.

Namespace A plays the LAN (fake Hubitat hubs and a fake MediaMTX, advertised over mDNS, and
a DNS-SD browser); namespace B runs the appliance's ``Discovery``. Each side runs as a
subprocess of ``tests.discovery_peer`` under ``ip netns exec`` and binds zeroconf only to its
namespace address, so no mDNS packet reaches a real interface.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.netns import NamespacePair, ip, namespace_pair, unavailable_reason

REPO_ROOT = Path(__file__).resolve().parents[1]
WAIT_S = 60.0

_reason = unavailable_reason()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(_reason is not None, reason=_reason or ""),
]


class Peer:
    """A peer subprocess whose JSON stdout lines are read by a thread into a queue."""

    def __init__(self, command: list[str], log: Path) -> None:
        self.log = log
        self._stderr = log.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def wait_for(
        self, event: str, match: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} line within {WAIT_S} s; see {self.log}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                log = self.log.read_text()[-3000:]
                raise AssertionError(f"peer exited before {event!r}:\n{log}")
            if line["event"] == event and match(line):
                return line

    def close_stdin(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()

    def stop(self) -> None:
        self.close_stdin()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stderr.close()


@contextmanager
def peers(pair: NamespacePair, tmp_path: Path) -> Iterator[Callable[..., Peer]]:
    started: list[Peer] = []

    def start(namespace: str, *arguments: str) -> Peer:
        command = pair.command_in(
            namespace, [sys.executable, "-m", "tests.discovery_peer", *arguments]
        )
        peer = Peer(command, tmp_path / f"peer-{len(started)}-{arguments[0]}.log")
        started.append(peer)
        return peer

    try:
        yield start
    finally:
        for peer in reversed(started):
            peer.stop()


def by_kind_and_port(candidates: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(entry["kind"], entry["port"]): entry for entry in candidates}


def test_lan_found_confirmed_and_appliance_listed(tmp_path: Path) -> None:
    instance_id = "5f3c9a2be1d04c7a"
    with namespace_pair() as pair, peers(pair, tmp_path) as start:
        lan = start(pair.a, "lan", pair.address_a, "--watch-id", instance_id)
        lan.wait_for("ready")
        appliance = start(
            pair.b,
            "appliance",
            pair.address_b,
            "--instance-id",
            instance_id,
            "--expect-hubitat",
            "2",
            "--expect-mediamtx",
            "1",
            "--expect-sources",
            "5",
        )
        started = appliance.wait_for("started")
        assert started["status"]["available"] is True

        result = appliance.wait_for("candidates")
        found = by_kind_and_port(result["candidates"])
        assert set(found) == {("hubitat", 80), ("hubitat", 8080), ("mediamtx", 9997)}

        hub = found[("hubitat", 80)]
        assert hub["confirmed"] is True
        assert hub["host"] == pair.address_a
        assert hub["detail"] == "Hubitat hub (Hubitat Elevation C-8)"
        assert hub["hostname"] == "hubitat.local"
        assert set(hub["sources"]) == {"mdns:_hubitat._tcp", "mdns:hubitat.local"}

        garage = found[("hubitat", 8080)]
        assert garage["confirmed"] is True
        assert garage["name"] == "Garage Hubitat"
        assert garage["source"] == "mdns:_http._tcp"

        mediamtx = found[("mediamtx", 9997)]
        assert mediamtx["confirmed"] is True
        assert mediamtx["detail"] == "MediaMTX v1.17.0"
        assert set(mediamtx["sources"]) == {"mdns:_mediamtx._tcp", "mdns:_rtsp._tcp"}
        assert mediamtx["addresses"] == [pair.address_a]
        assert all(entry["name"] != "Office Printer" for entry in result["candidates"])

        browsed = lan.wait_for("browsed")
        assert browsed["name"] == "MOBIUS.TILES on pi-kitchen._http._tcp.local."
        assert browsed["server"] == "tiles-5f3c9a2b.local."
        assert browsed["port"] == 8080
        assert browsed["addresses"] == [pair.address_b]
        assert browsed["txt"] == {"path": "/", "version": "0.1.0", "id": instance_id, "https": "0"}

        # Stopping sends goodbye packets, so the browser drops the appliance at once.
        appliance.close_stdin()
        appliance.wait_for("stopped")
        removed = lan.wait_for("removed")
        assert removed["name"] == browsed["name"]


def test_appliance_announced_once_interface_comes_up(tmp_path: Path) -> None:
    instance_id = "0badc0ffee00aa11"
    with namespace_pair() as pair, peers(pair, tmp_path) as start:
        # B starts as a Pi whose Wi-Fi has not connected yet: no address on its link.
        ip("-n", pair.b, "addr", "flush", "dev", pair.veth_b)
        lan = start(pair.a, "lan", pair.address_a, "--watch-id", instance_id)
        lan.wait_for("ready")
        appliance = start(
            pair.b,
            "appliance",
            pair.address_b,
            "--instance-id",
            instance_id,
            "--all-interfaces",
            "--timeout",
            "1",
        )
        started = appliance.wait_for("started")
        assert started["status"]["available"] is True
        assert started["status"]["addresses"] == []

        ip("-n", pair.b, "addr", "add", f"{pair.address_b}/24", "dev", pair.veth_b)
        browsed = lan.wait_for("browsed", lambda line: pair.address_b in line["addresses"])
        assert browsed["server"] == "tiles-0badc0ff.local."
        assert browsed["txt"]["id"] == instance_id


def test_shares_port_5353_with_another_responder(tmp_path: Path) -> None:
    with namespace_pair() as pair, peers(pair, tmp_path) as start:
        lan = start(pair.a, "lan", pair.address_a, "--watch-id", "none")
        lan.wait_for("ready")
        appliance = start(
            pair.b,
            "appliance",
            pair.address_b,
            "--instance-id",
            "77aa77aa77aa",
            "--hold-5353",
            "shared",
            "--expect-hubitat",
            "2",
            "--expect-mediamtx",
            "1",
        )
        assert appliance.wait_for("started")["status"]["available"] is True
        confirmed = [
            entry for entry in appliance.wait_for("candidates")["candidates"] if entry["confirmed"]
        ]
        assert len(confirmed) == 3


def test_port_5353_held_exclusively_reports_unavailable(tmp_path: Path) -> None:
    with namespace_pair() as pair, peers(pair, tmp_path) as start:
        appliance = start(
            pair.b,
            "appliance",
            pair.address_b,
            "--instance-id",
            "88bb88bb88bb",
            "--hold-5353",
            "exclusive",
        )
        status = appliance.wait_for("started")["status"]
        assert status["available"] is False
        assert "5353" in status["reason"]
        assert appliance.wait_for("candidates")["candidates"] == []
        appliance.close_stdin()
        appliance.wait_for("stopped")
        log = appliance.log.read_text()
        assert log.count("discovery is unavailable") == 1
