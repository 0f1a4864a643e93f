"""EventBus: numbering, fan-out, replay, resync, bounded queues and closing."""

from __future__ import annotations

import asyncio
import time

import pytest

from tiles_edge.events.bus import EventBus


def drain(subscription) -> list:
    events = []
    while subscription.pending:
        events.append(subscription._queue.popleft())
    return events


async def test_publish_numbers_events_in_order():
    bus = EventBus(first_id=1)
    assert bus.publish("device", {"n": 1}) == 1
    assert bus.publish("hub", {"n": 2}) == 2
    assert bus.last_id == 2


async def test_publish_rejects_unknown_type():
    bus = EventBus(first_id=1)
    with pytest.raises(ValueError, match="unknown event type 'bogus'"):
        bus.publish("bogus", {})


async def test_default_ids_start_past_earlier_runs():
    earlier = EventBus()
    old_id = earlier.publish("device", {})
    # Ids come from the microsecond clock, and no event fires when it moves on.
    while time.time_ns() // 1000 <= old_id:  # noqa: ASYNC110
        await asyncio.sleep(0)
    later = EventBus()
    subscription = later.subscribe(last_event_id=old_id)
    assert later.last_id >= old_id
    assert [event.type for event in drain(subscription)] == ["resync"]


async def test_subscriber_receives_live_events():
    bus = EventBus(first_id=1)
    subscription = bus.subscribe()
    bus.publish("device", {"uid": "main:1"})
    bus.publish("mode", {"hubId": "main"})
    first = await subscription.next_event(5)
    second = await subscription.next_event(5)
    assert (first.id, first.type, first.data) == (1, "device", {"uid": "main:1"})
    assert (second.id, second.type) == (2, "mode")


async def test_every_subscriber_gets_every_event():
    bus = EventBus(first_id=1)
    subscriptions = [bus.subscribe() for _ in range(5)]
    bus.publish("device", {"x": 1})
    for subscription in subscriptions:
        event = await subscription.next_event(5)
        assert event.data == {"x": 1}


async def test_next_event_returns_none_after_wait():
    bus = EventBus(first_id=1)
    subscription = bus.subscribe()
    assert await subscription.next_event(0.01) is None


async def test_waiting_reader_wakes_on_publish():
    bus = EventBus(first_id=1)
    subscription = bus.subscribe()
    reader = asyncio.create_task(subscription.next_event())
    await asyncio.sleep(0)
    bus.publish("hsm", {"hubId": "main", "status": "disarmed"})
    event = await asyncio.wait_for(reader, 5)
    assert event.type == "hsm"


async def test_replay_after_last_event_id():
    bus = EventBus(first_id=1, ring_size=10)
    for n in range(5):
        bus.publish("device", {"n": n})
    subscription = bus.subscribe(last_event_id=3)
    assert [event.id for event in drain(subscription)] == [4, 5]


async def test_replay_of_current_id_is_empty():
    bus = EventBus(first_id=1)
    bus.publish("device", {})
    subscription = bus.subscribe(last_event_id=1)
    assert subscription.pending == 0


async def test_replay_from_oldest_kept_boundary():
    bus = EventBus(first_id=1, ring_size=3)
    for n in range(5):
        bus.publish("device", {"n": n})
    # The ring keeps 3, 4, 5: resuming after 2 misses nothing.
    subscription = bus.subscribe(last_event_id=2)
    assert [event.id for event in drain(subscription)] == [3, 4, 5]


async def test_too_old_id_gets_resync():
    bus = EventBus(first_id=1, ring_size=3)
    for n in range(5):
        bus.publish("device", {"n": n})
    subscription = bus.subscribe(last_event_id=1)
    events = drain(subscription)
    assert len(events) == 1
    assert events[0].type == "resync"
    assert events[0].data == {"reason": "too_old", "lastEventId": 5}
    assert events[0].id == 5


async def test_future_id_gets_resync():
    bus = EventBus(first_id=1)
    bus.publish("device", {})
    subscription = bus.subscribe(last_event_id=99)
    events = drain(subscription)
    assert [event.type for event in events] == ["resync"]
    assert events[0].data["reason"] == "unknown_id"


