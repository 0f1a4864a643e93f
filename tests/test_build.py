"""The zipapp built by build.py runs --version and its demo on this machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import free_port, signed_in_client, start, stop, wait_for_json
from tiles_edge import __version__

REPO_ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def zipapp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "build.py"), "--out-dir", str(out_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    built = Path(result.stdout.strip().splitlines()[-1])
    assert built.is_file()
    return built


def test_zipapp_name_has_version_arch_python(zipapp: Path) -> None:
    python_tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert zipapp.name.startswith(f"tiles-edge-{__version__}-")
    assert zipapp.name.endswith(f"-{python_tag}.pyz")


def test_zipapp_version(zipapp: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(zipapp), "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"SHIV_ROOT": str(tmp_path / "shiv"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tiles-edge {__version__}"


def test_zipapp_demo_serves_devices_and_dashboard(zipapp: Path, tmp_path: Path) -> None:
    port = free_port()
    process = start(
        [
            sys.executable,
            str(zipapp),
            "demo",
            "--port",
            str(port),
            "--state-dir",
            str(tmp_path / "state"),
            "--no-generator",
            "--admin-password",
            "zipapp admin password",
        ],
        tmp_path / "demo.log",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with signed_in_client(
            base, process, "admin", "zipapp admin password", timeout_s=90
        ) as client:
            listing = wait_for_json(
                f"{base}/api/devices/native",
                process,
                timeout_s=90,
                accept=lambda body: len(body["devices"]) == 59,
                client=client,
            )
        assert isinstance(listing, dict)
        assert len(listing["devices"]) == 59
        import httpx

        page = httpx.get(f"{base}/", timeout=5)
        assert page.status_code == 200
        assert "<html" in page.text.lower()
    finally:
        code = stop(process)
    log_text = (tmp_path / "demo.log").read_text(errors="replace")
    assert code == 0, log_text[-3000:]
