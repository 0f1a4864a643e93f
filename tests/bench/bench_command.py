"""Command overhead: ``POST /api/device/{uid}/command`` through the server vs a direct GET.

The simulated hub and the HTTP client run in this process, the server in a subprocess. Each
round sends the same command once straight to the hub's Maker API and once through the
server, alternating which goes first and alternating ``on`` and ``off``, so both paths see
the same hub state and the same client. Both use a kept-alive connection.

    .venv/bin/python -m tests.bench.bench_command --requests 1000
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

DEVICE_ID = "53"  # Porch Light, a switch on the demo main hub
TARGET_ADDED_P50_MS = 2.0


async def run(requests: int, warmup: int) -> tuple[dict[str, list[int]], float]:
    sim, config = await start_hub("main")
    try:
        async with (
            running_server([config]) as server,
            httpx.AsyncClient(base_url=server.url, timeout=10.0) as api,
            httpx.AsyncClient(base_url=sim.base_url, timeout=10.0) as hub,
        ):
            direct_path = f"/apps/api/{config.app_id}/devices/{DEVICE_ID}"
            product_path = f"/api/device/main:{DEVICE_ID}/command"
            token = {"access_token": config.token}
            samples: dict[str, list[int]] = {"direct": [], "server": []}

            async def direct(command: str) -> int:
                started = time.monotonic_ns()
                reply = await hub.get(f"{direct_path}/{command}", params=token)
                elapsed = time.monotonic_ns() - started
                reply.raise_for_status()
                return elapsed

            async def through_server(command: str) -> int:
                started = time.monotonic_ns()
                reply = await api.post(
                    product_path, json={"command": command}, headers=server.origin_headers
                )
                elapsed = time.monotonic_ns() - started
                if reply.status_code != 200:
                    raise RuntimeError(f"command failed: HTTP {reply.status_code} {reply.text}")
                return elapsed

            cpu_start = 0.0
            for index in range(warmup + requests):
                if index == warmup:
                    cpu_start = cpu_seconds(server.pid)
                command = "on" if index % 2 == 0 else "off"
                if index % 4 < 2:
                    direct_ns = await direct(command)
                    server_ns = await through_server(command)
                else:
                    server_ns = await through_server(command)
                    direct_ns = await direct(command)
                if index >= warmup:
                    samples["direct"].append(direct_ns)
                    samples["server"].append(server_ns)
            server_cpu_s = cpu_seconds(server.pid) - cpu_start
            return samples, server_cpu_s
    finally:
        await sim.stop()


def report(samples: dict[str, list[int]], server_cpu_s: float) -> None:
    direct = samples["direct"]
    server = samples["server"]
    rows = []
    for name, values in (
        ("direct GET to the hub (baseline)", direct),
        ("through the server", server),
    ):
        rows.append((name, len(values), ms(percentile(values, 0.5)), ms(percentile(values, 0.99))))
    print_table(("path", "requests", "p50 ms", "p99 ms"), rows)

    added_p50 = percentile(server, 0.5) - percentile(direct, 0.5)
    added_p99 = percentile(server, 0.99) - percentile(direct, 0.99)
    print_table(
        ("figure", "value", "target", "met"),
        [
            (
                "added at p50",
                f"{ms(added_p50)} ms",
                f"<= {TARGET_ADDED_P50_MS:.0f} ms",
                met(added_p50 / 1e6 <= TARGET_ADDED_P50_MS),
            ),
            ("added at p99", f"{ms(added_p99)} ms", "-", "-"),
            (
                "server CPU per round",
                f"{server_cpu_s * 1000 / max(1, len(server)):.2f} ms",
                "-",
                "-",
            ),
            (
                "ratio at p50 (server / direct)",
                ratio(percentile(server, 0.5), percentile(direct, 0.5)),
                "-",
                "-",
            ),
        ],
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=1000, help="measured commands per path (default 1000)"
    )
    parser.add_argument(
        "--warmup", type=int, default=50, help="unmeasured commands per path first (default 50)"
    )
    args = parser.parse_args(argv)
    print_header("Command overhead", sys.argv[1:] if argv is None else argv)
    samples, server_cpu_s = asyncio.run(run(args.requests, args.warmup))
    report(samples, server_cpu_s)
    print(
        "Server CPU per round is the server process's CPU time over the measured rounds "
        "divided by their number. A round is one command through the server plus the "
        "eventsocket events that both commands of the round cause.\n"
    )
    print_footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
