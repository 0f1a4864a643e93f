"""``tiles-edge demo`` run as a user would: a separate process on a free port."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import fixtures_dir
from tests.processes import free_port, signed_in_client, start, stop, wait_for_json

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "demo admin password"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, httpx.Client]]:
    """The demo's URL and a client signed in as its admin."""
    tmp = tmp_path_factory.mktemp("demo")
    port = free_port()
    process = start(
        [
            sys.executable,
            "-m",
            "tiles_edge",
            "demo",
            "--port",
            str(port),
            "--state-dir",
            str(tmp / "state"),
            "--no-generator",
            "--admin-password",
            ADMIN_PASSWORD,
        ],
        tmp / "demo.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with signed_in_client(base, process, "admin", ADMIN_PASSWORD) as client:
            wait_for_json(
                f"{base}/api/hubs",
                process,
                accept=lambda body: all(hub["state"] == "online" for hub in body["hubs"]),
                client=client,
            )
            yield base, client
    finally:
        code = stop(process)
        log_text = (tmp / "demo.log").read_text(errors="replace")
        assert code == 0, log_text[-3000:]
        assert "Traceback" not in log_text, log_text[-3000:]
        assert f"Sign in as 'admin' with the password: {ADMIN_PASSWORD}" in log_text
        assert ADMIN_PASSWORD not in log_text.replace(
            f"Sign in as 'admin' with the password: {ADMIN_PASSWORD}", ""
        )


@pytest.fixture
def demo_url(demo_run: tuple[str, httpx.Client]) -> str:
    return demo_run[0]


@pytest.fixture
def demo(demo_run: tuple[str, httpx.Client]) -> httpx.Client:
    return demo_run[1]


def _expected() -> dict[str, dict[str, object]]:
    path = fixtures_dir() / "hubitat" / "expected.json"
    data: dict[str, dict[str, object]] = json.loads(path.read_text())
    return data


def _catalog_uids() -> set[str]:
    uids = set()
    for hub_id, folder in (("main", "main-hub"), ("garage", "garage-hub")):
        path = fixtures_dir() / "hubitat" / folder / "devices_all.json"
        uids |= {f"{hub_id}:{device['id']}" for device in json.loads(path.read_text())}
    return uids


def test_demo_lists_all_59_devices(demo: httpx.Client) -> None:
    native = demo.get("/api/devices/native", timeout=10).json()["devices"]
    uids = {device["uid"] for device in native}
    assert len(native) == 59
    assert uids == _catalog_uids()


def test_demo_devices_match_expected(demo: httpx.Client) -> None:
    listing = demo.get("/api/devices/native", timeout=10).json()
    native = {d["uid"]: d for d in listing["devices"]}
    for uid, facts in _expected().items():
        device = native[uid]
        assert device["kind"] == facts["kind"], uid
        assert device["label"] == facts["label"], uid
        if "twinOf" in facts:
            assert device["twinOf"] == facts["twinOf"], uid


def test_demo_folds_twins(demo: httpx.Client) -> None:
    folded = demo.get("/api/devices", timeout=10).json()["devices"]
    uids = {device["uid"] for device in folded}
    assert len(folded) == 56
    assert "garage:1203" not in uids
    front_door = next(device for device in folded if device["uid"] == "main:104")
    assert front_door["twins"] == ["garage:1203"]


def test_demo_switch_toggle_reaches_sse(demo: httpx.Client) -> None:
    received: list[dict[str, object]] = []
    seen = threading.Event()
    connected = threading.Event()

    def listen() -> None:
        with demo.stream("GET", "/api/events/stream", timeout=20) as stream:
            connected.set()
            event_type = None
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event_type = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event_type == "device":
                    data = json.loads(line.split(":", 1)[1])
                    if data["uid"] == "main:53" and data["name"] == "switch":
                        received.append(data)
                        seen.set()
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(10), "the event stream did not open"
    before = demo.get("/api/device/main:53/info", timeout=10).json()["device"]
    target = "off" if before["attributes"]["switch"]["value"] == "on" else "on"
    reply = demo.post(
        "/api/device/main:53/command",
        json={"command": target, "args": []},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    assert seen.wait(15), "no SSE device event for main:53 within 15 s"
    assert received[0]["value"] == target
    after = demo.get("/api/device/main:53/info", timeout=10).json()["device"]
    assert after["attributes"]["switch"]["value"] == target


def test_demo_serves_dashboard_page(demo_url: str) -> None:
    page = httpx.get(f"{demo_url}/", timeout=10)
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


def test_demo_reports_both_hubs_online(demo: httpx.Client) -> None:
    hubs = demo.get("/api/hubs", timeout=10).json()["hubs"]
    assert {hub["hubId"]: hub["state"] for hub in hubs} == {"main": "online", "garage": "online"}


def test_demo_needs_sign_in(demo_url: str) -> None:
    assert httpx.get(f"{demo_url}/api/devices", timeout=10).status_code == 401
    assert httpx.get(f"{demo_url}/health", timeout=10).status_code == 200
    wrong = httpx.post(
        f"{demo_url}/api/auth/login",
        json={"username": "admin", "password": "not the password"},
        headers={"origin": demo_url},
        timeout=10,
    )
    assert wrong.status_code == 401


def test_demo_replays_given_hub_catalog(tmp_path: Path) -> None:
    dump = json.loads((fixtures_dir() / "hubitat" / "garage-hub" / "devices_all.json").read_text())
    dump[0]["label"] = "<img src=x onerror=alert(1)>"
    catalog = tmp_path / "my-hub.json"
    catalog.write_text(json.dumps(dump))
    port = free_port()
    process = start(
        [
            sys.executable, "-m", "tiles_edge", "demo",
            "--port", str(port), "--state-dir", str(tmp_path / "state"), "--no-generator",
            "--admin-password", ADMIN_PASSWORD,
            "--hub-catalog", "shed", "Shed Hub", str(catalog),
        ],
        tmp_path / "demo.log",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with signed_in_client(base, process, "admin", ADMIN_PASSWORD) as client:
            listing = wait_for_json(
                f"{base}/api/devices/native",
                process,
                accept=lambda body: len(body["devices"]) == len(dump),
                client=client,
            )
            hubs = client.get(f"{base}/api/hubs").json()["hubs"]
    finally:
        code = stop(process)
    assert code == 0, (tmp_path / "demo.log").read_text(errors="replace")[-3000:]
    assert [hub["hubId"] for hub in hubs] == ["shed"]
    labels = {device["label"] for device in listing["devices"]}
    assert "<img src=x onerror=alert(1)>" in labels
    assert {device["hubId"] for device in listing["devices"]} == {"shed"}


def test_demo_rejects_missing_catalog(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "tiles_edge", "demo", "--state-dir", str(tmp_path),
            "--hub-catalog", "shed", "Shed Hub", str(tmp_path / "absent.json"),
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "absent.json does not exist" in result.stderr


def test_demo_removes_its_own_state_dir(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    env.pop("TILES_STATE_DIR", None)
    log = (tmp_path / "demo.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tiles_edge", "demo", "--port", str(port), "--no-generator",
         "--admin-password", ADMIN_PASSWORD],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        wait_for_json(f"http://127.0.0.1:{port}/health", process)
        made = list(tmp_path.glob("tiles-edge-demo-*"))
        assert len(made) == 1
        assert (made[0] / "tiles-edge.db").is_file()
    finally:
        assert stop(process) == 0
        log.close()
    assert list(tmp_path.glob("tiles-edge-demo-*")) == []
