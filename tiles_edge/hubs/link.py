"""One hub's connection: snapshots, the live transport, the safety resync and health.

Per transport the link runs these named tasks:

- ``eventsocket``: the socket loop (a snapshot after every (re)connect) and the resync loop;
- ``webhook``: the resync loop (which also takes the first snapshot) and a watch that marks
  the hub degraded when no webhook arrives for ``hub_webhook_silence_s``;
- ``poll``: the resync loop running every ``hub_poll_interval_s`` with source ``poll``.

A failed snapshot is retried with back-off (1 s, 2 s … ``hub_backoff_max_s``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from typing import Any, Protocol, TypeVar

import httpx

from tiles_edge.config import Settings
from tiles_edge.errors import HubError, HubNotFoundError, HubReplyError
from tiles_edge.hubs.classify import enrich
from tiles_edge.hubs.eventsocket import Backoff, run_eventsocket
from tiles_edge.hubs.health import HealthTracker
from tiles_edge.hubs.maker_api import MakerApiClient
from tiles_edge.hubs.model import CommandSpec, Device, EventSource, HubConfig, HubEvent, HubHealth
from tiles_edge.hubs.normalize import parse_command_specs, parse_devices_all

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

# Requests for command argument types in flight per hub, so a 600-device hub is not hammered.
_SPEC_FETCH_CONCURRENCY = 2


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """Timing of the hub link; the names and defaults match ``Settings``."""

    hub_timeout_s: float = 10.0
    hub_silence_s: float = 130.0
    hub_backoff_max_s: float = 32.0
    hub_resync_interval_s: float = 900.0
    hub_poll_interval_s: float = 10.0
    hub_webhook_silence_s: float = 1800.0
    event_dedupe_window_ms: int = 1500
    temperature_scale: str = "F"
    command_confirm_timeout_s: float = 10.0

    @classmethod
    def build(cls, settings: Settings | None = None, **overrides: Any) -> LinkOptions:
        """Take each option from ``overrides`` when given (not ``None``), else ``settings``."""
        values: dict[str, Any] = {}
        for option in fields(cls):
            value = overrides.pop(option.name, None)
            if value is None and settings is not None:
                value = getattr(settings, option.name, None)
            if value is not None:
                values[option.name] = value
        if overrides:
            raise TypeError(f"unknown hub link options: {', '.join(sorted(overrides))}")
        return cls(**values)


@dataclass(slots=True)
class HubSnapshot:
    """A hub's devices with its location mode list and HSM status (``None`` when not allowed)."""

    devices: list[Device]
    modes: list[dict[str, Any]] | None
    hsm: str | None


class LinkOwner(Protocol):
    """The receiver of a link's reports: the hub manager, which owns the state and the bus."""

    def hub_names(self) -> dict[str, str]: ...

    def current_devices(self, hub_id: str) -> list[Device]: ...

    def apply_hub_snapshot(
        self, hub_id: str, snapshot: HubSnapshot, source: EventSource
    ) -> None: ...

    def apply_event(self, event: HubEvent) -> None: ...

    def publish_health(self, health: HubHealth) -> None: ...


