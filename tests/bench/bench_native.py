"""``GET /api/devices/native`` with several hubs of generated devices, against ``GET /health``.

Each hub is a simulated hub in this process with ``--devices`` devices made from the demo
devices with new ids. The server runs in a subprocess. The client alternates blocks of the
two requests on one kept-alive connection. The server's CPU time per request comes from
``/proc/PID/stat``, whose 10 ms clock ticks make it an average over each block.

    .venv/bin/python -m tests.bench.bench_native --hubs 4 --devices 150 --requests 300
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

import httpx

from tests.bench.harness import (
    cpu_seconds,
    generate_catalog,
    met,
    ms,
    percentile,
    print_footer,
    print_header,
    print_table,
    ratio,
    running_server,
    start_hub,
)

TARGET_P50_MS = 20.0
BLOCK = 25


async def run(hub_count: int, devices: int, requests: int, warmup: int) -> dict[str, object]:
    sims = []
    try:
        configs = []
        for index in range(hub_count):
            hub_id = f"hub{index + 1}"
            sim, config = await start_hub(hub_id, generate_catalog(devices, hub_id))
            sims.append(sim)
            configs.append(config)
        async with (
            running_server(configs) as server,
            httpx.AsyncClient(base_url=server.url, timeout=30.0) as api,
        ):
            samples: dict[str, list[int]] = {"native": [], "health": []}
            cpu_s = {"native": 0.0, "health": 0.0}
            shape = {"bytes": 0, "devices": 0}

            async def native() -> int:
                started = time.monotonic_ns()
                reply = await api.get("/api/devices/native", headers=server.headers)
                elapsed = time.monotonic_ns() - started
                if reply.status_code != 200:
                    raise RuntimeError(f"native list failed: HTTP {reply.status_code}")
                shape["bytes"] = len(reply.content)
                shape["devices"] = _count_devices(reply.json())
                return elapsed

            async def health() -> int:
                started = time.monotonic_ns()
                reply = await api.get("/health")
                elapsed = time.monotonic_ns() - started
                if reply.status_code != 200:
                    raise RuntimeError(f"/health failed: HTTP {reply.status_code}")
                return elapsed

            for _ in range(warmup):
                await native()
                await health()
            # Alternating blocks of each kind, so both see the same drift in machine load
            # and the server's CPU time can be split by kind.
            done = 0
            while done < requests:
                block = min(BLOCK, requests - done)
                for kind, call in (("native", native), ("health", health)):
                    cpu_before = cpu_seconds(server.pid)
                    for _ in range(block):
                        samples[kind].append(await call())
                    cpu_s[kind] += cpu_seconds(server.pid) - cpu_before
                done += block
            return {
                "samples": samples,
                "cpu_s": cpu_s,
                "bytes": shape["bytes"],
                "devices": shape["devices"],
            }
    finally:
        for sim in sims:
            await sim.stop()


def _count_devices(body: object) -> int:
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for key in ("devices", "items"):
            if isinstance(body.get(key), list):
                return len(body[key])
    return -1


def report(result: dict[str, object], hubs: int, devices: int) -> None:
    samples = result["samples"]
    cpu_s = result["cpu_s"]
    assert isinstance(samples, dict)
    assert isinstance(cpu_s, dict)
    native = samples["native"]
    health = samples["health"]
    print(
        f"{hubs} hubs x {devices} devices; the native list returned {result['devices']} "
        f"devices in {result['bytes']} bytes.\n"
    )
    print_table(
        ("request", "requests", "p50 ms", "p99 ms"),
        [
            (
                "GET /health (baseline)",
                len(health),
                ms(percentile(health, 0.5)),
                ms(percentile(health, 0.99)),
            ),
            (
                "GET /api/devices/native",
                len(native),
                ms(percentile(native, 0.5)),
                ms(percentile(native, 0.99)),
            ),
        ],
    )
    p50 = percentile(native, 0.5)
    print_table(
        ("figure", "value", "target", "met"),
        [
            (
                "native list p50",
                f"{ms(p50)} ms",
                f"<= {TARGET_P50_MS:.0f} ms",
                met(p50 / 1e6 <= TARGET_P50_MS),
            ),
            ("ratio at p50 (native / health)", ratio(p50, percentile(health, 0.5)), "-", "-"),
            (
                "server CPU per native list",
                f"{cpu_s['native'] * 1000 / max(1, len(native)):.2f} ms",
                "-",
                "-",
            ),
            (
                "server CPU per /health",
                f"{cpu_s['health'] * 1000 / max(1, len(health)):.2f} ms",
                "-",
                "-",
            ),
        ],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hubs", type=int, default=4, help="simulated hubs (default 4)")
    parser.add_argument("--devices", type=int, default=150, help="devices per hub (default 150)")
    parser.add_argument(
        "--requests", type=int, default=300, help="measured requests of each kind (default 300)"
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="unmeasured requests of each kind (default 20)"
    )
    args = parser.parse_args(argv)
    print_header("GET /api/devices/native", sys.argv[1:] if argv is None else argv)
    result = asyncio.run(run(args.hubs, args.devices, args.requests, args.warmup))
    report(result, args.hubs, args.devices)
    print_footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
