"""A fresh install finds two hubs and a MediaMTX over mDNS, adds the hubs and is found itself.

Namespace A plays the home network: the two simulated hubs of the demo home and a fake
MediaMTX, advertised over mDNS, and a DNS-SD browser (``tests.e2e_peer_home lan``). Namespace
B runs the real server, ``tiles-edge serve --discovery-enabled``, and the admin's client
(``tests.e2e_peer_home admin``), which only reaches the server from inside B. Every process
binds to its namespace address, so nothing reaches a real interface.
"""

from __future__ import annotations

import json
import re
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.netns import namespace_pair, unavailable_reason
from tests.processes import start, stop
from tests.test_discovery_netns import Peer
from tiles_edge import __version__
from tiles_edge.discovery.probes import ProbeResult, make_probe_client, probe_hubitat
from tiles_edge.simulator.hub import SimulatedHub

SERVER_PORT = 8080
ADMIN = "admin"
DEMO_DEVICES = 56
CHROMIUM = "/usr/bin/chromium"

_reason = unavailable_reason()


async def test_simulated_hub_confirmed_by_probe() -> None:
    hub = SimulatedHub.from_demo("garage", token="garage-token-1234")
    await hub.start()
    try:
        async with make_probe_client() as client:
            result = await probe_hubitat(client, "127.0.0.1", hub.port)
            description = await client.get(f"{hub.base_url}/api/hubitat.xml")
    finally:
        await hub.stop()
    assert result == ProbeResult(True, "Hubitat hub (Hubitat Elevation C-8)")
    assert description.status_code == 200
    assert "<friendlyName>Garage Hub</friendlyName>" in description.text


class Home:
    """The app ids and secrets of one run, as the peers read them."""

    def __init__(self) -> None:
        self.app_ids = {"main": "41", "garage": "7"}
        self.secrets = {
            "main": secrets.token_hex(16),
            "garage": secrets.token_hex(16),
            "password": secrets.token_urlsafe(18),
        }

    def arguments(self) -> list[str]:
        return [
            "--main-app-id",
            self.app_ids["main"],
            "--garage-app-id",
            self.app_ids["garage"],
        ]

    def hand_secrets(self, peer: Peer, *, close: bool) -> None:
        assert peer.process.stdin is not None
        peer.process.stdin.write(json.dumps(self.secrets) + "\n")
        peer.process.stdin.flush()
        if close:
            peer.close_stdin()


def peer_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "tests.e2e_peer_home", *arguments]