class HubLink:
    def __init__(
        self,
        hub: HubConfig,
        owner: LinkOwner,
        options: LinkOptions,
        *,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.hub = hub
        self.options = options
        self.client = MakerApiClient(hub, timeout_s=options.hub_timeout_s, client=http_client)
        self.tracker = HealthTracker(hub.hub_id, hub.name, owner.publish_health)
        self._owner = owner
        self._tasks: list[asyncio.Task[None]] = []
        self._snapshot_lock = asyncio.Lock()
        self._wakeup = asyncio.Event()
        self._snapshot_wanted = False
        self._webhook_seen = asyncio.Event()
        self._backoff = Backoff(max_s=options.hub_backoff_max_s)
        self._last_attempt = 0.0
        self._last_success: float | None = None
        self._retry_delay = 0.0
        self._spec_cache: dict[tuple[str, frozenset[str]], dict[str, CommandSpec]] = {}
        self._spec_task: asyncio.Task[None] | None = None
        self._spec_semaphore = asyncio.Semaphore(_SPEC_FETCH_CONCURRENCY)
        self._optional_failures: set[str] = set()
        self._stopped = False

    @property
    def hub_id(self) -> str:
        return self.hub.hub_id

    def start(self) -> None:
        """Start this hub's tasks without waiting for the hub to answer."""
        loop = asyncio.get_running_loop()
        self._last_attempt = loop.time()
        transport = self.hub.transport
        if transport == "poll":
            self._spawn("poll", lambda: self._resync_loop(self.options.hub_poll_interval_s, "poll"))
            return
        self._spawn("resync", lambda: self._resync_loop(self.options.hub_resync_interval_s))
        if transport == "webhook":
            self._spawn("webhook-watch", self._watch_webhooks)
        else:
            # The socket loop takes the first snapshot once it connects. If it cannot connect
            # within the first back-off step, the resync loop takes it instead.
            self._retry_delay = self._backoff.next_delay()
            self.tracker.live_down(f"hub '{self.hub_id}' eventsocket is connecting")
            self._spawn("eventsocket", self._run_eventsocket)

    async def stop(self) -> None:
        """Cancel and await every task of this hub and close its HTTP client. Idempotent."""
        self._stopped = True
        tasks = [*self._tasks, *([self._spec_task] if self._spec_task else [])]
        self._tasks.clear()
        self._spec_task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.aclose()

    def request_snapshot(self) -> None:
        """Ask the resync loop for a fresh snapshot now (the hub rebooted, for example)."""
        self._snapshot_wanted = True
        self._wakeup.set()

    def webhook_received(self) -> None:
        self.tracker.webhook_received()
        self._webhook_seen.set()

    async def take_snapshot(
        self, source: EventSource, *, coalesce: bool = False, live_up: bool = False
    ) -> bool:
        """Fetch and apply a snapshot and return whether it succeeded.

        With ``coalesce`` a snapshot already running counts as this one. With ``live_up`` the
        live channel is marked up once the snapshot is applied, in the same health update.
        """
        if coalesce and self._snapshot_lock.locked():
            async with self._snapshot_lock:
                return self.tracker.rest_ok
        async with self._snapshot_lock:
            loop = asyncio.get_running_loop()
            self._last_attempt = loop.time()
            try:
                snapshot = await self._fetch_snapshot()
            except HubError as err:
                self._rest_failed(err)
                return False
            self._backoff.reset()
            self._last_success = loop.time()
            self._fill_known_specs(snapshot.devices)
            self._owner.apply_hub_snapshot(self.hub_id, snapshot, source)
            self.tracker.snapshot_taken(len(snapshot.devices), live_up=live_up)
            self._wakeup.set()
        self._schedule_spec_fetch()
        return True

    async def ensure_command_specs(self, device: Device) -> None:
        """Load the argument types of ``device``'s commands if they are not known yet.

        A failure is logged and leaves the types unknown: the command is then sent unchecked
        and the hub's own reply decides.
        """
        if not _lacks_specs(device):
            return
        key = _type_key(device)
        specs = self._spec_cache.get(key)
        if specs is None:
            try:
                specs = parse_command_specs(await self.client.device_commands(device.device_id))
            except HubError as err:
                logger.debug(
                    "hub %r: command types of %s unavailable: %s", self.hub_id, device.uid, err
                )
                return
            self._spec_cache[key] = specs
        _apply_specs(device, specs)

    # Socket callbacks (EventSocketHandler).

    async def socket_opened(self) -> None:
        # The socket has no replay, so the hub counts as online again only after the snapshot.
        if not await self.take_snapshot("snapshot", live_up=True):
            self.tracker.live_up()

    async def socket_event(self, event: HubEvent) -> None:
        self.tracker.event_received()
        self._owner.apply_event(event)

    async def socket_down(self, reason: str) -> None:
        self.tracker.live_down(reason)
        if not self.tracker.rest_ok or self._last_success is None:
            return  # The resync loop is already retrying the snapshot with back-off.
        self._last_attempt = asyncio.get_running_loop().time()
        try:
            await self.client.devices()
        except HubError as err:
            self._rest_failed(err)

    # Loops.

    async def _run_eventsocket(self) -> None:
        await run_eventsocket(
            self.hub,
            self,
            silence_s=self.options.hub_silence_s,
            backoff_max_s=self.options.hub_backoff_max_s,
            open_timeout_s=self.options.hub_timeout_s,
        )

    async def _resync_loop(self, interval_s: float, source: EventSource = "snapshot") -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self.tracker.rest_ok and self._last_success is not None:
                due = self._last_success + interval_s
            else:
                due = self._last_attempt + self._retry_delay
            if not self._snapshot_wanted and loop.time() < due:
                try:
                    async with asyncio.timeout(due - loop.time()):
                        await self._wakeup.wait()
                except TimeoutError:
                    pass
                self._wakeup.clear()
                # A snapshot taken elsewhere meanwhile moves the due time: recompute it.
                if not self._snapshot_wanted and loop.time() < due:
                    continue
            wanted, self._snapshot_wanted = self._snapshot_wanted, False
            await self.take_snapshot(source, coalesce=not wanted)

    async def _watch_webhooks(self) -> None:
        silence_s = self.options.hub_webhook_silence_s
        while True:
            try:
                async with asyncio.timeout(silence_s):
                    await self._webhook_seen.wait()
            except TimeoutError:
                self.tracker.live_down(
                    f"no webhook from hub '{self.hub_id}' for {silence_s:g} s: check that the "
                    "postURL of its Maker API app points to this server"
                )
                await self._webhook_seen.wait()
            self._webhook_seen.clear()
            self.tracker.live_up()

    def _spawn(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        task = asyncio.create_task(self._supervise(name, factory), name=f"hub:{self.hub_id}:{name}")
        self._tasks.append(task)

    async def _supervise(self, name: str, factory: Callable[[], Awaitable[None]]) -> None:
        # A bug in one loop must not silently end this hub's updates: log it and restart.
        backoff = Backoff(max_s=self.options.hub_backoff_max_s)
        while True:
            try:
                await factory()
                return
            except Exception:
                logger.exception("hub %r: %s task failed, restarting it", self.hub_id, name)
            await asyncio.sleep(backoff.next_delay())

    # Snapshot helpers.

    async def _fetch_snapshot(self) -> HubSnapshot:
        payload = await self.client.devices_all()
        hub_names = self._owner.hub_names()
        devices = parse_devices_all(payload, self.hub_id, self.hub.name)
        for device in devices:
            enrich(device, hub_names)
        modes = await self._optional("modes", self.client.modes)
        hsm = await self._optional("hsm", self.client.hsm)
        return HubSnapshot(devices=devices, modes=modes, hsm=hsm)

    async def _optional(self, what: str, fetch: Callable[[], Awaitable[_T]]) -> _T | None:
        # Modes and HSM may be disallowed in the Maker API app (HTTP 400): not a hub failure.
        try:
            result = await fetch()
        except (HubReplyError, HubNotFoundError) as err:
            if what not in self._optional_failures:
                self._optional_failures.add(what)
                logger.info("hub %r: %s not available: %s", self.hub_id, what, err.message)
            return None
        self._optional_failures.discard(what)
        return result

    def _rest_failed(self, err: HubError) -> None:
        self._retry_delay = self._backoff.next_delay()
        self.tracker.rest_failed(err.message)
        self._wakeup.set()

    def _fill_known_specs(self, devices: list[Device]) -> None:
        for device in devices:
            specs = self._spec_cache.get(_type_key(device))
            if specs is not None:
                _apply_specs(device, specs)

    def _schedule_spec_fetch(self) -> None:
        if self._stopped or (self._spec_task is not None and not self._spec_task.done()):
            return
        self._spec_task = asyncio.create_task(
            self._fetch_missing_specs(), name=f"hub:{self.hub_id}:command-types"
        )

    async def _fetch_missing_specs(self) -> None:
        """Fetch ``/devices/{id}/commands`` once per driver type and command set."""
        wanted: dict[tuple[str, frozenset[str]], str] = {}
        for device in self._owner.current_devices(self.hub_id):
            key = _type_key(device)
            if _lacks_specs(device) and key not in self._spec_cache:
                wanted.setdefault(key, device.device_id)
        if wanted:
            logger.debug("hub %r: loading command types of %d driver(s)", self.hub_id, len(wanted))
        await asyncio.gather(
            *(self._fetch_specs(key, device_id) for key, device_id in wanted.items())
        )

    async def _fetch_specs(self, key: tuple[str, frozenset[str]], device_id: str) -> None:
        async with self._spec_semaphore:
            try:
                payload = await self.client.device_commands(device_id)
            except HubError as err:
                logger.debug(
                    "hub %r: command types of device %s unavailable: %s",
                    self.hub_id,
                    device_id,
                    err,
                )
                return
        specs = parse_command_specs(payload)
        self._spec_cache[key] = specs
        for device in self._owner.current_devices(self.hub_id):
            if _type_key(device) == key:
                _apply_specs(device, specs)


def _type_key(device: Device) -> tuple[str, frozenset[str]]:
    # Devices on one driver with the same commands take the same argument types.
    return device.type, frozenset(device.commands)


def _lacks_specs(device: Device) -> bool:
    return any(not spec.arg_types_known for spec in device.commands.values())


def _apply_specs(device: Device, specs: dict[str, CommandSpec]) -> None:
    for name in device.commands:
        spec = specs.get(name)
        if spec is not None:
            device.commands[name] = spec
