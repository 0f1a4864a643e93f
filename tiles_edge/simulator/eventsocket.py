"""The ``/eventsocket`` WebSocket of a simulated hub: every event, one JSON object per frame."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

logger = logging.getLogger(__name__)

# Frames waiting for one slow client before the hub gives up on it and closes its socket.
CLIENT_QUEUE_SIZE = 10_000

# 1011 (internal error) makes clients see an abnormal close, as when a hub drops them.
DROP_CLOSE_CODE = 1011
# Closing before the handshake is accepted makes Hypercorn reply with HTTP 403.
REJECT_CLOSE_CODE = 1008


class EventsocketClient:
    """One connected eventsocket client with its queue of frames to send."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=CLIENT_QUEUE_SIZE)
        self.closing = False
        self.peer_gone = False

    def offer(self, frame: str) -> None:
        if self.closing:
            return
        try:
            self.queue.put_nowait(frame)
        except asyncio.QueueFull:
            logger.warning(
                "an eventsocket client fell %d frames behind: dropping it", self.queue.qsize()
            )
            self.drop()

    def drop(self) -> None:
        """Make the sender close this client's socket after the frame it is sending."""
        if self.closing:
            return
        self.closing = True
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()


class EventsocketHub:
    """The set of connected clients, with a condition to wait for a given count."""

    def __init__(self) -> None:
        self._clients: set[EventsocketClient] = set()
        self._changed = asyncio.Condition()

    @property
    def count(self) -> int:
        return len(self._clients)

    def broadcast(self, frame: str, copies: int = 1) -> None:
        for client in tuple(self._clients):
            for _ in range(copies):
                client.offer(frame)

    def drop_all(self) -> None:
        for client in tuple(self._clients):
            client.drop()

    async def wait_for_count(self, count: int, *, at_least: bool, timeout_s: float) -> None:
        """Wait until there are ``>= count`` clients (``at_least``), else ``<= count``.

        Raises TimeoutError after ``timeout_s`` seconds.
        """

        def reached() -> bool:
            if at_least:
                return len(self._clients) >= count
            return len(self._clients) <= count

        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(reached)

    async def serve(self, websocket: WebSocket, *, reject: bool) -> None:
        if reject:
            await websocket.close(code=REJECT_CLOSE_CODE)
            return
        await websocket.accept()
        client = EventsocketClient()
        await self._add(client)
        receiver = asyncio.create_task(self._receive_until_closed(websocket, client))
        try:
            await self._send_frames(websocket, client)
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver
            await self._remove(client)

    async def _send_frames(self, websocket: WebSocket, client: EventsocketClient) -> None:
        while True:
            frame = await client.queue.get()
            if frame is None:
                break
            try:
                await websocket.send_text(frame)
            except (WebSocketDisconnect, RuntimeError, OSError):
                return
        if not client.peer_gone:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                await websocket.close(code=DROP_CLOSE_CODE)

    async def _receive_until_closed(self, websocket: WebSocket, client: EventsocketClient) -> None:
        # Hubs ignore what clients send; reading is only how a disconnect is noticed.
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        client.peer_gone = True
        client.drop()

    async def _add(self, client: EventsocketClient) -> None:
        async with self._changed:
            self._clients.add(client)
            self._changed.notify_all()

    async def _remove(self, client: EventsocketClient) -> None:
        async with self._changed:
            self._clients.discard(client)
            self._changed.notify_all()
