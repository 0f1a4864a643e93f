"""In-process fan-out of live events to SSE subscribers, with a replay ring for Last-Event-ID.

``publish`` is synchronous and never blocks: each subscriber has a bounded queue, and a
subscriber whose queue is full loses its backlog and gets one ``resync`` event instead, so a
slow browser costs at most ``queue_size`` events of memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

logger = logging.getLogger(__name__)

EventType = Literal["device", "hub", "mode", "hsm", "preferences", "resync"]
EVENT_TYPES: frozenset[str] = frozenset(("device", "hub", "mode", "hsm", "preferences", "resync"))

# Why a subscriber must re-fetch its state: it fell behind, it asked for an id that the ring
# no longer holds, or it asked for an id this process never issued (an earlier run).
ResyncReason = Literal["overflow", "too_old", "unknown_id"]


@dataclass(slots=True)
class BusEvent:
    id: int
    type: str
    data: Any
    # The event as an SSE frame, encoded by the first stream that sends it and shared by the
    # rest: with 100 open tabs, one encoding instead of 100.
    encoded: bytes | None = field(default=None, compare=False, repr=False)


class Subscription:
    """One subscriber's bounded queue, read with ``async for`` or ``next_event``."""

    def __init__(self, bus: EventBus, owner: str | None, max_queue: int) -> None:
        self.owner = owner
        self._bus = bus
        self._max_queue = max_queue
        self._queue: deque[BusEvent] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self.overflows = 0

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _push(self, event: BusEvent) -> None:
        if self._closed:
            return
        if len(self._queue) >= self._max_queue:
            # The backlog is useless once any of it is dropped: the client re-fetches instead.
            self._queue.clear()
            self.overflows += 1
            self._queue.append(self._bus.make_resync(event.id, "overflow"))
            return
        self._queue.append(event)
        self._wakeup.set()

    def _push_resync(self, event: BusEvent) -> None:
        self._queue.append(event)
        self._wakeup.set()

    def close(self) -> None:
        """End the subscription; a pending or later ``next_event`` raises StopAsyncIteration."""
        if self._closed:
            return
        self._closed = True
        self._queue.clear()
        self._wakeup.set()
        self._bus._discard(self)

    async def next_event(self, wait_s: float | None = None) -> BusEvent | None:
        """Wait for the next event; ``None`` after ``wait_s`` seconds without one.

        Raises StopAsyncIteration once the subscription is closed.
        """
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            if wait_s is None:
                await self._wakeup.wait()
                continue
            try:
                async with asyncio.timeout(wait_s):
                    await self._wakeup.wait()
            except TimeoutError:
                if self._queue or self._closed:
                    continue
                return None
        if self._closed:
            raise StopAsyncIteration
        return self._queue.popleft()

    def take_ready(self, limit: int) -> list[BusEvent]:
        """Remove and return up to ``limit`` queued events without waiting."""
        count = min(limit, len(self._queue))
        return [self._queue.popleft() for _ in range(count)]

    def __aiter__(self) -> AsyncIterator[BusEvent]:
        return self

    async def __anext__(self) -> BusEvent:
        event = None
        while event is None:
            event = await self.next_event()
        return event


class EventBus:
    """Numbered events fanned out to subscribers, the last ``ring_size`` kept for replay.

    Ids start at the wall-clock time in microseconds when the bus is made, unless
    ``first_id`` is given, and grow by one per event. So an id from an earlier run of the
    server is lower than every id of this run (unless that run published more than one event
    per microsecond), and it earns a ``resync`` instead of a replay of unrelated events.
    """

    def __init__(
        self,
        *,
        ring_size: int = 2048,
        queue_size: int = 512,
        first_id: int | None = None,
    ) -> None:
        if ring_size < 1 or queue_size < 1:
            raise ValueError("ring_size and queue_size must be at least 1")
        self._ring: deque[BusEvent] = deque(maxlen=ring_size)
        self._queue_size = queue_size
        start = first_id if first_id is not None else time.time_ns() // 1000
        self._last_id = start - 1
        self._first_id = start
        self._subscribers: set[Subscription] = set()
        self._closed = False

    @property
    def last_id(self) -> int:
        """The id of the newest event, or ``first_id - 1`` before the first one."""
        return self._last_id

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def closed(self) -> bool:
        return self._closed

    def publish(self, event_type: str, data: Any) -> int:
        """Number ``data`` as the next event of ``event_type``, queue it for every subscriber.

        Returns the event id. After ``close()`` the event is numbered and kept in the ring
        but no subscriber receives it.
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(
                f"unknown event type {event_type!r}: use one of {', '.join(sorted(EVENT_TYPES))}"
            )
        self._last_id += 1
        event = BusEvent(self._last_id, event_type, data)
        self._ring.append(event)
        for subscriber in tuple(self._subscribers):
            subscriber._push(event)
        return event.id

    def make_resync(self, event_id: int, reason: ResyncReason) -> BusEvent:
        """Build a ``resync`` event: the client re-fetches, then resumes after ``event_id``."""
        return BusEvent(event_id, "resync", {"reason": reason, "lastEventId": event_id})

    def subscribe(self, last_event_id: int | None = None, owner: str | None = None) -> Subscription:
        """Open a subscription, replaying every kept event after ``last_event_id``.

        ``None`` starts with live events only. An id older than the ring or never issued by
        this bus yields one ``resync`` event first. On a closed bus the subscription is
        already closed.
        """
        subscription = Subscription(self, owner, self._queue_size)
        if self._closed:
            subscription._closed = True
            return subscription
        self._subscribers.add(subscription)
        if last_event_id is None or last_event_id == self._last_id:
            return subscription
        oldest_kept = self._ring[0].id if self._ring else self._last_id + 1
        if last_event_id > self._last_id:
            subscription._push_resync(self.make_resync(self._last_id, "unknown_id"))
        elif last_event_id < oldest_kept - 1:
            subscription._push_resync(self.make_resync(self._last_id, "too_old"))
        else:
            for event in self._ring:
                if event.id > last_event_id:
                    subscription._push(event)
        return subscription

    def close_owner(self, owner: str) -> int:
        """End every subscription of ``owner``; returns how many were open."""
        matching = [sub for sub in self._subscribers if sub.owner == owner]
        for subscription in matching:
            subscription.close()
        return len(matching)

    def close(self) -> None:
        """End every subscription at once; later subscriptions start closed."""
        if self._closed:
            return
        self._closed = True
        count = len(self._subscribers)
        for subscription in tuple(self._subscribers):
            subscription.close()
        logger.info("event bus closed, %d stream(s) ended", count)

    def _discard(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
