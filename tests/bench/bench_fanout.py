"""Event fan-out: a simulated hub's eventsocket frame in, the SSE frame out at each client.

Three processes take part. This one runs the simulated demo ``main`` hub and emits device
events at a fixed rate, each carrying its sequence number as the value of the attribute
``benchSequence`` on one switch. ``python -m tiles_edge serve`` runs in a subprocess
connected to the hub's eventsocket. ``tests.bench.fanout_clients`` runs in a third process
with the SSE clients (or, for the baseline, one websocket client reading the hub's
eventsocket directly). Latency is the read time at the client minus the time just before
the hub emitted the event, both from ``time.monotonic_ns``.

A client loses an event when its sequence number never arrives. A ``resync`` event, which
the server sends to a client that fell too far behind, is counted separately.

    .venv/bin/python -m tests.bench.bench_fanout --clients 1,20,100 --rates 100,500,2000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.bench.fanout_clients import ClientProcess
from tests.bench.harness import (
    ServerProcess,
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
from tiles_edge.simulator import SimulatedHub

DEVICE_ID = "53"  # Porch Light on the demo main hub
ATTRIBUTE = "benchSequence"
# Sequence numbers of run N start at N * RUN_STRIDE, so no run can mistake another's events.
RUN_STRIDE = 10_000_000
WORKER_TIMEOUT_S = 120.0
TARGET_CLIENTS = 100
TARGET_RATE = 500
TARGET_P99_MS = 10.0


@dataclass
class RunResult:
    path: str
    clients: int
    rate: int
    sent: int
    received: int
    lost: int
    resyncs: int
    errors: int
    p50_ns: float
    p99_ns: float
    max_ns: float
    emit_s: float
    # CPU use of each process while the events were emitted and drained, in % of one core.
    hub_cpu: float
    server_cpu: float
    clients_cpu: float
    # The server's CPU time in the same window, in seconds.
    server_cpu_s: float


async def emit(sim: SimulatedHub, first: int, count: int, rate: int) -> tuple[list[int], float]:
    """Emit ``count`` events at ``rate`` per second; return their emit times and the duration.

    The loop sleeps until the next event is due. asyncio timers have about 1 ms resolution,
    so at rates above 1,000/s events leave in small bursts.
    """
    sent_ns: list[int] = []
    interval_ns = 1_000_000_000 / rate
    started = time.monotonic_ns()
    for index in range(count):
        due = started + int(index * interval_ns)
        now = time.monotonic_ns()
        if due > now:
            await asyncio.sleep((due - now) / 1e9)
        sent_ns.append(time.monotonic_ns())
        sim.set_attribute(DEVICE_ID, ATTRIBUTE, first + index, unit="", event_type="digital")
    return sent_ns, (time.monotonic_ns() - started) / 1e9


async def run_once(
    sim: SimulatedHub,
    server: ServerProcess,
    *,
    kind: str,
    clients: int,
    rate: int,
    seconds: float,
    run_index: int,
    drain_s: float,
    work_dir: Path,
) -> RunResult:
    first = run_index * RUN_STRIDE
    count = max(1, int(rate * seconds))
    out = work_dir / f"run{run_index}.bin"
    url = server.url if kind == "sse" else sim.eventsocket_url
    worker = await ClientProcess.start(
        kind=kind,
        url=url,
        cookie=server.headers.get("cookie", ""),
        clients=clients,
        first=first,
        count=count,
        out=out,
    )
    try:
        if kind == "ws":
            # The hub registers a socket after the client sees the handshake complete.
            await sim.wait_for_clients(clients + 1, timeout=WORKER_TIMEOUT_S)
        cpu_before = _cpu_snapshot(server.pid, worker.pid)
        sent_ns, emit_s = await emit(sim, first, count, rate)
        await worker.wait_done(drain_s)
        cpu = _cpu_use(cpu_before, _cpu_snapshot(server.pid, worker.pid))
        results = await worker.stop()
    finally:
        await worker.kill()
    return summarise(kind, clients, rate, first, sent_ns, emit_s, cpu, results)


def _cpu_snapshot(server_pid: int, worker_pid: int) -> tuple[float, float, float, float]:
    return (
        time.monotonic(),
        time.process_time(),
        cpu_seconds(server_pid),
        cpu_seconds(worker_pid),
    )


def _cpu_use(
    before: tuple[float, float, float, float], after: tuple[float, float, float, float]
) -> tuple[float, float, float, float]:
    """Return the CPU use of this process, the server and the clients in % of one core.

    The fourth figure is the server's CPU time in seconds.
    """
    wall = max(after[0] - before[0], 1e-9)
    hub, server, clients = (100 * (after[i] - before[i]) / wall for i in (1, 2, 3))
    return hub, server, clients, after[2] - before[2]


def summarise(
    kind: str,
    clients: int,
    rate: int,
    first: int,
    sent_ns: list[int],
    emit_s: float,
    cpu: tuple[float, float, float, float],
    results: list[dict[str, object]],
) -> RunResult:
    latencies: list[int] = []
    lost = 0
    received = 0
    resyncs = 0
    errors = 0
    for client in results:
        seqs = client["seqs"]
        times = client["times"]
        assert isinstance(seqs, Sequence)
        assert isinstance(times, Sequence)
        unique = set()
        for seq, read_ns in zip(seqs, times, strict=True):
            index = seq - first
            if 0 <= index < len(sent_ns) and index not in unique:
                unique.add(index)
                latencies.append(read_ns - sent_ns[index])
        received += len(unique)
        lost += len(sent_ns) - len(unique)
        resyncs += int(str(client["resyncs"]))
        errors += 1 if client["error"] else 0
    return RunResult(
        path="SSE through the server" if kind == "sse" else "eventsocket direct (baseline)",
        clients=clients,
        rate=rate,
        sent=len(sent_ns),
        received=received,
        lost=lost,
        resyncs=resyncs,
        errors=errors,
        p50_ns=percentile(latencies, 0.5),
        p99_ns=percentile(latencies, 0.99),
        max_ns=float(max(latencies)) if latencies else float("nan"),
        emit_s=emit_s,
        hub_cpu=cpu[0],
        server_cpu=cpu[1],
        clients_cpu=cpu[2],
        server_cpu_s=cpu[3],
    )


async def run(
    client_counts: Sequence[int],
    rates: Sequence[int],
    seconds: float,
    drain_s: float,
    profile: Path | None = None,
) -> list[RunResult]:
    sim, config = await start_hub("main")
    results: list[RunResult] = []
    try:
        streams = max(200, max(client_counts) + 10)
        async with running_server([config], sse_max_streams=streams, profile=profile) as server:
            with tempfile.TemporaryDirectory(prefix="tiles-fanout-") as temp:
                run_index = 1
                for rate in rates:
                    plan = [("ws", 1)] + [("sse", clients) for clients in client_counts]
                    for kind, clients in plan:
                        result = await run_once(
                            sim,
                            server,
                            kind=kind,
                            clients=clients,
                            rate=rate,
                            seconds=seconds,
                            run_index=run_index,
                            drain_s=drain_s,
                            work_dir=Path(temp),
                        )
                        run_index += 1
                        results.append(result)
                        print(_progress(result), file=sys.stderr, flush=True)
                        if server.process.returncode is not None:
                            raise RuntimeError(f"the server exited:\n{server.log_tail()}")
    finally:
        await sim.stop()
    return results


def _progress(result: RunResult) -> str:
    return (
        f"{result.path}: {result.clients} clients at {result.rate}/s: "
        f"p50 {ms(result.p50_ns)} ms, p99 {ms(result.p99_ns)} ms, lost {result.lost}"
    )


def report(results: Sequence[RunResult], seconds: float) -> None:
    baselines = {r.rate: r for r in results if r.path.startswith("eventsocket")}
    rows = []
    for r in results:
        baseline = baselines.get(r.rate)
        is_baseline = r is baseline
        rows.append(
            (
                r.path,
                r.clients,
                r.rate,
                f"{r.emit_s:.2f}",
                r.sent * r.clients,
                r.lost,
                r.resyncs,
                ms(r.p50_ns),
                ms(r.p99_ns),
                ms(r.max_ns),
                "-" if is_baseline or baseline is None else ratio(r.p50_ns, baseline.p50_ns),
                "-" if is_baseline or baseline is None else ratio(r.p99_ns, baseline.p99_ns),
                f"{r.hub_cpu:.0f} / {r.server_cpu:.0f} / {r.clients_cpu:.0f}",
                "-" if is_baseline else f"{r.server_cpu_s * 1e6 / max(1, r.received):.0f}",
            )
        )
    print(
        f"Each run emits events for {seconds:g} s. CPU is the use of each process while the "
        "events were emitted and drained, in % of one core. Server CPU per frame is the "
        "server's CPU time in that window divided by the benchmark frames the clients "
        "received, so it includes reading the eventsocket.\n"
    )
    print_table(
        (
            "path",
            "clients",
            "events/s",
            "emit s",
            "expected",
            "lost",
            "resyncs",
            "p50 ms",
            "p99 ms",
            "max ms",
            "p50 vs baseline",
            "p99 vs baseline",
            "CPU % hub / server / clients",
            "server CPU µs per frame",
        ),
        rows,
    )
    failed = [r for r in results if r.errors]
    for r in failed:
        print(
            f"{r.errors} of {r.clients} clients of the run '{r.path}' at {r.rate}/s stopped "
            "early with an error, so their missing events count as lost.\n"
        )
    target = next(
        (
            r
            for r in results
            if r.path.startswith("SSE") and r.clients == TARGET_CLIENTS and r.rate == TARGET_RATE
        ),
        None,
    )
    if target is None:
        print(
            f"The target run ({TARGET_CLIENTS} clients at {TARGET_RATE}/s) was not part of "
            "this run.\n"
        )
        return
    print_table(
        ("figure", "value", "target", "met"),
        [
            (
                f"p99 with {TARGET_CLIENTS} clients at {TARGET_RATE}/s",
                f"{ms(target.p99_ns)} ms",
                f"<= {TARGET_P99_MS:.0f} ms",
                met(target.p99_ns / 1e6 <= TARGET_P99_MS),
            ),
            (
                f"events lost with {TARGET_CLIENTS} clients at {TARGET_RATE}/s",
                target.lost,
                "0",
                met(target.lost == 0),
            ),
        ],
    )


def _int_list(text: str) -> list[int]:
    values = [int(item) for item in text.split(",") if item.strip()]
    if not values or any(value <= 0 for value in values):
        raise argparse.ArgumentTypeError(f"expected positive integers like 1,20,100: {text!r}")
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clients",
        type=_int_list,
        default=[1, 20, 100],
        help="comma-separated SSE client counts (default 1,20,100)",
    )
    parser.add_argument(
        "--rates",
        type=_int_list,
        default=[100, 500, 2000],
        help="comma-separated event rates per second (default 100,500,2000)",
    )
    parser.add_argument(
        "--seconds", type=float, default=5.0, help="seconds of events per run (default 5)"
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=5.0,
        help="seconds to wait after the last event for the clients to catch up (default 5)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="run the server under cProfile and write its statistics to FILE",
    )
    args = parser.parse_args(argv)
    print_header("Event fan-out", sys.argv[1:] if argv is None else argv)
    results = asyncio.run(run(args.clients, args.rates, args.seconds, args.drain, args.profile))
    report(results, args.seconds)
    print_footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
