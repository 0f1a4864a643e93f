"""Shared test configuration: where the fixtures are, and browser availability."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


def fixtures_dir() -> Path:
    """The demo home's fixtures, found as ``tests/fixtures_path.py`` describes."""
    from tests.fixtures_path import fixtures_dir as located

    return located()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("TILES_REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"browser tests need {CHROMIUM}: apt-get install chromium")
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)
