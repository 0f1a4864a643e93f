"""Build the single-file release: ``dist/tiles-edge-<version>-<arch>-cp3XX.pyz``.

The zipapp contains the package, its dependencies for this machine's platform, the dashboard's
``web/`` folder (as ``tiles_edge/_web``) and the demo catalogs. It runs with any CPython of
the same minor version: ``python3 tiles-edge-….pyz demo``.

    python build.py                 # for this machine
    python build.py --platform manylinux2014_aarch64 --python-version 3.11   # for a Pi
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent

_ARCH_BY_PLATFORM_TAG = {"aarch64": "aarch64", "armv7l": "armv7l", "x86_64": "x86_64"}


def read_version() -> str:
    namespace: dict[str, str] = {}
    exec((ROOT / "tiles_edge" / "__init__.py").read_text(encoding="utf-8"), namespace)  # noqa: S102
    return namespace["__version__"]


def target_arch(platform_tag: str | None) -> str:
    if platform_tag is None:
        return platform.machine()
    for suffix, arch in _ARCH_BY_PLATFORM_TAG.items():
        if platform_tag.endswith(suffix):
            return arch
    raise SystemExit(f"build.py: cannot tell the architecture of platform tag {platform_tag!r}")


def require_shiv() -> None:
    if importlib.util.find_spec("shiv") is None:
        raise SystemExit(
            f"build.py: shiv is not installed for {sys.executable}: install it with "
            f"'{sys.executable} -m pip install shiv', then run build.py again"
        )


def build(out_dir: Path, platform_tag: str | None, python_version: str | None) -> Path:
    version = read_version()
    py = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    py_tag = "cp" + py.replace(".", "")
    output = out_dir / f"tiles-edge-{version}-{target_arch(platform_tag)}-{py_tag}.pyz"
    out_dir.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="tiles-edge-build-") as tmp:
        site = Path(tmp) / "site-packages"
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(site)]
        if platform_tag is not None:
            # Cross builds take wheels only: nothing can be compiled for another platform.
            pip += ["--platform", platform_tag, "--only-binary=:all:", "--python-version", py]
        subprocess.run([*pip, str(ROOT)], check=True)  # noqa: S603
        if not (site / "tiles_edge" / "_web" / "index.html").is_file():
            raise SystemExit(
                "build.py: the installed package lacks the dashboard (tiles_edge/_web)"
            )

        subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "shiv",
                "--site-packages",
                str(site),
                "--entry-point",
                "tiles_edge.cli:main",
                "--python",
                "/usr/bin/env python3",
                "--output-file",
                str(output),
                "--reproducible",
                "--compressed",
            ],
            check=True,
        )
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--platform",
        default=None,
        help="pip platform tag of the target, such as manylinux2014_aarch64 (default: this "
        "machine)",
    )
    parser.add_argument(
        "--python-version",
        default=None,
        help="target Python as MAJOR.MINOR (default: the Python running this script)",
    )
    args = parser.parse_args()
    require_shiv()
    output = build(args.out_dir, args.platform, args.python_version)
    sys.stdout.write(f"{output}\n")


if __name__ == "__main__":
    main()
