"""Client process of the fan-out benchmark: many cheap SSE or eventsocket clients.

Started by ``bench_fanout`` and ``bench_memory`` with the clients' kind, address and the
range of sequence numbers to expect. It connects every client and prints ``READY``. For each
benchmark event it records the sequence number and the ``time.monotonic_ns`` at which the
bytes were read. It prints ``DONE`` once every client has seen the last sequence number. On
``STOP`` (a line on stdin) it writes what it recorded to ``--out`` and exits.

SSE clients are raw asyncio protocols: one HTTP/1.1 request, a chunked-transfer decoder and
a frame splitter, with a regular expression for the sequence number instead of a JSON parser,
so the client side costs little next to the server. The eventsocket clients use
``websockets``.

Output file: one JSON line ``{"clients": [{"count", "resyncs", "frames", "error"}, ...]}``
followed, per client, by ``count`` sequence numbers then ``count`` timestamps, each an
array of signed 64-bit integers in native byte order.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from array import array
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import websockets

ATTRIBUTE = b"benchSequence"
# Hubs send values as JSON strings and the server keeps that raw text. The server writes
# compact JSON, and the simulated hub writes json.dumps' default ", " and ": ".
SSE_SEQUENCE = re.compile(rb'"raw":"?(-?\d+)')
WS_SEQUENCE = re.compile(rb'"value": ?"?(-?\d+)')
REPO_ROOT = Path(__file__).resolve().parents[2]
CONNECT_TIMEOUT_S = 30.0
# Bound on the client process's start-up and shutdown, both normally well under a second.
PROCESS_TIMEOUT_S = 120.0


class ClientRecord:
    """What one client saw: benchmark sequence numbers with their read times."""

    def __init__(self, first: int, last: int) -> None:
        self.first = first
        self.last = last
        self.seqs = array("q")
        self.times = array("q")
        self.resyncs = 0
        self.frames = 0
        self.error: str | None = None
        self.done = asyncio.Event()

    def seen(self, seq: int, now_ns: int) -> None:
        if self.first <= seq <= self.last:
            self.seqs.append(seq)
            self.times.append(now_ns)
            if seq == self.last:
                self.done.set()


class ChunkedDecoder:
    """An incremental decoder of an HTTP/1.1 chunked body."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._remaining = 0  # bytes of the current chunk still to come
        self._skip_crlf = False
        self.finished = False

    def feed(self, data: bytes) -> bytes:
        if self.finished:
            # Only the trailer section follows the last chunk.
            return b""
        self._buffer += data
        out = bytearray()
        buffer = self._buffer
        position = 0
        while position < len(buffer):
            if self._remaining:
                take = min(self._remaining, len(buffer) - position)
                out += buffer[position : position + take]
                position += take
                self._remaining -= take
                if self._remaining == 0:
                    self._skip_crlf = True
                continue
            if self._skip_crlf:
                if len(buffer) - position < 2:
                    break
                position += 2
                self._skip_crlf = False
                continue
            end = buffer.find(b"\r\n", position)
            if end < 0:
                break
            size = int(bytes(buffer[position:end]).split(b";", 1)[0], 16)
            position = end + 2
            if size == 0:
                self.finished = True
                break
            self._remaining = size
        del buffer[:position]
        return bytes(out)


class SseProtocol(asyncio.Protocol):
    """One SSE client as an asyncio protocol: each read is parsed in ``data_received``.

    A protocol costs one callback per read, where a stream reader also resumes a coroutine,
    and the client side's CPU time competes with the server's on a small machine.
    """

    def __init__(self, request: bytes, record: ClientRecord) -> None:
        self.request = request
        self.record = record
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self._head = bytearray()
        self._decoder: ChunkedDecoder | None = None
        self._in_body = False
        self._pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now_ns = time.monotonic_ns()
        if not self._in_body:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._head[:end])
            data = bytes(self._head[end + 4 :])
            status_line = head.split(b"\r\n", 1)[0]
            if b" 200 " not in status_line + b" ":
                message = f"event stream rejected: {status_line.decode(errors='replace')}"
                self._fail(RuntimeError(message))
                return
            if b"transfer-encoding: chunked" in head.lower():
                self._decoder = ChunkedDecoder()
            self._in_body = True
            if not self.ready.done():
                self.ready.set_result(None)
        self._parse(data, now_ns)

    def _parse(self, data: bytes, now_ns: int) -> None:
        if self._decoder is not None:
            data = self._decoder.feed(data)
        frames = (self._pending + data).split(b"\n\n")
        self._pending = frames.pop()
        record = self.record
        for frame in frames:
            if not frame or frame.startswith(b":"):
                continue
            record.frames += 1
            if ATTRIBUTE in frame:
                match = SSE_SEQUENCE.search(frame)
                if match is not None:
                    record.seen(int(match.group(1)), now_ns)
            elif b"event: resync" in frame:
                record.resyncs += 1
        if self._decoder is not None and self._decoder.finished and self.transport is not None:
            self.transport.close()

    def _fail(self, error: Exception) -> None:
        for future in (self.ready, self.closed):
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc or ConnectionError("closed before the response"))
        if not self.closed.done():
            self.closed.set_result(None)


async def run_sse_client(url: str, cookie: str, record: ClientRecord, ready: asyncio.Event) -> None:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    request = (
        f"GET /api/events/stream HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Accept: text/event-stream\r\nCache-Control: no-store\r\n"
    )
    if cookie:
        request += f"Cookie: {cookie}\r\n"
    protocol = SseProtocol((request + "\r\n").encode(), record)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(lambda: protocol, host, port)
    try:
        await protocol.ready
        ready.set()
        await protocol.closed
    finally:
        transport.close()


