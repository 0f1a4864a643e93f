"""Shared parts of the server benchmarks: the machine, the server process, simulated hubs.

Every benchmark runs the simulated hubs in its own process and ``python -m tiles_edge serve``
in a subprocess on 127.0.0.1, so the server never shares a GIL with the load it measures.
All timestamps come from ``time.monotonic_ns``, one system-wide clock for every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import os
import platform
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from tiles_edge.config import Settings
from tiles_edge.hubs.model import HubConfig
from tiles_edge.simulator import SimulatedHub

REPO_ROOT = Path(__file__).resolve().parents[2]

# Generous bound for start-up steps that take well under a second on loopback.
STARTUP_TIMEOUT_S = 60.0

BENCH_ADMIN = "bench-admin"


# The machine


def machine_info() -> dict[str, str]:
    """Describe this machine: CPU model, cores, RAM, Python and OS."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("model name", "Model", "Hardware") and value.strip():
                cpu = value.strip()
                break
    ram = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    os_name = platform.system()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.partition("=")[2].strip().strip('"')
                break
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count() or "unknown"),
        "ram": ram,
        "python": platform.python_version(),
        "os": f"{os_name}, Linux {platform.release()}",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def print_header(title: str, argv: Sequence[str]) -> None:
    """Print the benchmark's title, the exact command and the machine, as Markdown."""
    info = machine_info()
    command = " ".join([".venv/bin/python", "-m", _module_name(), *argv])
    print(f"## {title}\n")
    print(f"- Command: `{command}`")
    print(f"- Date: {info['date']}")
    print(
        f"- Machine: {info['cpu']}, {info['cores']} cores, {info['ram']} RAM, "
        f"Python {info['python']}, {info['os']}"
    )
    print(f"- Load average at start (1, 5, 15 min): {load_average()}")
    print()


def print_footer() -> None:
    """Print the load average at the end, to show what else was running meanwhile."""
    print(f"Load average at the end (1, 5, 15 min): {load_average()}\n", flush=True)


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages from /proc/loadavg."""
    try:
        return " ".join(Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3])
    except OSError:
        return "unknown"


def _module_name() -> str:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return spec.name if spec is not None else Path(sys.argv[0]).stem


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print a Markdown table."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print(flush=True)


# Statistics


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile (``fraction`` in 0..1) of ``values``; NaN if empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return float(ordered[rank - 1])


def ms(value_ns: float) -> str:
    """Format nanoseconds as milliseconds with two decimals."""
    return f"{value_ns / 1e6:.2f}"


def ratio(product: float, baseline: float) -> str:
    if baseline <= 0 or product != product or baseline != baseline:
        return "n/a"
    return f"{product / baseline:.1f}x"


def met(condition: bool) -> str:
    return "yes" if condition else "**no**"


# Simulated hubs


def demo_devices() -> list[dict[str, Any]]:
    """Return the ``/devices/all`` entries of both demo hubs, main first."""
    devices: list[dict[str, Any]] = []
    for hub in ("main", "garage"):
        catalog = resources.files("tiles_edge.simulator") / "catalogs" / hub / "devices_all.json"
        devices.extend(json.loads(catalog.read_text(encoding="utf-8")))
    return devices


def generate_catalog(count: int, hub_name: str) -> list[dict[str, Any]]:
    """Build ``count`` devices by cycling through the demo devices with new ids 1..count.

    Labels get the copy number so every device is distinct, and no label ends in
    ``" on <hub>"``, so none is taken for a Hub Mesh twin.
    """
    templates = [device for device in demo_devices() if " on " not in str(device.get("label"))]
    devices = []
    for index in range(count):
        device = copy.deepcopy(templates[index % len(templates)])
        device["id"] = str(index + 1)
        copy_number = index // len(templates) + 1
        device["label"] = f"{device.get('label') or device.get('name')} {copy_number} ({hub_name})"
        devices.append(device)
    return devices


async def start_hub(
    hub_id: str, devices: list[dict[str, Any]] | None = None, name: str | None = None
) -> tuple[SimulatedHub, HubConfig]:
    """Start a simulated hub (the demo ``main`` hub unless ``devices`` is given)."""
    token = secrets.token_urlsafe(24)
    app_id = str(200 + len(hub_id))
    hub_name = name or f"{hub_id.title()} Hub"
    if devices is None:
        sim = SimulatedHub.from_demo(hub_id, token=token, app_id=app_id, name=hub_name)
    else:
        sim = SimulatedHub(devices, token=token, app_id=app_id, name=hub_name)
    await sim.start()
    config = HubConfig(
        hub_id=hub_id, name=hub_name, host=f"127.0.0.1:{sim.port}", app_id=app_id, token=token
    )
    return sim, config


# The server process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kb(pid: int) -> int:
    """Return the resident set size (VmRSS) of process ``pid`` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS line in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time of process ``pid`` so far, in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    # The command name in brackets may contain spaces: count fields after its ")".
    fields = stat.rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def store_hubs(state_dir: Path, hubs: Sequence[HubConfig]) -> None:
    from tiles_edge.storage import open_storage

    settings = Settings(state_dir=state_dir)
    storage = open_storage(settings.database_url, settings.state_dir)
    await storage.open()
    try:
        for order, hub in enumerate(hubs):
            hub.order = order
            await storage.save_hub_config(hub)
    finally:
        await storage.close()


