"""Resident memory of the server with many devices and SSE clients, against an idle server.

The loaded server has ``--hubs`` simulated hubs of ``--devices`` generated devices each and
``--clients`` open event streams (held by ``tests.bench.fanout_clients`` in another
process). Warm-up: ``--warmup-requests`` reads of ``/api/devices/native`` and
``--warmup-events`` device events at ``--warmup-rate`` per second, spread over every hub,
that reach every stream. Then VmRSS and VmHWM are read from ``/proc/PID/status``. The
baseline is the same server with no hubs and no clients after the same number of reads.

    .venv/bin/python -m tests.bench.bench_memory --hubs 4 --devices 150 --clients 100
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.bench.fanout_clients import ClientProcess
from tests.bench.harness import (
    generate_catalog,
    met,
    print_footer,
    print_header,
    print_table,
    running_server,
    start_hub,
)
from tiles_edge.simulator import SimulatedHub

TARGET_MB = 80.0
ATTRIBUTE = "benchSequence"
FIRST_SEQUENCE = 1
DRAIN_S = 30.0


def status_kb(pid: int) -> dict[str, int]:
    """Return the VmRSS and VmHWM lines of ``/proc/PID/status`` in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


async def read_native(url: str, headers: dict[str, str], times: int) -> int:
    devices = 0
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as api:
        for _ in range(times):
            reply = await api.get("/api/devices/native", headers=headers)
            if reply.status_code != 200:
                raise RuntimeError(f"native list failed: HTTP {reply.status_code}")
            body = reply.json()
            devices = len(body) if isinstance(body, list) else len(body.get("devices", []))
    return devices


async def measure_loaded(
    hub_count: int, devices: int, clients: int, requests: int, events: int, rate: int
) -> dict[str, int]:
    sims: list[SimulatedHub] = []
    try:
        configs = []
        for index in range(hub_count):
            hub_id = f"hub{index + 1}"
            sim, config = await start_hub(hub_id, generate_catalog(devices, hub_id))
            sims.append(sim)
            configs.append(config)
        streams = max(200, clients + 10)
        async with running_server(configs, sse_max_streams=streams) as server:
            listed = await read_native(server.url, server.headers, requests)
            with tempfile.TemporaryDirectory(prefix="tiles-memory-") as temp:
                count = max(1, events)
                worker = await ClientProcess.start(
                    kind="sse",
                    url=server.url,
                    cookie=server.headers.get("cookie", ""),
                    clients=clients,
                    first=FIRST_SEQUENCE,
                    count=count,
                    out=Path(temp) / "clients.bin",
                )
                try:
                    started = time.monotonic()
                    for index in range(count):
                        due = started + index / rate
                        if due > time.monotonic():
                            await asyncio.sleep(due - time.monotonic())
                        sim = sims[index % len(sims)]
                        device_id = str(index % devices + 1)
                        sim.set_attribute(device_id, ATTRIBUTE, FIRST_SEQUENCE + index, unit="")
                    delivered = await worker.wait_done(DRAIN_S)
                    memory = status_kb(server.pid)
                    results = await worker.stop()
                finally:
                    await worker.kill()
            received = sum(int(str(client["count"])) for client in results)
            return {
                **memory,
                "devices": listed,
                "clients": clients,
                "events": count,
                "received": received,
                "all_delivered": int(delivered),
            }
    finally:
        for sim in sims:
            await sim.stop()


async def measure_idle(requests: int) -> dict[str, int]:
    async with running_server([]) as server:
        await read_native(server.url, server.headers, requests)
        return status_kb(server.pid)


def report(loaded: dict[str, int], idle: dict[str, int], hubs: int, devices: int) -> None:
    print(
        f"Loaded: {hubs} hubs x {devices} devices ({loaded['devices']} listed), "
        f"{loaded['clients']} SSE clients; {loaded['events']} warm-up events, "
        f"{loaded['received']} of {loaded['events'] * loaded['clients']} deliveries seen "
        f"before the reading{'' if loaded['all_delivered'] else ' (drain timed out)'}.\n"
    )
    rows = [
        ("no hubs, no clients (baseline)", _mb(idle["VmRSS"]), _mb(idle["VmHWM"])),
        (
            f"{hubs * devices} devices, {loaded['clients']} SSE clients",
            _mb(loaded["VmRSS"]),
            _mb(loaded["VmHWM"]),
        ),
    ]
    print_table(("server", "VmRSS MB", "VmHWM (peak) MB"), rows)
    loaded_mb = loaded["VmRSS"] / 1024
    added_mb = (loaded["VmRSS"] - idle["VmRSS"]) / 1024
    print_table(
        ("figure", "value", "target", "met"),
        [
            (
                "RSS with devices and clients",
                f"{loaded_mb:.1f} MB",
                f"<= {TARGET_MB:.0f} MB",
                met(loaded_mb <= TARGET_MB),
            ),
            ("added over the baseline", f"{added_mb:.1f} MB", "-", "-"),
        ],
    )


def _mb(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hubs", type=int, default=4, help="simulated hubs (default 4)")
    parser.add_argument("--devices", type=int, default=150, help="devices per hub (default 150)")
    parser.add_argument("--clients", type=int, default=100, help="open SSE streams (default 100)")
    parser.add_argument(
        "--warmup-requests",
        type=int,
        default=20,
        help="reads of /api/devices/native before the reading (default 20)",
    )
    parser.add_argument(
        "--warmup-events",
        type=int,
        default=1000,
        help="device events sent to every stream before the reading (default 1000)",
    )
    parser.add_argument(
        "--warmup-rate",
        type=int,
        default=100,
        help="warm-up events per second (default 100)",
    )
    args = parser.parse_args(argv)
    print_header("Resident memory", sys.argv[1:] if argv is None else argv)
    loaded = asyncio.run(
        measure_loaded(
            args.hubs,
            args.devices,
            args.clients,
            args.warmup_requests,
            args.warmup_events,
            args.warmup_rate,
        )
    )
    idle = asyncio.run(measure_idle(args.warmup_requests))
    report(loaded, idle, args.hubs, args.devices)
    print_footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