async def run_ws_client(url: str, record: ClientRecord, ready: asyncio.Event) -> None:
    async with websockets.connect(url, max_size=None, compression=None) as socket:
        ready.set()
        async for message in socket:
            now_ns = time.monotonic_ns()
            frame = message.encode() if isinstance(message, str) else message
            record.frames += 1
            if ATTRIBUTE in frame:
                match = WS_SEQUENCE.search(frame)
                if match is not None:
                    record.seen(int(match.group(1)), now_ns)


async def _guard(record: ClientRecord, client: asyncio.Future[None]) -> None:
    try:
        await client
    except asyncio.CancelledError:
        raise
    except Exception as err:
        record.error = repr(err)
    finally:
        # A client that stopped early will never see the last event.
        record.done.set()


async def main_async(args: argparse.Namespace) -> int:
    first = args.first
    last = args.first + args.count - 1
    records = [ClientRecord(first, last) for _ in range(args.clients)]
    tasks: list[asyncio.Task[None]] = []
    for record in records:
        ready = asyncio.Event()
        if args.kind == "sse":
            client = run_sse_client(args.url, args.cookie, record, ready)
        else:
            client = run_ws_client(args.url, record, ready)
        task = asyncio.create_task(_guard(record, asyncio.ensure_future(client)))
        tasks.append(task)
        ready_wait = asyncio.create_task(ready.wait())
        await asyncio.wait(
            {ready_wait, task}, timeout=CONNECT_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
        )
        ready_wait.cancel()
        if not ready.is_set():
            print(f"FAILED client {len(tasks)} did not connect: {record.error}", flush=True)
            for other in tasks:
                other.cancel()
            return 1
    print("READY", flush=True)

    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    async def report_done() -> None:
        for record in records:
            await record.done.wait()
        print("DONE", flush=True)

    done_reporter = asyncio.create_task(report_done())
    await stdin.readline()  # STOP, or end of file when the parent is gone
    done_reporter.cancel()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    write_results(Path(args.out), records)
    return 0


def write_results(path: Path, records: Sequence[ClientRecord]) -> None:
    header = {
        "clients": [
            {
                "count": len(record.seqs),
                "resyncs": record.resyncs,
                "frames": record.frames,
                "error": record.error,
            }
            for record in records
        ]
    }
    with path.open("wb") as handle:
        handle.write(json.dumps(header).encode() + b"\n")
        for record in records:
            record.seqs.tofile(handle)
            record.times.tofile(handle)


def read_results(path: Path) -> list[dict[str, object]]:
    """Read a file written by ``write_results``: per client its counts and two arrays."""
    with path.open("rb") as handle:
        header = json.loads(handle.readline())
        clients = []
        for entry in header["clients"]:
            seqs = array("q")
            times = array("q")
            if entry["count"]:
                seqs.fromfile(handle, entry["count"])
                times.fromfile(handle, entry["count"])
            clients.append({**entry, "seqs": seqs, "times": times})
    return clients


class ClientProcess:
    """The parent's handle on a client process: start, wait for READY and DONE, stop."""

    def __init__(self, process: asyncio.subprocess.Process, out: Path) -> None:
        self.process = process
        self.out = out

    @property
    def pid(self) -> int:
        return self.process.pid

    @classmethod
    async def start(
        cls,
        *,
        kind: str,
        url: str,
        cookie: str,
        clients: int,
        first: int,
        count: int,
        out: Path,
        timeout_s: float = PROCESS_TIMEOUT_S,
    ) -> ClientProcess:
        """Start the process and return once every client is connected."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bench.fanout_clients",
            f"--kind={kind}",
            f"--url={url}",
            f"--cookie={cookie}",
            f"--clients={clients}",
            f"--first={first}",
            f"--count={count}",
            f"--out={out}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPO_ROOT,
        )
        handle = cls(process, out)
        try:
            line = await asyncio.wait_for(handle._readline(), timeout_s)
        except BaseException:
            await handle.kill()
            raise
        if line != "READY":
            await handle.kill()
            raise RuntimeError(f"the client process failed to connect: {line or 'no output'}")
        return handle

    async def wait_done(self, timeout_s: float) -> bool:
        """Wait until every client has seen the last event; False after ``timeout_s``."""
        try:
            return await asyncio.wait_for(self._readline(), timeout_s) == "DONE"
        except TimeoutError:
            return False

    async def stop(self, timeout_s: float = PROCESS_TIMEOUT_S) -> list[dict[str, object]]:
        """Close the clients and return what each one recorded (see ``read_results``)."""
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(b"STOP\n")
            await stdin.drain()
            await asyncio.wait_for(self.process.wait(), timeout_s)
        finally:
            await self.kill()
        if self.process.returncode != 0:
            raise RuntimeError(f"the client process exited with {self.process.returncode}")
        return read_results(self.out)

    async def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()

    async def _readline(self) -> str:
        stdout = self.process.stdout
        assert stdout is not None
        return (await stdout.readline()).decode(errors="replace").strip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Client process of the fan-out benchmark.")
    parser.add_argument("--kind", choices=("sse", "ws"), required=True)
    parser.add_argument("--url", required=True, help="server base URL, or the eventsocket URL")
    parser.add_argument("--cookie", default="", help="Cookie header value for the SSE request")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--first", type=int, required=True, help="first sequence number")
    parser.add_argument("--count", type=int, required=True, help="sequence numbers to expect")
    parser.add_argument("--out", required=True, help="file for the recorded figures")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
