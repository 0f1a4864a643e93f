"""Location of the fixtures: the demo home on two hubs, in the shapes hubs send.

The first that exists wins: the folder named by ``TILES_FIXTURES_DIR``, the upstream
fixtures folder next to the repository, then the copy in ``tests/fixtures``. The copy lets a
lone clone of the repository run its tests too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MAIN_HUB = ("main", "Main Hub")
GARAGE_HUB = ("garage", "Garage Hub")
HUB_NAMES = {MAIN_HUB[0]: MAIN_HUB[1], GARAGE_HUB[0]: GARAGE_HUB[1]}


TESTS_DIR = Path(__file__).resolve().parent
UPSTREAM_FIXTURES = TESTS_DIR.parents[1] / "shared" / "fixtures"
BUNDLED_FIXTURES = TESTS_DIR / "fixtures"


def fixtures_dir() -> Path:
    override = os.environ.get("TILES_FIXTURES_DIR")
    if override:
        path = Path(override)
    elif (UPSTREAM_FIXTURES / "hubitat").is_dir():
        path = UPSTREAM_FIXTURES
    else:
        path = BUNDLED_FIXTURES
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
