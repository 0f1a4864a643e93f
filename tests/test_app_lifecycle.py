"""Starting and stopping the whole app many times leaks no task, thread or file descriptor."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from pathlib import Path

from tests.apphelpers import running_demo


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _live_tasks() -> int:
    return len([task for task in asyncio.all_tasks() if not task.done()])


async def test_app_restarts_leak_nothing(tmp_path: Path) -> None:
    # One warm-up run loads modules, the bcrypt backend and the SQLite library once.
    async with running_demo(tmp_path / "warm-up") as demo:
        assert (await demo.client.get("/api/devices")).status_code == 200
    gc.collect()
    fds_before = _open_fds()
    threads_before = threading.active_count()
    tasks_before = _live_tasks()

    for run in range(6):
        async with running_demo(tmp_path / f"run-{run}") as demo:
            reply = await demo.client.get("/api/devices")
            assert reply.status_code == 200
            assert len(reply.json()["devices"]) == 56

    gc.collect()
    assert _live_tasks() == tasks_before
    assert threading.active_count() <= threads_before
    # A few descriptors may belong to interpreter caches; a leak grows with every run.
    assert _open_fds() <= fds_before + 2
