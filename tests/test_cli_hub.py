"""``tiles-edge hub add|list|remove|test`` against a real database and a simulated hub."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tiles_edge.cli import main
from tiles_edge.simulator import SimulatedHub

TOKEN = "cli-test-token-5f2a9c"


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedHub]:
    hub = SimulatedHub.from_demo("main", token=TOKEN, app_id="7", name="Main Hub")
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def run_cli(*args: str) -> int:
    return await asyncio.to_thread(main, list(args))


async def test_add_list_test_remove(
    sim: SimulatedHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "state")
    host = f"127.0.0.1:{sim.port}"
    code = await run_cli(
        "hub", "add", "--state-dir", state, "--id", "main", "--name", "Main Hub",
        "--host", host, "--app-id", "7", "--token", TOKEN,
    )  # fmt: skip
    assert code == 0

    assert await run_cli("hub", "list", "--state-dir", state, "--port", "18123") == 0
    listing = capsys.readouterr().out
    assert ":18123/api/webhook/event/" in listing
    assert "main: Main Hub" in listing
    assert TOKEN not in listing
    assert "…9c" in listing or TOKEN[-4:] in listing
    assert "/api/webhook/event/" in listing

    assert await run_cli("hub", "test", "main", "--state-dir", state) == 0
    tested = capsys.readouterr().out
    assert "exposes 47 devices" in tested
    assert "modes: readable" in tested

    assert await run_cli("hub", "remove", "main", "--state-dir", state) == 0
    assert await run_cli("hub", "remove", "main", "--state-dir", state) == 1
    assert "no hub with id 'main'" in capsys.readouterr().out


async def test_hub_test_reports_wrong_token(
    sim: SimulatedHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "state")
    await run_cli(
        "hub", "add", "--state-dir", state, "--id", "main", "--name", "Main Hub",
        "--host", f"127.0.0.1:{sim.port}", "--app-id", "7", "--token", "wrong-token-1234",
    )  # fmt: skip
    assert await run_cli("hub", "test", "main", "--state-dir", state) == 1
    out = capsys.readouterr().out
    assert "rejected the access token" in out
    assert "wrong-token-1234" not in out


async def test_hub_test_reports_wrong_app_id(
    sim: SimulatedHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = str(tmp_path / "state")
    await run_cli(
        "hub", "add", "--state-dir", state, "--id", "main", "--name", "Main Hub",
        "--host", f"127.0.0.1:{sim.port}", "--app-id", "99", "--token", TOKEN,
    )  # fmt: skip
    assert await run_cli("hub", "test", "main", "--state-dir", state) == 1
    assert "app id" in capsys.readouterr().out


async def test_add_rejects_bad_hub_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = await run_cli(
        "hub", "add", "--state-dir", str(tmp_path), "--id", "Main Hub!", "--name", "x",
        "--host", "h", "--app-id", "1", "--token", "t",
    )  # fmt: skip
    assert code == 2
    assert "invalid hub id 'Main Hub!'" in capsys.readouterr().err


async def test_add_stores_token_for_the_server(tmp_path: Path) -> None:
    state = tmp_path / "state"
    await run_cli(
        "hub", "add", "--state-dir", str(state), "--id", "garage", "--name", "Garage Hub",
        "--host", "192.0.2.1", "--app-id", "3", "--token", "stored-token", "--transport", "poll",
    )  # fmt: skip
    with sqlite3.connect(state / "tiles-edge.db") as db:
        row = db.execute(
            "SELECT name, host, app_id, transport FROM hub_configurations WHERE hub_id = ?",
            ("garage",),
        ).fetchone()
    assert row == ("Garage Hub", "192.0.2.1", "3", "poll")
