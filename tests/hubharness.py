"""Simulated demo hubs on loopback, a hub manager connected to them, and a bus reader.

Everything here is real: the simulator serves the Maker API and the eventsocket over
loopback sockets, and the manager publishes on a real ``EventBus``.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from tiles_edge.events.bus import BusEvent, EventBus, Subscription
from tiles_edge.hubs.manager import HubManager
from tiles_edge.hubs.model import HubConfig, Transport
from tiles_edge.simulator import SimulatedHub

# Long enough for a loaded CI machine. It only bounds how long a failing test waits.
WAIT_S = 20.0

HUB_NAMES = {"main": "Main Hub", "garage": "Garage Hub"}
APP_IDS = {"main": "41", "garage": "42"}

# Fast timings so that reconnects and resyncs happen within a test. Tests override them.
FAST_OPTIONS: dict[str, Any] = {
    "hub_timeout_s": 2.0,
    "hub_silence_s": 30.0,
    "hub_backoff_max_s": 0.2,
    "hub_resync_interval_s": 600.0,
    "hub_poll_interval_s": 0.2,
    "hub_webhook_silence_s": 600.0,
}


def free_port() -> int:
    """Return a loopback TCP port that nothing listens on (closed right after binding)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def new_token(hub_id: str) -> str:
    return f"tok-{hub_id}-{secrets.token_hex(16)}"


def make_sim(hub_id: str, **kwargs: Any) -> SimulatedHub:
    kwargs.setdefault("token", new_token(hub_id))
    kwargs.setdefault("app_id", APP_IDS[hub_id])
    return SimulatedHub.from_demo(hub_id, **kwargs)


def config_for(
    hub_id: str, sim: SimulatedHub, *, transport: Transport = "eventsocket", order: int = 0
) -> HubConfig:
    return HubConfig(
        hub_id=hub_id,
        name=HUB_NAMES[hub_id],
        host=f"127.0.0.1:{sim.port}",
        app_id=sim.app_id,
        token=sim.token,
        transport=transport,
        order=order,
    )


class BusReader:
    """Reads a bus subscription and keeps every event it has read, in order."""

    def __init__(self, subscription: Subscription) -> None:
        self._subscription = subscription
        self.seen: list[BusEvent] = []

    def mark(self) -> int:
        """Return a position: ``since=position`` looks only at events read after it."""
        return len(self.seen)

    def matching(self, predicate: Callable[[BusEvent], bool], *, since: int = 0) -> list[BusEvent]:
        return [event for event in self.seen[since:] if predicate(event)]

    async def wait_for(
        self,
        predicate: Callable[[BusEvent], bool],
        *,
        since: int = 0,
        timeout_s: float = WAIT_S,
    ) -> BusEvent:
        """Return the first event at or after ``since`` that matches, reading as needed."""
        index = since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            while index < len(self.seen):
                event = self.seen[index]
                index += 1
                if predicate(event):
                    return event
            remaining = deadline - loop.time()
            event_or_none = (
                await self._subscription.next_event(wait_s=remaining) if remaining > 0 else None
            )
            if event_or_none is None:
                tail = [(e.type, e.data) for e in self.seen[since:]][-15:]
                raise AssertionError(f"no matching bus event within {timeout_s} s, last: {tail}")
            self.seen.append(event_or_none)

    async def wait_hub(self, hub_id: str, state: str, *, since: int = 0) -> BusEvent:
        return await self.wait_for(
            lambda e: e.type == "hub" and e.data["hubId"] == hub_id and e.data["state"] == state,
            since=since,
        )

    async def wait_device(
        self, uid: str, name: str, *, since: int = 0, source: str | None = None
    ) -> BusEvent:
        return await self.wait_for(
            lambda e: (
                e.type == "device"
                and e.data["uid"] == uid
                and e.data["name"] == name
                and (source is None or e.data["source"] == source)
            ),
            since=since,
        )


@dataclass
class Home:
    sims: dict[str, SimulatedHub]
    manager: HubManager
    bus: EventBus
    reader: BusReader
    configs: dict[str, HubConfig] = field(default_factory=dict)


@asynccontextmanager
async def running_home(
    hubs: tuple[str, ...] = ("main", "garage"),
    *,
    transport: Transport = "eventsocket",
    sim_kwargs: dict[str, dict[str, Any]] | None = None,
    wait_online: bool = True,
    **options: Any,
) -> AsyncIterator[Home]:
    """Start simulated hubs and a manager on them; stop everything on exit."""
    sims = {hub_id: make_sim(hub_id, **(sim_kwargs or {}).get(hub_id, {})) for hub_id in hubs}
    for sim in sims.values():
        await sim.start()
    bus = EventBus(queue_size=100_000, ring_size=16)
    reader = BusReader(bus.subscribe())
    configs = {
        hub_id: config_for(hub_id, sim, transport=transport, order=index)
        for index, (hub_id, sim) in enumerate(sims.items())
    }
    manager = HubManager(list(configs.values()), bus, **{**FAST_OPTIONS, **options})
    try:
        await manager.start()
        if wait_online:
            for hub_id in hubs:
                await reader.wait_hub(hub_id, "online")
        yield Home(sims=sims, manager=manager, bus=bus, reader=reader, configs=configs)
    finally:
        await manager.stop()
        for sim in sims.values():
            await sim.stop()
        bus.close()


async def wait_until(condition: Callable[[], bool], *, timeout_s: float = WAIT_S) -> None:
    """Poll ``condition`` until it holds, failing after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.01)
