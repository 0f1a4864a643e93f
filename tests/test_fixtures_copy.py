"""The bundled fixture copy in tests/fixtures matches the upstream folder where it exists."""

from __future__ import annotations

import pytest
from fixtures_path import BUNDLED_FIXTURES, UPSTREAM_FIXTURES


def _files(root):
    return {
        path.relative_to(root): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file() and path.suffix in (".json", ".jsonl")
    }


@pytest.mark.skipif(not UPSTREAM_FIXTURES.is_dir(), reason="no upstream fixtures folder here")
def test_bundled_fixtures_match_upstream():
    upstream = _files(UPSTREAM_FIXTURES)
    bundled = _files(BUNDLED_FIXTURES)
    assert sorted(bundled) == sorted(upstream), "copy the upstream fixtures into tests/fixtures"
    changed = [str(path) for path, data in upstream.items() if bundled[path] != data]
    assert changed == []
