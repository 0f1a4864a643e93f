"""Helpers for tests that run ``tiles-edge`` as a separate process."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_json(
    url: str,
    process: subprocess.Popen[bytes],
    timeout_s: float = 60.0,
    accept: Callable[[Any], bool] = lambda _: True,
    client: httpx.Client | None = None,
) -> Any:
    """Poll ``url`` until ``accept`` takes its JSON; fail early if the process ends.

    ``client`` (for instance a signed-in one) sends the requests when given.
    """
    get = client.get if client is not None else httpx.get
    deadline = time.monotonic() + timeout_s
    last_error = "no attempt"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode} before {url} answered")
        try:
            reply = get(url, timeout=2.0)
            if reply.status_code == 200 and accept(reply.json()):
                return reply.json()
            last_error = f"HTTP {reply.status_code}: {reply.text[:200]}"
        except httpx.HTTPError as err:
            last_error = repr(err)
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s} s: {last_error}")


@contextlib.contextmanager
def signed_in_client(
    base: str,
    process: subprocess.Popen[bytes],
    username: str,
    password: str,
    timeout_s: float = 60.0,
) -> Iterator[httpx.Client]:
    """``with`` a client signed in to the server at ``base``, once the server answers."""
    with httpx.Client(base_url=base, headers={"origin": base}, timeout=10.0) as client:
        wait_for_json(f"{base}/health", process, timeout_s)
        reply = client.post("/api/auth/login", json={"username": username, "password": password})
        if reply.status_code != 200:
            raise AssertionError(f"signing in failed: {reply.status_code} {reply.text[:200]}")
        yield client


def start(command: Sequence[str], log_file: Path) -> subprocess.Popen[bytes]:
    handle = log_file.open("wb")
    return subprocess.Popen(list(command), stdout=handle, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes], timeout_s: float = 15.0) -> int:
    """Stop with SIGTERM as systemd does and return the exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