def by_kind_and_port(candidates: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    return {(entry["kind"], entry["port"]): entry for entry in candidates}


@pytest.mark.slow
@pytest.mark.skipif(_reason is not None, reason=_reason or "")
@pytest.mark.parametrize(
    "via",
    [
        "api",
        pytest.param(
            "browser",
            marks=pytest.mark.skipif(
                not Path(CHROMIUM).exists(), reason=f"the browser run needs {CHROMIUM}"
            ),
        ),
    ],
)
def test_fresh_install_discovers_and_adds_hubs(tmp_path: Path, via: str) -> None:
    home = Home()
    state_dir = tmp_path / "state"
    started: list[Peer] = []
    server = None
    code = None
    with namespace_pair() as pair:
        try:
            lan = Peer(
                pair.command_in(pair.a, peer_command("lan", pair.address_a, *home.arguments())),
                tmp_path / "lan.log",
            )
            started.append(lan)
            home.hand_secrets(lan, close=False)
            lan.wait_for("ready")

            server = start(
                pair.command_in(
                    pair.b,
                    [
                        sys.executable,
                        "-m",
                        "tiles_edge",
                        "serve",
                        "--host",
                        pair.address_b,
                        "--port",
                        str(SERVER_PORT),
                        "--state-dir",
                        str(state_dir),
                        "--discovery-enabled",
                    ],
                ),
                tmp_path / "server.log",
            )
            base = f"http://{pair.address_b}:{SERVER_PORT}"
            admin = Peer(
                pair.command_in(
                    pair.b,
                    peer_command(
                        "admin",
                        base,
                        "--username",
                        ADMIN,
                        *home.arguments(),
                        *(["--browser"] if via == "browser" else []),
                    ),
                ),
                tmp_path / "admin.log",
            )
            started.append(admin)
            home.hand_secrets(admin, close=True)

            assert admin.wait_for("health")["up"] is True
            # A fresh install has no account, so the first admin is created by POST /api/auth/setup.
            assert admin.wait_for("setup")["status"] == 201
            signed_in = admin.wait_for("signed_in")
            assert signed_in["status"] == 200
            assert signed_in["body"]["user"]["role"] == "admin"
            assert admin.wait_for("devices_before")["count"] == 0

            discovery = admin.wait_for("discovery")
            assert discovery["found"] is True, discovery["body"]
            body = discovery["body"]
            assert body["enabled"] is True
            assert body["available"] is True
            assert body["addresses"] == [pair.address_b]
            assert re.fullmatch(r"tiles-[0-9a-f]{8}\.local\.", body["hostname"])
            found = by_kind_and_port(body["candidates"])
            main = found[("hubitat", 80)]
            assert main["confirmed"] is True
            # Seen both as a _hubitat._tcp instance and as hubitat.local, whichever came first
            # names it.
            assert main["name"] in {"Main Hub", "hubitat.local"}
            assert main["hostname"] == "hubitat.local"
            assert main["host"] == pair.address_a
            assert main["detail"] == "Hubitat hub (Hubitat Elevation C-8)"
            assert set(main["sources"]) == {"mdns:_hubitat._tcp", "mdns:hubitat.local"}
            garage = found[("hubitat", 8080)]
            assert garage["confirmed"] is True
            assert garage["name"] == "Garage Hub"
            assert garage["host"] == pair.address_a
            mediamtx = found[("mediamtx", 9997)]
            assert mediamtx["confirmed"] is True
            assert mediamtx["detail"] == "MediaMTX v1.17.0"
            assert "mdns:_mediamtx._tcp" in mediamtx["sources"]

            mistakes = {}
            for _ in range(3):
                line = admin.wait_for("wrong_test")
                mistakes[line["mistake"]] = line
            assert {line["status"] for line in mistakes.values()} == {200}
            diagnoses = {name: line["body"]["diagnosis"] for name, line in mistakes.items()}
            assert diagnoses == {
                "token": "token_rejected",
                "app_id": "not_found",
                "host": "unreachable",
            }
            messages = [line["body"]["message"] for line in mistakes.values()]
            assert len(set(messages)) == 3
            assert all(home.secrets["main"] not in message for message in messages)

            if via == "browser":
                assert admin.wait_for("browser_signed_in")["status"] == 200
                rows = admin.wait_for("browser_candidates")["rows"]
                assert len(rows) == 2
                shown = {tuple(row.splitlines()[1:3]) for row in rows}
                assert shown == {
                    (pair.address_a, "Hubitat hub (Hubitat Elevation C-8)"),
                    (f"{pair.address_a}:8080", "Hubitat hub (Hubitat Elevation C-8)"),
                }
                assert any(row.startswith("Garage Hub\n") for row in rows)
                added = [admin.wait_for("hub_added") for _ in range(2)]
                assert [line["hub_id"] for line in added] == ["main", "garage"]
                # "Add" fills in the candidate's address.
                assert [line["prefilled_host"] for line in added] == [
                    pair.address_a,
                    f"{pair.address_a}:8080",
                ]
                assert admin.wait_for("browser_errors")["errors"] == []
            else:
                added = [admin.wait_for("hub_added") for _ in range(2)]
                assert [line["body"]["hub"]["hubId"] for line in added] == ["main", "garage"]
                assert [line["body"]["hub"]["host"] for line in added] == [
                    pair.address_a,
                    f"{pair.address_a}:8080",
                ]
                for line in added:
                    assert line["status"] == 201
                    assert line["test_status"] == 200
                    assert line["test"]["diagnosis"] == "ok"
                    assert line["test"]["deviceCount"] > 0
                    hub = line["body"]["hub"]
                    assert hub["tokenHint"] == "••••" + home.secrets[hub["hubId"]][-4:]
                    assert home.secrets["main"] not in json.dumps(line["body"])
                    assert home.secrets["garage"] not in json.dumps(line["body"])

            devices = admin.wait_for("devices")
            assert devices["grown"] is True
            assert devices["count"] == DEMO_DEVICES
            assert {uid.split(":", 1)[0] for uid in devices["uids"]} == {"main", "garage"}
            hubs = admin.wait_for("hubs")
            assert hubs["online"] is True, hubs["body"]

            stream = admin.wait_for("stream")["events"]
            assert stream[0] == {"event": "open", "status": 200}
            resyncs = [e["data"] for e in stream if e["event"] == "resync"]
            assert [r.get("hubId") for r in resyncs if r.get("reason") == "hub_saved"] == [
                "main",
                "garage",
            ]
            admin.wait_for("done")

            browsed = lan.wait_for("browsed", lambda line: line["resolved"])
            assert browsed["name"] == body["advertisedAs"]
            assert browsed["name"].startswith("MOBIUS.TILES on ")
            assert browsed["server"] == body["hostname"]
            assert browsed["port"] == SERVER_PORT
            assert browsed["addresses"] == [pair.address_b]
            txt = browsed["txt"]
            assert set(txt) == {"path", "version", "id", "https"}
            assert txt["path"] == "/"
            assert txt["version"] == __version__
            assert txt["https"] == "0"
            assert body["hostname"] == f"tiles-{txt['id'][:8]}.local."

            # The hubs were added to the running server, which started once and with no hub.
            assert server.poll() is None
        finally:
            for peer in reversed(started):
                peer.stop()
            if server is not None:
                code = stop(server)
        log = (tmp_path / "server.log").read_text(errors="replace")
        assert code == 0, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        assert log.count("started with 0 hub(s)") == 1
        assert "started with 2 hub(s)" not in log
        for secret in home.secrets.values():
            assert secret not in log
        lan_stopped = lan.wait_for("stopped")
        hub_requests = lan_stopped["requests"]
        assert any(path.endswith("/devices/all") for path in hub_requests["main"])
        assert any(path.endswith("/devices/all") for path in hub_requests["garage"])
