"""Run every server benchmark at its smallest size, so the scripts keep working.

These check only that each benchmark completes and prints its figures, never how fast.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[1]
# Generous bound: each smoke run takes a few seconds on loopback.
RUN_TIMEOUT_S = 300

SMALLEST = {
    "bench_fanout": ["--clients", "1,2", "--rates", "50", "--seconds", "0.5", "--drain", "10"],
    "bench_command": ["--requests", "5", "--warmup", "2"],
    "bench_native": ["--hubs", "2", "--devices", "10", "--requests", "5", "--warmup", "1"],
    "bench_memory": [
        "--hubs",
        "1",
        "--devices",
        "10",
        "--clients",
        "2",
        "--warmup-requests",
        "1",
        "--warmup-events",
        "5",
    ],
}
FIGURE_ROW = re.compile(
    r"^\| [^|]+ \| [0-9.]+ (ms|MB) \| <= [0-9]+ (ms|MB) \| (yes|\*\*no\*\*) \|$"
)


def run_benchmark(name: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", f"tests.bench.{name}", *SMALLEST[name]],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize("name", ["bench_command", "bench_native", "bench_memory"])
def test_benchmark_prints_figures(name):
    output = run_benchmark(name)
    assert output.startswith("## ")
    assert f"`.venv/bin/python -m tests.bench.{name} " in output
    assert "- Machine: " in output
    rows = [line for line in output.splitlines() if FIGURE_ROW.match(line)]
    assert rows, output


def test_fanout_reports_each_run():
    output = run_benchmark("bench_fanout")
    rows = [line.split(" | ") for line in output.splitlines() if line.startswith("| ")]
    runs = [
        row
        for row in rows
        if row[0] in ("| eventsocket direct (baseline)", "| SSE through the server")
    ]
    assert [(row[0], row[1]) for row in runs] == [
        ("| eventsocket direct (baseline)", "1"),
        ("| SSE through the server", "1"),
        ("| SSE through the server", "2"),
    ]
    for row in runs:
        expected, lost, p50 = int(row[4]), int(row[5]), row[7]
        assert expected == 25 * int(row[1])
        assert 0 <= lost <= expected
        assert re.fullmatch(r"[0-9]+\.[0-9]{2}", p50), row


def test_chunked_decoder_any_split():
    from tests.bench.fanout_clients import ChunkedDecoder

    body = b"id: 1\nevent: device\ndata: {}\n\n" * 3
    encoded = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:7], body[7:40], body[40:])
    )
    encoded += b"0\r\n\r\n"
    for split in range(len(encoded) + 1):
        decoder = ChunkedDecoder()
        decoded = decoder.feed(encoded[:split]) + decoder.feed(encoded[split:])
        assert decoded == body, split
        assert decoder.finished, split
