"""Listener for a hub's unofficial ``ws://HUB/eventsocket``.

The socket streams every event on the hub as one JSON object per text frame, without
authentication and without replay. So every (re)connect is followed by a fresh snapshot, and a
socket that sends no frame for ``silence_s`` is declared dead and reconnected with back-off
(1 s, 2 s, 4 s … capped at ``backoff_max_s``, reset by the next frame).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

import websockets
from websockets.asyncio.client import ClientConnection, connect

from tiles_edge.errors import HubError
from tiles_edge.hubs.model import HubConfig, HubEvent
from tiles_edge.hubs.normalize import normalize_event

logger = logging.getLogger(__name__)

# Frames are small because each carries one event. A bigger frame closes the socket.
_MAX_FRAME_BYTES = 256 * 1024
# Frames buffered while a snapshot runs, before the socket stops reading.
_MAX_QUEUED_FRAMES = 4096


class EventSocketError(HubError):
    """The eventsocket could not be opened, was closed, or fell silent."""

    code = "hub_eventsocket_down"


def backoff_delay(attempt: int, *, max_s: float = 32.0, base_s: float = 1.0) -> float:
    """Return the wait before reconnect attempt ``attempt`` (0-based): 1, 2, 4 … ``max_s`` s."""
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    # A bounded exponent keeps a huge attempt count from overflowing the float power.
    return min(max_s, base_s * 2.0 ** min(attempt, 62))


class Backoff:
    """Successive reconnect delays; ``reset()`` after a frame starts again at ``base_s``."""

    def __init__(self, *, max_s: float = 32.0, base_s: float = 1.0) -> None:
        self.max_s = max_s
        self.base_s = base_s
        self.attempt = 0

    def next_delay(self) -> float:
        delay = backoff_delay(self.attempt, max_s=self.max_s, base_s=self.base_s)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


class EventSocket:
    """One open eventsocket connection of one hub."""

    def __init__(self, hub_id: str, connection: ClientConnection) -> None:
        self.hub_id = hub_id
        self._connection = connection

    @classmethod
    async def open(cls, hub: HubConfig, *, open_timeout_s: float, silence_s: float) -> EventSocket:
        """Connect to ``hub.eventsocket_url``, raising ``EventSocketError`` on failure."""
        # Keepalive pings find a dead TCP connection before the silence limit does.
        ping_s = max(silence_s / 2, 0.05)
        try:
            connection = await connect(
                hub.eventsocket_url,
                open_timeout=open_timeout_s,
                ping_interval=ping_s,
                ping_timeout=ping_s,
                close_timeout=min(open_timeout_s, 5.0),
                max_size=_MAX_FRAME_BYTES,
                max_queue=_MAX_QUEUED_FRAMES,
                compression=None,
                proxy=None,
            )
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as err:
            raise EventSocketError(
                hub.hub_id,
                f"hub '{hub.hub_id}' eventsocket could not be opened ({_describe(err)}): check "
                "the host under Settings → Hubs, or choose the webhook or poll transport",
            ) from err
        return cls(hub.hub_id, connection)

    async def close(self) -> None:
        await self._connection.close()

    async def events(self, *, silence_s: float) -> AsyncIterator[HubEvent | None]:
        """Yield one item per frame until the socket closes or stays silent for ``silence_s``.

        Ends by raising ``EventSocketError``. A frame that is not a JSON object, or that
        ``normalize_event`` rejects, yields ``None``: it carries no event but is a sign of life.
        """
        while True:
            try:
                async with asyncio.timeout(silence_s):
                    frame = await self._connection.recv()
            except TimeoutError:
                raise EventSocketError(
                    self.hub_id,
                    f"hub '{self.hub_id}' eventsocket sent nothing for {silence_s:g} s",
                ) from None
            except websockets.exceptions.ConnectionClosed as err:
                raise EventSocketError(
                    self.hub_id, f"hub '{self.hub_id}' eventsocket closed ({_describe(err)})"
                ) from err
            yield parse_frame(self.hub_id, frame)


class EventSocketHandler(Protocol):
    """The receiver of ``run_eventsocket``'s reports: the hub link."""

    async def socket_opened(self) -> None:
        """Handle a newly opened socket, typically by taking a fresh snapshot."""

    async def socket_event(self, event: HubEvent) -> None: ...

    async def socket_down(self, reason: str) -> None:
        """Handle a socket that closed, failed to open or fell silent."""


async def run_eventsocket(
    hub: HubConfig,
    handler: EventSocketHandler,
    *,
    silence_s: float,
    backoff_max_s: float,
    open_timeout_s: float,
) -> None:
    """Keep ``hub``'s eventsocket open until cancelled, reporting to ``handler``."""
    backoff = Backoff(max_s=backoff_max_s)
    while True:
        try:
            socket = await EventSocket.open(hub, open_timeout_s=open_timeout_s, silence_s=silence_s)
        except EventSocketError as err:
            await handler.socket_down(err.message)
        else:
            try:
                logger.debug("hub %r: eventsocket open", hub.hub_id)
                await handler.socket_opened()
                async for event in socket.events(silence_s=silence_s):
                    backoff.reset()
                    if event is not None:
                        await handler.socket_event(event)
            except EventSocketError as err:
                await handler.socket_down(err.message)
            finally:
                await asyncio.shield(_close_quietly(socket))
        delay = backoff.next_delay()
        logger.debug("hub %r: eventsocket reconnect in %g s", hub.hub_id, delay)
        await asyncio.sleep(delay)


def parse_frame(hub_id: str, frame: str | bytes) -> HubEvent | None:
    """Parse one eventsocket text frame into a ``HubEvent``; ``None`` for anything else."""
    if isinstance(frame, bytes):
        frame = frame.decode("utf-8", errors="replace")
    try:
        payload: Any = json.loads(frame)
    except ValueError:
        logger.debug("hub %r: eventsocket frame is not JSON, skipped", hub_id)
        return None
    if not isinstance(payload, dict):
        return None
    return normalize_event(hub_id, payload, "eventsocket")


async def _close_quietly(socket: EventSocket) -> None:
    try:
        await socket.close()
    except (OSError, websockets.exceptions.WebSocketException) as err:
        logger.debug("hub %r: eventsocket close failed: %s", socket.hub_id, err)


def _describe(err: BaseException) -> str:
    return str(err).strip() or type(err).__name__