async def test_id_from_earlier_run_gets_resync():
    bus = EventBus(first_id=1000)
    subscription = bus.subscribe(last_event_id=10)
    events = drain(subscription)
    assert [event.type for event in events] == ["resync"]


async def test_slow_subscriber_gets_resync_not_backlog():
    bus = EventBus(first_id=1, queue_size=4)
    slow = bus.subscribe()
    fast = bus.subscribe()
    for n in range(4):
        bus.publish("device", {"n": n})
        await fast.next_event(5)
    bus.publish("device", {"n": 4})
    events = drain(slow)
    assert [event.type for event in events] == ["resync"]
    assert events[0].data == {"reason": "overflow", "lastEventId": 5}
    assert slow.overflows == 1
    # Later events queue normally after the resync.
    bus.publish("device", {"n": 5})
    assert [event.id for event in drain(slow)] == [6]
    assert (await fast.next_event(5)).id == 5


async def test_queue_never_exceeds_bound():
    bus = EventBus(first_id=1, queue_size=8)
    subscription = bus.subscribe()
    for n in range(1000):
        bus.publish("device", {"n": n})
        assert subscription.pending <= 8


async def test_replay_longer_than_queue_becomes_resync():
    bus = EventBus(first_id=1, ring_size=100, queue_size=4)
    for n in range(10):
        bus.publish("device", {"n": n})
    subscription = bus.subscribe(last_event_id=1)
    events = drain(subscription)
    assert events[0].type == "resync"
    assert len(events) <= 4


async def test_close_ends_waiting_readers_at_once():
    bus = EventBus(first_id=1)
    subscriptions = [bus.subscribe() for _ in range(3)]
    readers = [asyncio.create_task(sub.next_event()) for sub in subscriptions]
    await asyncio.sleep(0)
    bus.close()
    for reader in readers:
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(reader, 5)
    assert bus.subscriber_count == 0


async def test_async_for_stops_on_close():
    bus = EventBus(first_id=1)
    subscription = bus.subscribe()
    bus.publish("device", {"n": 1})
    received = []

    async def consume():
        async for event in subscription:
            received.append(event.id)
            bus.close()

    await asyncio.wait_for(consume(), 5)
    assert received == [1]


async def test_subscribe_after_close_is_closed():
    bus = EventBus(first_id=1)
    bus.close()
    subscription = bus.subscribe()
    assert subscription.closed
    with pytest.raises(StopAsyncIteration):
        await subscription.next_event(1)
    assert bus.subscriber_count == 0


async def test_close_owner_ends_only_that_owner():
    bus = EventBus(first_id=1)
    alice = [bus.subscribe(owner="session-a") for _ in range(2)]
    bob = bus.subscribe(owner="session-b")
    assert bus.subscriber_count == 3
    assert bus.close_owner("session-a") == 2
    assert all(sub.closed for sub in alice)
    assert not bob.closed
    assert bus.subscriber_count == 1
    bus.publish("device", {})
    assert (await bob.next_event(5)).type == "device"


async def test_closed_subscription_stops_counting():
    bus = EventBus(first_id=1)
    subscription = bus.subscribe()
    assert bus.subscriber_count == 1
    subscription.close()
    subscription.close()
    assert bus.subscriber_count == 0
    bus.publish("device", {})
    assert subscription.pending == 0


async def test_ring_keeps_only_ring_size():
    bus = EventBus(first_id=1, ring_size=16)
    for n in range(100):
        bus.publish("device", {"n": n})
    subscription = bus.subscribe(last_event_id=84)
    assert [event.id for event in drain(subscription)] == list(range(85, 101))


def test_sizes_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        EventBus(ring_size=0)


async def test_take_ready_returns_queued_without_waiting():
    bus = EventBus(ring_size=16, queue_size=16)
    subscription = bus.subscribe()
    for number in range(5):
        bus.publish("hub", {"n": number})
    first = await subscription.next_event(0.1)
    rest = subscription.take_ready(3)
    assert first is not None
    assert [event.data["n"] for event in [first, *rest]] == [0, 1, 2, 3]
    assert subscription.pending == 1
    assert subscription.take_ready(10)[0].data == {"n": 4}
    assert subscription.take_ready(10) == []
