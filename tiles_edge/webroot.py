"""Location of the dashboard's static files.

A source checkout serves ``web/`` from the repository root. The zipapp built by ``build.py``
carries the same folder inside the package as ``tiles_edge/_web``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def web_root() -> Path:
    packaged = _PACKAGE_DIR / "_web"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "web"
