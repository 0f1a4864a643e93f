"""``GET /api/events/stream``: live events as Server-Sent Events.

Each event is ``id:`` (the bus sequence), ``event:`` (its type) and one ``data:`` line of
JSON. A comment line keeps idle connections open through proxies. The stream ends when the
client disconnects, when its subscription is closed (logout, shutdown) or when a write fails.
No database access happens while a stream is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from tiles_edge.api.errors import error_response
from tiles_edge.api.principal import current_user_id
from tiles_edge.api.services import services_of
from tiles_edge.auth.service import BearerRejectedError
from tiles_edge.errors import ApiError, StorageError
from tiles_edge.events.bus import BusEvent, Subscription

logger = logging.getLogger(__name__)

# Milliseconds a browser's EventSource waits before it reconnects.
RETRY_MS = 3000

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    # nginx buffers proxied responses unless this header is present.
    (b"x-accel-buffering", b"no"),
]


# Upper bound of queued events joined into one write, so a long backlog is not one huge chunk.
MAX_EVENTS_PER_WRITE = 64


def format_event(event: BusEvent) -> bytes:
    """Encode ``event`` as an SSE frame, once: every stream shares the cached bytes."""
    if event.encoded is None:
        data = json.dumps(event.data, separators=(",", ":"), ensure_ascii=False, default=str)
        event.encoded = f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()
    return event.encoded


def parse_last_event_id(request: Request) -> int | None:
    """Read the resume point from ``Last-Event-ID`` or the ``lastEventId`` query parameter.

    An unreadable value becomes ``-1``, which is older than any kept event, so the client
    gets a ``resync`` instead of silently missing events.
    """
    raw = request.headers.get("last-event-id")
    if raw is None:
        raw = request.query_params.get("lastEventId")
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 20:
        return -1
    return int(text)


async def event_stream(request: Request) -> Any:
    services = services_of(request)
    bus = services.bus
    if bus.closed:
        return error_response(503, "shutting_down", "the server is shutting down; reconnect later")
    limit = services.settings.sse_max_streams
    if bus.subscriber_count >= limit:
        return error_response(
            503,
            "too_many_streams",
            f"{limit} event streams are already open, the configured maximum "
            "(sse_max_streams); close other tabs or raise the limit",
        )
    owner = getattr(request.state, "session_id", None)
    user_id = current_user_id(request)
    last_event_id = parse_last_event_id(request)
    # A fresh stream starts with the id it is current at, so a client that drops before the
    # first event still resumes from here instead of re-fetching everything.
    start_id = bus.last_id if last_event_id is None else None
    subscription = bus.subscribe(last_event_id, owner=owner)
    return EventStreamResponse(
        subscription,
        services.settings.sse_heartbeat_s,
        user_id=user_id,
        start_id=start_id,
        still_signed_in=_credential_check(request, user_id),
    )


def _credential_check(request: Request, user_id: int) -> Callable[[], Awaitable[bool]]:
    """Build the check a stream runs at every heartbeat.

    Logout and admin actions in this process close streams at once through the bus. This
    check catches the rest: a password changed or a user disabled from the CLI, an idle or
    absolute session limit reached, a trusted network left, a token revoked.
    """
    auth = getattr(request.app.state, "auth", None)
    scope = request.scope
    client = getattr(request.state, "client_address", None)
    https = bool(getattr(request.state, "https", False))

    async def still_signed_in() -> bool:
        if auth is None or client is None:
            return True
        try:
            principal = await auth.authenticate(scope, client, https)
        except BearerRejectedError:
            return False
        except (ApiError, StorageError) as err:
            # A busy or failing database is no proof the session ended: check again later.
            logger.warning("could not re-check the credentials of an event stream: %s", err)
            return True
        return principal is not None and principal.user_id == user_id

    return still_signed_in


class EventStreamResponse:
    """An ASGI response that writes one subscription until it ends or the client leaves."""

    def __init__(
        self,
        subscription: Subscription,
        heartbeat_s: float,
        *,
        user_id: int | None = None,
        start_id: int | None = None,
        still_signed_in: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self.subscription = subscription
        self.heartbeat_s = heartbeat_s
        self.user_id = user_id
        self.start_id = start_id
        self.still_signed_in = still_signed_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscription = self.subscription
        watcher = asyncio.get_running_loop().create_task(
            _close_on_disconnect(receive, subscription), name="sse-disconnect-watch"
        )
        try:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            opening = f"retry: {RETRY_MS}\n"
            if self.start_id is not None:
                opening += f"id: {self.start_id}\n"
            await _send_chunk(send, (opening + ": connected\n\n").encode())
            # Credentials are re-checked once per heartbeat period, also while events keep
            # flowing: in a busy home the stream may never sit idle long enough to time out.
            next_check = time.monotonic() + self.heartbeat_s
            while True:
                try:
                    event = await subscription.next_event(self.heartbeat_s)
                except StopAsyncIteration:
                    break
                if time.monotonic() >= next_check:
                    if not await self._signed_in():
                        break
                    next_check = time.monotonic() + self.heartbeat_s
                if event is None:
                    await _send_chunk(send, b": heartbeat\n\n")
                    continue
                # Events that queued up while the last write was in flight go out in one
                # write: under load a stream costs one send per burst, not per event.
                batch = [event, *subscription.take_ready(MAX_EVENTS_PER_WRITE - 1)]
                chunk = b"".join(format_event(item) for item in batch if self._visible(item))
                if chunk:
                    await _send_chunk(send, chunk)
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            # The connection is gone; the server has nothing more to send to.
            pass
        finally:
            subscription.close()
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _signed_in(self) -> bool:
        return self.still_signed_in is None or await self.still_signed_in()

    def _visible(self, event: BusEvent) -> bool:
        """Tell whether this stream's user may see ``event``: preference changes are private.

        The check runs at send time, so events replayed for Last-Event-ID are filtered too.
        """
        if event.type != "preferences":
            return True
        owner_id: object = event.data.get("userId")
        return owner_id == self.user_id


async def _send_chunk(send: Send, chunk: bytes) -> None:
    message: Message = {"type": "http.response.body", "body": chunk, "more_body": True}
    await send(message)


async def _close_on_disconnect(receive: Receive, subscription: Subscription) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            subscription.close()
            return
