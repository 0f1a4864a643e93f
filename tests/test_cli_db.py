"""``tiles-edge db backup|restore`` on a real SQLite database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tiles_edge.cli import main


def _hub_ids(state: Path) -> list[str]:
    with sqlite3.connect(state / "tiles-edge.db") as db:
        rows = db.execute("SELECT hub_id FROM hub_configurations ORDER BY hub_id").fetchall()
    return [row[0] for row in rows]


def _add_hub(state: Path, hub_id: str) -> None:
    code = main(
        ["hub", "add", "--state-dir", str(state), "--id", hub_id, "--name", hub_id.title(),
         "--host", "192.0.2.1", "--app-id", "1", "--token", "token-for-test"]
    )  # fmt: skip
    assert code == 0


def test_backup_then_restore_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    backup = tmp_path / "copy.db"
    _add_hub(state, "main")
    assert main(["db", "backup", str(backup), "--state-dir", str(state)]) == 0
    assert "integrity of the live database: ok" in capsys.readouterr().out

    _add_hub(state, "garage")
    assert _hub_ids(state) == ["garage", "main"]

    assert main(["db", "restore", str(backup), "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert "kept as" in out
    assert _hub_ids(state) == ["main"]
    kept = list(state.glob("tiles-edge.db.pre-restore-*"))
    assert len(kept) == 1


def test_restore_missing_file_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["db", "restore", str(tmp_path / "absent.db"), "--state-dir", str(tmp_path)])
    assert code == 2
    assert "absent.db does not exist" in capsys.readouterr().err


def test_restore_rejects_a_non_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    _add_hub(state, "main")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    assert main(["db", "restore", str(junk), "--state-dir", str(state)]) == 2
    assert "restore from" in capsys.readouterr().err
    assert _hub_ids(state) == ["main"]
