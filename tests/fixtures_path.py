"""Location of the shared fixtures: the demo home on two hubs, in the shapes hubs send.

The fixtures live in ``shared/fixtures`` next to the repository. The environment variable
``TILES_FIXTURES_DIR`` points elsewhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MAIN_HUB = ("main", "Main Hub")
GARAGE_HUB = ("garage", "Garage Hub")
HUB_NAMES = {MAIN_HUB[0]: MAIN_HUB[1], GARAGE_HUB[0]: GARAGE_HUB[1]}


def fixtures_dir() -> Path:
    override = os.environ.get("TILES_FIXTURES_DIR")
    path = (
        Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "fixtures"
    )
    if not (path / "hubitat").is_dir():
        raise FileNotFoundError(
            f"fixtures not found in {path}: set TILES_FIXTURES_DIR to the folder that "
            "contains hubitat/ and mediamtx/"
        )
    return path


def hubitat_path(relative: str) -> Path:
    return fixtures_dir() / "hubitat" / relative


def load_json(relative: str) -> Any:
    """Load a JSON file under ``hubitat/``."""
    return json.loads(hubitat_path(relative).read_text(encoding="utf-8"))


def load_jsonl(relative: str) -> list[Any]:
    """Load a JSON-lines file under ``hubitat/``, one value per non-blank line."""
    lines = hubitat_path(relative).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]
