"""``GET /api/devices/native`` with several hubs of generated devices, against ``GET /health``.

Each hub is a simulated hub in this process with ``--devices`` devices made from the demo
devices with new ids. The server runs in a subprocess; the client alternates the two
requests on one kept-alive connection.

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
            body_bytes = 0
            device_count = 0
            for index in range(warmup + requests):
                started = time.monotonic_ns()
                reply = await api.get("/api/devices/native", headers=server.headers)
                native = time.monotonic_ns() - started
                if reply.status_code != 200:
                    raise RuntimeError(f"native list failed: HTTP {reply.status_code}")
                body_bytes = len(reply.content)
                device_count = _count_devices(reply.json())

                started = time.monotonic_ns()
                reply = await api.get("/health")
                health = time.monotonic_ns() - started
                if reply.status_code != 200:
                    raise RuntimeError(f"/health failed: HTTP {reply.status_code}")
                if index >= warmup:
                    samples["native"].append(native)
                    samples["health"].append(health)
            return {"samples": samples, "bytes": body_bytes, "devices": device_count}
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
    assert isinstance(samples, dict)
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
