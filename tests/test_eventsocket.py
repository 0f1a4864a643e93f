"""The eventsocket listener: back-off, frame parsing, and real sockets to the simulated hub."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import pytest
from hubharness import WAIT_S, config_for, make_sim, wait_until

from tiles_edge.hubs.eventsocket import (
    Backoff,
    EventSocket,
    EventSocketError,
    backoff_delay,
    parse_frame,
    run_eventsocket,
)
from tiles_edge.hubs.model import HubEvent
from tiles_edge.simulator import SimulatedHub


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedHub]:
    hub = make_sim("main")
    await hub.start()
    yield hub
    await hub.stop()


# Back-off.


def test_backoff_doubles_to_cap() -> None:
    delays = [backoff_delay(attempt) for attempt in range(9)]
    assert delays == [1, 2, 4, 8, 16, 32, 32, 32, 32]


def test_backoff_small_cap() -> None:
    assert [backoff_delay(attempt, max_s=5) for attempt in range(5)] == [1, 2, 4, 5, 5]
    assert backoff_delay(0, max_s=0.2) == 0.2


def test_backoff_huge_attempt_stays_capped() -> None:
    assert backoff_delay(10_000) == 32


def test_backoff_rejects_negative_attempt() -> None:
    with pytest.raises(ValueError, match="attempt must be >= 0"):
        backoff_delay(-1)


def test_backoff_reset_starts_over() -> None:
    backoff = Backoff(max_s=32)
    assert [backoff.next_delay() for _ in range(4)] == [1, 2, 4, 8]
    backoff.reset()
    assert backoff.next_delay() == 1


# Frames.


def test_parse_frame_device_event() -> None:
    frame = json.dumps(
        {
            "source": "DEVICE",
            "name": "switch",
            "value": "on",
            "unit": "null",
            "deviceId": 53,
            "hubId": 0,
            "installedAppId": 0,
            "displayName": "Porch Light",
            "descriptionText": "Porch Light was turned on",
            "type": "digital",
        }
    )
    event = parse_frame("main", frame)
    assert event is not None
    assert event.device_id == "53"
    assert event.unit is None
    assert event.source == "eventsocket"
    assert event.origin == "DEVICE"


@pytest.mark.parametrize("frame", ["not json", "[1, 2]", "null", b"\xff\xfe", "{}"])
def test_parse_frame_ignores_junk(frame: str | bytes) -> None:
    assert parse_frame("main", frame) is None


# Real sockets.


async def test_socket_yields_hub_events(sim: SimulatedHub) -> None:
    socket = await EventSocket.open(config_for("main", sim), open_timeout_s=5, silence_s=30)
    try:
        await sim.wait_for_clients(1)
        sim.set_attribute("53", "switch", "on")
        events = socket.events(silence_s=30)
        event = await anext(events)
    finally:
        await socket.close()
    assert event is not None
    assert (event.hub_id, event.device_id, event.name, event.value) == (
        "main",
        "53",
        "switch",
        "on",
    )


async def test_socket_silence_declared_dead(sim: SimulatedHub) -> None:
    sim.faults.mute_eventsocket = True
    socket = await EventSocket.open(config_for("main", sim), open_timeout_s=5, silence_s=0.2)
    try:
        sim.set_attribute("53", "switch", "on")
        with pytest.raises(EventSocketError, match=r"sent nothing for 0\.2 s"):
            async for _ in socket.events(silence_s=0.2):
                pass
    finally:
        await socket.close()


async def test_socket_drop_raises(sim: SimulatedHub) -> None:
    socket = await EventSocket.open(config_for("main", sim), open_timeout_s=5, silence_s=30)
    try:
        await sim.wait_for_clients(1)
        await sim.drop_eventsockets()
        with pytest.raises(EventSocketError, match="eventsocket closed"):
            async for _ in socket.events(silence_s=30):
                pass
    finally:
        await socket.close()


async def test_socket_refused(sim: SimulatedHub) -> None:
    sim.faults.refuse_eventsocket = True
    with pytest.raises(EventSocketError, match="could not be opened"):
        await EventSocket.open(config_for("main", sim), open_timeout_s=5, silence_s=30)


class RecordingHandler:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.events: list[HubEvent] = []
        self.opened = asyncio.Event()

    async def socket_opened(self) -> None:
        self.calls.append("opened")
        self.opened.set()

    async def socket_event(self, event: HubEvent) -> None:
        self.calls.append("event")
        self.events.append(event)

    async def socket_down(self, reason: str) -> None:
        self.calls.append("down")


async def test_run_reconnects_after_drop(sim: SimulatedHub) -> None:
    handler = RecordingHandler()
    task = asyncio.create_task(
        run_eventsocket(
            config_for("main", sim),
            handler,
            silence_s=30,
            backoff_max_s=0.05,
            open_timeout_s=5,
        )
    )
    try:
        async with asyncio.timeout(WAIT_S):
            await handler.opened.wait()
            sim.set_attribute("53", "switch", "on")
            await wait_until(lambda: len(handler.events) == 1)

            # Refused attempts report "down" each time, then the socket comes back.
            handler.opened.clear()
            sim.faults.refuse_eventsocket = True
            await sim.drop_eventsockets()
            await wait_until(lambda: handler.calls.count("down") >= 3)
            sim.faults.refuse_eventsocket = False
            await handler.opened.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert handler.calls[0] == "opened"
    assert handler.calls[-1] == "opened"
    assert handler.events[0].name == "switch"