@dataclass
class ServerProcess:
    """``python -m tiles_edge serve`` on 127.0.0.1, with the headers of a signed-in admin."""

    process: asyncio.subprocess.Process
    port: int
    log_file: Path
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def origin_headers(self) -> dict[str, str]:
        """Headers for unsafe methods: the session plus a same-origin ``Origin``."""
        return {**self.headers, "origin": self.url}

    def rss_kb(self) -> int:
        return rss_kb(self.pid)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return ""


@contextlib.asynccontextmanager
async def running_server(
    hubs: Sequence[HubConfig],
    *,
    log_level: str = "warning",
    profile: Path | None = None,
    **settings: Any,
) -> AsyncIterator[ServerProcess]:
    """Store ``hubs`` in a fresh state directory, serve it in a subprocess, sign in.

    ``settings`` become ``TILES_*`` environment variables. With ``profile`` the server runs
    under cProfile and writes its statistics to that file when it stops. The block starts
    once ``/health`` returns 200 and every hub reports ``online``.
    """
    with tempfile.TemporaryDirectory(prefix="tiles-bench-") as temp:
        state_dir = Path(temp) / "state"
        state_dir.mkdir()
        await store_hubs(state_dir, hubs)
        port = free_port()
        env = dict(os.environ)
        env.update(
            {
                "TILES_STATE_DIR": str(state_dir),
                "TILES_HOST": "127.0.0.1",
                "TILES_PORT": str(port),
                "TILES_DISCOVERY_ENABLED": "false",
                "TILES_LOG_LEVEL": log_level,
            }
        )
        for name, value in settings.items():
            env["TILES_" + name.upper()] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
        log_file = Path(temp) / "server.log"
        with log_file.open("wb") as log_handle:
            profiler = [] if profile is None else ["-m", "cProfile", "-o", str(profile)]
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *profiler,
                "-m",
                "tiles_edge",
                "serve",
                stdout=log_handle,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                cwd=REPO_ROOT,
            )
        server = ServerProcess(process=process, port=port, log_file=log_file)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as client:
                await _wait_for_health(client, server)
                await _sign_in(client, server)
                await wait_hubs_online(client, server, [hub.hub_id for hub in hubs])
            yield server
        finally:
            await stop_process(process)


async def stop_process(process: asyncio.subprocess.Process, timeout_s: float = 15.0) -> None:
    """Stop with SIGTERM, as systemd does, and kill after ``timeout_s``."""
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            process.kill()
            await process.wait()


async def _wait_for_health(client: httpx.AsyncClient, server: ServerProcess) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no attempt"
    while time.monotonic() < deadline:
        if server.process.returncode is not None:
            raise RuntimeError(
                f"the server exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            reply = await client.get("/health")
            if reply.status_code == 200:
                return
            last_error = f"HTTP {reply.status_code}"
        except httpx.HTTPError as err:
            last_error = repr(err)
        await asyncio.sleep(0.05)
    raise RuntimeError(f"the server did not answer /health: {last_error}\n{server.log_tail()}")


async def _sign_in(client: httpx.AsyncClient, server: ServerProcess) -> None:
    """Create the first admin and keep its session cookie, as a browser would.

    A server without the accounts routes returns 404, and its API needs no session.
    """
    password = secrets.token_urlsafe(18)
    reply = await client.post(
        "/api/auth/setup",
        json={"username": BENCH_ADMIN, "password": password},
        headers={"origin": server.url},
    )
    if reply.status_code == 404:
        return
    if reply.status_code != 201:
        raise RuntimeError(f"first-admin setup failed: HTTP {reply.status_code} {reply.text}")
    cookies = [
        header.split(";", 1)[0]
        for header in reply.headers.get_list("set-cookie")
        if "tiles_session=" in header
    ]
    if not cookies:
        raise RuntimeError("first-admin setup returned no session cookie")
    server.headers["cookie"] = cookies[0]


async def wait_hubs_online(
    client: httpx.AsyncClient, server: ServerProcess, hub_ids: Sequence[str]
) -> None:
    """Poll ``GET /api/hubs`` until every hub in ``hub_ids`` is online."""
    if not hub_ids:
        return
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        reply = await client.get("/api/hubs", headers=server.headers)
        if reply.status_code != 200:
            raise RuntimeError(f"GET /api/hubs failed: HTTP {reply.status_code} {reply.text}")
        states = {hub["hubId"]: hub["state"] for hub in reply.json()["hubs"]}
        if all(states.get(hub_id) == "online" for hub_id in hub_ids):
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"hubs not online after {STARTUP_TIMEOUT_S} s: {states}")
