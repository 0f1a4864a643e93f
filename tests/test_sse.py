"""``GET /api/events/stream`` read by a real SSE client against the server on loopback."""

from __future__ import annotations

import asyncio
import json

import httpx
from apphelpers import running_demo, wait_until

READ_TIMEOUT_S = 30.0


class SseReader:
    """Parses an httpx streaming response into (id, event, data) tuples and comments."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.comments: list[str] = []
        self.retry: int | None = None

    async def next_event(self) -> dict:
        fields: dict = {}
        while True:
            line = await asyncio.wait_for(self._lines.__anext__(), READ_TIMEOUT_S)
            if line == "":
                if "event" in fields or "data" in fields:
                    return fields
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "retry":
                self.retry = int(value)
            elif name == "data":
                fields["data"] = json.loads(value)
            elif name == "id":
                fields["id"] = int(value)
            else:
                fields[name] = value

    async def next_of_type(self, event_type: str, predicate=lambda data: True) -> dict:
        while True:
            event = await self.next_event()
            if event.get("event") == event_type and predicate(event["data"]):
                return event

    async def next_comment(self, text: str) -> None:
        while text not in self.comments:
            line = await asyncio.wait_for(self._lines.__anext__(), READ_TIMEOUT_S)
            if line.startswith(":"):
                self.comments.append(line[1:].strip())


async def test_command_event_reaches_sse_client(tmp_path):
    async with (
        running_demo(tmp_path) as demo,
        demo.client.stream("GET", "/api/events/stream") as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        reader = SseReader(response)
        reply = await demo.client.post("/api/device/main:53/command", json={"command": "on"})
        assert reply.status_code == 200, reply.text
        event = await reader.next_of_type(
            "device", lambda data: data["uid"] == "main:53" and data["name"] == "switch"
        )
        assert reader.retry == 3000
        data = event["data"]
        assert data["value"] == "on"
        assert data["hubId"] == "main"
        assert data["deviceId"] == "53"
        assert {"uid", "hubId", "deviceId", "name", "value", "raw", "unit", "ts", "source"} <= (
            set(data)
        )
        assert event["id"] <= demo.services.bus.last_id


async def test_ids_are_monotonic(tmp_path):
    async with (
        running_demo(tmp_path, hubs=()) as demo,
        demo.client.stream("GET", "/api/events/stream") as response,
    ):
        reader = SseReader(response)
        bus = demo.services.bus
        for number in range(5):
            bus.publish("hub", {"n": number})
        ids = [(await reader.next_event())["id"] for _ in range(5)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5


async def test_last_event_id_replays_missed_events(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        bus = demo.services.bus
        first = bus.publish("mode", {"n": 1})
        bus.publish("mode", {"n": 2})
        bus.publish("hsm", {"n": 3})
        headers = {"Last-Event-ID": str(first)}
        async with demo.client.stream("GET", "/api/events/stream", headers=headers) as response:
            reader = SseReader(response)
            replayed = [await reader.next_event() for _ in range(2)]
    assert [event["data"]["n"] for event in replayed] == [2, 3]
    assert [event["event"] for event in replayed] == ["mode", "hsm"]
    assert replayed[0]["id"] == first + 1


async def test_fresh_stream_opens_with_resume_id(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        bus = demo.services.bus
        bus.publish("mode", {"n": 0})
        async with demo.client.stream("GET", "/api/events/stream") as response:
            lines = response.aiter_lines()
            opening = [await anext(lines) for _ in range(3)]
        start_id = int(opening[1].removeprefix("id: "))
        assert start_id == bus.last_id
        bus.publish("mode", {"n": 1})
        headers = {"Last-Event-ID": str(start_id)}
        async with demo.client.stream("GET", "/api/events/stream", headers=headers) as response:
            event = await SseReader(response).next_event()
    assert event["data"] == {"n": 1}


async def test_last_event_id_query_parameter(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        bus = demo.services.bus
        first = bus.publish("mode", {"n": 1})
        bus.publish("mode", {"n": 2})
        path = f"/api/events/stream?lastEventId={first}"
        async with demo.client.stream("GET", path) as response:
            event = await SseReader(response).next_event()
    assert event["data"] == {"n": 2}


async def test_too_old_last_event_id_gets_resync(tmp_path):
    async with running_demo(tmp_path, hubs=(), sse_ring_size=16) as demo:
        bus = demo.services.bus
        first = bus.publish("mode", {"n": 0})
        for number in range(1, 40):
            bus.publish("mode", {"n": number})
        headers = {"Last-Event-ID": str(first)}
        async with demo.client.stream("GET", "/api/events/stream", headers=headers) as response:
            reader = SseReader(response)
            event = await reader.next_event()
            assert event["event"] == "resync"
            assert event["data"]["reason"] == "too_old"
            assert event["id"] == bus.last_id
            bus.publish("hub", {"after": True})
            following = await reader.next_event()
    assert following["data"] == {"after": True}


async def test_garbage_last_event_id_gets_resync(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        demo.services.bus.publish("mode", {})
        headers = {"Last-Event-ID": "not-a-number"}
        async with demo.client.stream("GET", "/api/events/stream", headers=headers) as response:
            assert response.status_code == 200
            event = await SseReader(response).next_event()
    assert event["event"] == "resync"


async def test_slow_client_gets_resync(tmp_path):
    async with (
        running_demo(tmp_path, hubs=(), sse_queue_size=8) as demo,
        demo.client.stream("GET", "/api/events/stream") as response,
    ):
        reader = SseReader(response)
        await wait_until(lambda: demo.services.bus.subscriber_count == 1)
        bus = demo.services.bus
        # publish() never yields, so the stream cannot drain its queue in between.
        for number in range(50):
            bus.publish("device", {"n": number})
        event = await reader.next_event()
        assert event["event"] == "resync"
        assert event["data"]["reason"] == "overflow"
        bus.publish("device", {"n": "after"})
        # Events queued after the resync still arrive, in order, up to the new one.
        following = await reader.next_of_type("device", lambda data: data["n"] == "after")
    assert following["id"] == bus.last_id


async def test_stream_cap_returns_503(tmp_path):
    async with running_demo(tmp_path, hubs=(), sse_max_streams=2) as demo:
        async with (
            demo.client.stream("GET", "/api/events/stream") as first,
            demo.client.stream("GET", "/api/events/stream") as second,
        ):
            assert first.status_code == 200
            assert second.status_code == 200
            reply = await demo.client.get("/api/events/stream")
            assert reply.status_code == 503
            assert reply.json()["error"]["code"] == "too_many_streams"
            assert "sse_max_streams" in reply.json()["error"]["message"]
        await wait_until(lambda: demo.services.bus.subscriber_count == 0)
        async with demo.client.stream("GET", "/api/events/stream") as again:
            assert again.status_code == 200


async def test_heartbeat_comment(tmp_path):
    async with (
        running_demo(tmp_path, hubs=(), sse_heartbeat_s=0.05) as demo,
        demo.client.stream("GET", "/api/events/stream") as response,
    ):
        reader = SseReader(response)
        await reader.next_comment("heartbeat")
    assert "connected" in reader.comments


async def test_client_disconnect_ends_subscription(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        async with demo.client.stream("GET", "/api/events/stream") as response:
            assert response.status_code == 200
            await wait_until(lambda: demo.services.bus.subscriber_count == 1)
        await wait_until(
            lambda: demo.services.bus.subscriber_count == 0, what="stream closed on disconnect"
        )


async def test_shutdown_ends_open_streams(tmp_path):
    # A long graceful timeout: shutdown must not wait for it.
    async with running_demo(tmp_path, hubs=(), graceful_timeout_s=120.0) as demo:
        streams = []
        async with demo.admin_client(timeout=READ_TIMEOUT_S) as client:
            for _ in range(3):
                request = client.build_request("GET", "/api/events/stream")
                streams.append(await client.send(request, stream=True))
            await wait_until(lambda: demo.services.bus.subscriber_count == 3)

            await asyncio.wait_for(demo.server.stop(), READ_TIMEOUT_S)

            for response in streams:
                body = b"".join([chunk async for chunk in response.aiter_bytes()])
                assert body.startswith(b"retry: 3000")
                await response.aclose()
        assert demo.services.bus.closed
        assert demo.services.bus.subscriber_count == 0


async def test_stream_after_shutdown_begins_is_503(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        demo.services.bus.close()
        reply = await demo.client.get("/api/events/stream")
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "shutting_down"


async def test_stream_ends_when_session_ends_elsewhere(tmp_path):
    # The CLI ends sessions in the database from another process; the open stream must
    # notice within a heartbeat period, even while events keep it busy.
    async with running_demo(tmp_path, hubs=(), sse_heartbeat_s=1.0) as demo:
        user_id = await demo.add_user("kiosk")
        bus = demo.services.bus

        async def keep_busy() -> None:
            while True:
                bus.publish("hub", {"tick": True})
                await asyncio.sleep(0.1)

        async with (
            demo.signed_in_client("kiosk") as kiosk,
            kiosk.stream("GET", "/api/events/stream") as response,
        ):
            assert response.status_code == 200
            lines = response.aiter_lines()
            assert await anext(lines) == "retry: 3000"
            busy = asyncio.create_task(keep_busy())
            try:
                await demo.services.storage.delete_user_sessions(user_id)

                async def read_to_end() -> list[str]:
                    return [line async for line in lines]

                remaining = await asyncio.wait_for(read_to_end(), 10)
            finally:
                busy.cancel()
        assert any(line.startswith("event: hub") for line in remaining)
        assert ": heartbeat" not in remaining
        assert bus.subscriber_count == 0


def test_event_encoded_once_for_all_streams():
    from tiles_edge.api.events import format_event
    from tiles_edge.events.bus import BusEvent

    event = BusEvent(7, "device", {"uid": "main:53", "value": "on"})
    first = format_event(event)
    assert first == b'id: 7\nevent: device\ndata: {"uid":"main:53","value":"on"}\n\n'
    assert format_event(event) is first
