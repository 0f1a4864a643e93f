"""The preferences API against the real app under Hypercorn with a real SQLite file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from apphelpers import ADMIN_USERNAME, DEFAULT_WAIT_S, running_demo

from tiles_edge.errors import ApiError
from tiles_edge.preferences import MAX_VALUE_BYTES, PreferenceService

pytestmark = pytest.mark.asyncio(loop_scope="module")

BASE = "/api/user/preferences"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory):
    async with running_demo(tmp_path_factory.mktemp("preferences"), hubs=()) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def user_id(demo) -> int:
    """The id of the admin that ``demo.client`` is signed in as."""
    user_id = await admin_id(demo)
    # Each test starts from an empty set of preferences.
    await demo.services.storage.delete_preferences(user_id)
    return user_id


async def admin_id(demo) -> int:
    record = await demo.services.storage.get_user_by_username(ADMIN_USERNAME)
    assert record is not None
    return int(record.id)


def assert_error(reply: httpx.Response, status: int) -> dict[str, str]:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    return body["error"]


class EventReader:
    """Read one SSE stream in a task and hand out its events by type."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        event_type = "message"
        data_lines: list[str] = []
        async for line in self._response.aiter_lines():
            if line.startswith("event:"):
                event_type = line[6:].strip()
            elif line.startswith("data:"):
                data_lines.append(line[5:].strip())
            elif line == "" and data_lines:
                await self._events.put((event_type, json.loads("\n".join(data_lines))))
                event_type = "message"
                data_lines = []

    async def next(self, event_type: str, match: Callable[[Any], bool] = lambda data: True) -> Any:
        deadline = time.monotonic() + DEFAULT_WAIT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event_type} event arrived in {DEFAULT_WAIT_S} s")
            kind, data = await asyncio.wait_for(self._events.get(), remaining)
            if kind == event_type and match(data):
                return data

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await self._task


@contextlib.asynccontextmanager
async def open_stream(demo) -> AsyncIterator[EventReader]:
    # A client of its own, like a second browser tab.
    client = demo.admin_client(timeout=DEFAULT_WAIT_S)
    async with client, client.stream("GET", "/api/events/stream") as response:
        assert response.status_code == 200
        reader = EventReader(response)
        try:
            yield reader
        finally:
            await reader.close()


async def put(demo, category: str, key: str, value: Any, **kwargs: Any) -> httpx.Response:
    return await demo.client.put(f"{BASE}/{category}/{key}", json={"value": value}, **kwargs)


# Round trips


async def test_preferences_need_sign_in(demo, user_id):
    async with demo.anonymous_client() as anonymous:
        assert_error(await anonymous.get(BASE), 401)
        reply = await anonymous.put(f"{BASE}/appearance/theme", json={"value": "dark"})
        assert_error(reply, 401)
    assert await demo.services.storage.get_preferences(user_id) == {}


@pytest.mark.parametrize(
    "value",
    [True, 0, 2.5, "dark", None, [1, "two", None], {"nested": {"list": [1, {"a": False}]}}],
)
async def test_put_then_get_round_trip(demo, user_id, value):
    reply = await put(demo, "appearance", "theme", value)
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"category": "appearance", "key": "theme", "value": value}

    reply = await demo.client.get(f"{BASE}/appearance/theme")
    assert reply.status_code == 200
    assert reply.json() == {"category": "appearance", "key": "theme", "value": value}


async def test_put_replaces_value(demo, user_id):
    assert (await put(demo, "appearance", "fontSize", 14)).status_code == 200
    assert (await put(demo, "appearance", "fontSize", 18)).status_code == 200
    reply = await demo.client.get(f"{BASE}/appearance/fontSize")
    assert reply.json()["value"] == 18


async def test_get_all_and_category(demo, user_id):
    await put(demo, "appearance", "darkMode", True)
    await put(demo, "appearance", "fontSize", 16)
    await put(demo, "sections", "order", ["lights", "locks"])
    await put(demo, "devices", "main:12", {"hidden": True})

    reply = await demo.client.get(BASE)
    assert reply.status_code == 200
    assert reply.json() == {
        "appearance": {"darkMode": True, "fontSize": 16},
        "sections": {"order": ["lights", "locks"]},
        "devices": {"main:12": {"hidden": True}},
    }

    reply = await demo.client.get(f"{BASE}/appearance")
    assert reply.status_code == 200
    assert reply.json() == {"darkMode": True, "fontSize": 16}


async def test_unused_category_is_empty(demo, user_id):
    reply = await demo.client.get(f"{BASE}/kpi")
    assert reply.status_code == 200
    assert reply.json() == {}


async def test_missing_key_is_404(demo, user_id):
    error = assert_error(await demo.client.get(f"{BASE}/appearance/nothing"), 404)
    assert error["code"] == "preference_not_found"
    assert "nothing" in error["message"]


async def test_stored_null_differs_from_missing(demo, user_id):
    await put(demo, "appearance", "accent", None)
    reply = await demo.client.get(f"{BASE}/appearance/accent")
    assert reply.status_code == 200
    assert reply.json()["value"] is None


async def test_delete_then_delete_again(demo, user_id):
    await put(demo, "appearance", "nightMode", True)

    reply = await demo.client.delete(f"{BASE}/appearance/nightMode")
    assert reply.status_code == 200
    assert reply.json() == {"deleted": True}
    assert_error(await demo.client.get(f"{BASE}/appearance/nightMode"), 404)

    reply = await demo.client.delete(f"{BASE}/appearance/nightMode")
    assert reply.status_code == 200
    assert reply.json() == {"deleted": False}


async def test_values_survive_restart(tmp_path):
    async with running_demo(tmp_path, hubs=()) as first:
        assert (await put(first, "appearance", "scale", "C")).status_code == 200
        first_user = await admin_id(first)
    async with running_demo(tmp_path, hubs=()) as second:
        assert await admin_id(second) == first_user
        reply = await second.client.get(f"{BASE}/appearance/scale")
        assert reply.status_code == 200
        assert reply.json()["value"] == "C"


# Validation


@pytest.mark.parametrize("category", ["Appearance", "1st", "a%20b", "_x", "a:b"])
async def test_bad_category_is_400(demo, user_id, category):
    error = assert_error(await put(demo, category, "key", 1), 400)
    assert error["code"] == "invalid_category"
    assert "category" in error["message"]


@pytest.mark.parametrize("key", [".hidden", "-x", "a%20b", "k" * 129])
async def test_bad_key_is_400(demo, user_id, key):
    error = assert_error(await put(demo, "appearance", key, 1), 400)
    assert error["code"] == "invalid_key"
    assert "key" in error["message"]


async def test_bad_category_on_get_is_400(demo, user_id):
    error = assert_error(await demo.client.get(f"{BASE}/Bad"), 400)
    assert error["code"] == "invalid_category"


async def test_reserved_category_is_400(demo, user_id):
    error = assert_error(await put(demo, "backgrounds", "default", {"type": "image"}), 400)
    assert error["code"] == "reserved_category"
    assert "/api/user/backgrounds" in error["message"]


async def test_reserved_category_hidden_from_listing(demo, user_id):
    await demo.services.storage.set_preference(user_id, "backgrounds", "default", {"x": 1})
    reply = await demo.client.get(BASE)
    assert "backgrounds" not in reply.json()
    assert_error(await demo.client.get(f"{BASE}/backgrounds"), 400)


async def test_non_json_body_is_400(demo, user_id):
    reply = await demo.client.put(
        f"{BASE}/appearance/theme",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    error = assert_error(reply, 400)
    assert error["code"] == "invalid_json"


async def test_text_plain_body_is_415(demo, user_id):
    reply = await demo.client.put(
        f"{BASE}/appearance/theme",
        content=b'{"value": 1}',
        headers={"content-type": "text/plain"},
    )
    assert_error(reply, 415)


async def test_missing_value_is_400(demo, user_id):
    reply = await demo.client.put(f"{BASE}/appearance/theme", json={"val": 1})
    error = assert_error(reply, 400)
    assert error["code"] == "missing_value"
    assert '"value"' in error["message"]


async def test_array_body_is_400(demo, user_id):
    reply = await demo.client.put(f"{BASE}/appearance/theme", json=[1, 2])
    assert_error(reply, 400)


async def test_nan_value_is_400(demo, user_id):
    reply = await demo.client.put(
        f"{BASE}/appearance/theme",
        content=b'{"value": NaN}',
        headers={"content-type": "application/json"},
    )
    assert_error(reply, 400)


async def test_deeply_nested_value_is_4xx(demo, user_id):
    body = b'{"value": ' + b"[" * 20000 + b"]" * 20000 + b"}"
    reply = await demo.client.put(
        f"{BASE}/appearance/theme", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= reply.status_code < 500, reply.text


async def test_value_too_large_is_413(demo, user_id):
    reply = await put(demo, "appearance", "big", "x" * MAX_VALUE_BYTES)
    error = assert_error(reply, 413)
    assert error["code"] == "value_too_large"
    assert "value" in error["message"]
    assert_error(await demo.client.get(f"{BASE}/appearance/big"), 404)


async def test_value_at_limit_is_stored(demo, user_id):
    # Two bytes of the limit go to the JSON string's quotes.
    reply = await put(demo, "appearance", "big", "x" * (MAX_VALUE_BYTES - 2))
    assert reply.status_code == 200, reply.text[:200]


async def test_body_over_app_limit_is_413(demo, user_id):
    size = demo.settings.max_body_bytes + 1
    reply = await put(demo, "appearance", "huge", "x" * size)
    assert_error(reply, 413)


async def test_bad_client_id_is_400(demo, user_id):
    reply = await put(demo, "appearance", "theme", 1, headers={"X-Client-Id": "a b"})
    error = assert_error(reply, 400)
    assert "clientId" in error["message"]


async def test_get_on_migrate_is_405(demo, user_id):
    assert_error(await demo.client.get(f"{BASE}/migrate"), 405)


async def test_post_on_entry_is_405(demo, user_id):
    assert_error(await demo.client.post(f"{BASE}/appearance/theme", json={"value": 1}), 405)


async def test_user_quota_rejects_write(demo, user_id):
    service = PreferenceService(demo.services.storage, None, max_user_bytes=200)
    await service.set(user_id, "appearance", "a", "x" * 100)
    with pytest.raises(ApiError) as caught:
        await service.set(user_id, "appearance", "b", "x" * 100)
    assert caught.value.status == 413
    assert caught.value.code == "preferences_quota_exceeded"
    # Replacing an entry counts its new size only, so shrinking fits again.
    await service.set(user_id, "appearance", "a", "x" * 10)
    await service.set(user_id, "appearance", "b", "x" * 100)


# Migrate


async def test_migrate_imports_then_skips(demo, user_id):
    await put(demo, "appearance", "fontSize", 20)
    snapshot = {
        "appearance": {"fontSize": 12, "darkMode": True},
        "sections": {"order": ["lights"]},
    }

    reply = await demo.client.post(f"{BASE}/migrate", json={"preferences": snapshot})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"imported": 2, "skipped": 1, "rejectedCount": 0, "rejected": []}

    reply = await demo.client.get(BASE)
    assert reply.json() == {
        "appearance": {"fontSize": 20, "darkMode": True},
        "sections": {"order": ["lights"]},
    }

    reply = await demo.client.post(f"{BASE}/migrate", json={"preferences": snapshot})
    assert reply.json() == {"imported": 0, "skipped": 3, "rejectedCount": 0, "rejected": []}


async def test_migrate_rejects_bad_entries(demo, user_id):
    snapshot = {
        "appearance": {"ok": 1, ".bad": 2, "big": "x" * MAX_VALUE_BYTES},
        "Bad Category": {"a": 1},
        "backgrounds": {"default": {"type": "color", "color": "#000000"}},
    }
    reply = await demo.client.post(f"{BASE}/migrate", json={"preferences": snapshot})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["imported"] == 1
    assert body["rejectedCount"] == 4
    reasons = {(item["category"], item["key"]): item["reason"] for item in body["rejected"]}
    assert reasons == {
        ("appearance", ".bad"): "invalid_key",
        ("appearance", "big"): "value_too_large",
        ("Bad Category", "a"): "invalid_category",
        ("backgrounds", "default"): "reserved_category",
    }
    stored = await demo.services.storage.get_preferences(user_id)
    assert "backgrounds" not in stored


async def test_migrate_missing_preferences_is_400(demo, user_id):
    error = assert_error(await demo.client.post(f"{BASE}/migrate", json={"prefs": {}}), 400)
    assert error["code"] == "missing_preferences"
    assert '"preferences"' in error["message"]


@pytest.mark.parametrize("snapshot", [[1], "text", {"appearance": [1, 2]}, {"a": "b"}])
async def test_migrate_malformed_snapshot_is_400(demo, user_id, snapshot):
    reply = await demo.client.post(f"{BASE}/migrate", json={"preferences": snapshot})
    error = assert_error(reply, 400)
    assert error["code"] == "invalid_preferences"
    assert "preferences" in error["message"]


async def test_migrate_too_many_entries_is_413(demo, user_id):
    snapshot = {"bulk": {f"k{index}": index for index in range(2001)}}
    reply = await demo.client.post(f"{BASE}/migrate", json={"preferences": snapshot})
    error = assert_error(reply, 413)
    assert error["code"] == "snapshot_too_large"
    assert await demo.services.storage.get_preferences(user_id) == {}


async def test_migrate_accepts_body_over_app_limit(demo, user_id):
    # A localStorage snapshot may be larger than an ordinary JSON body.
    snapshot = {"bulk": {f"k{index}": "x" * 1000 for index in range(100)}}
    assert len(json.dumps(snapshot)) > demo.settings.max_body_bytes
    reply = await demo.client.post(f"{BASE}/migrate", json={"preferences": snapshot})
    assert reply.status_code == 200, reply.text
    assert reply.json()["imported"] == 100


async def test_migrate_respects_user_quota(demo, user_id):
    service = PreferenceService(demo.services.storage, None, max_user_bytes=300)
    snapshot = {"bulk": {f"k{index}": "x" * 100 for index in range(5)}}
    result = await service.migrate(user_id, snapshot)
    assert result.imported == 2
    assert result.rejected_count == 3
    assert {item["reason"] for item in result.rejected} == {"preferences_quota_exceeded"}


# Events


async def test_change_reaches_second_stream(demo, user_id):
    async with open_stream(demo) as first, open_stream(demo) as second:
        reply = await put(demo, "appearance", "darkMode", True, headers={"X-Client-Id": "tab-1"})
        assert reply.status_code == 200

        for reader in (first, second):
            data = await reader.next("preferences", lambda data: data.get("key") == "darkMode")
            assert data["category"] == "appearance"
            assert data["value"] is True
            assert data["userId"] == user_id
            assert data["clientId"] == "tab-1"
            assert "deleted" not in data


async def test_delete_event_marks_deleted(demo, user_id):
    await put(demo, "appearance", "fontSize", 15)
    async with open_stream(demo) as stream:
        assert (await demo.client.delete(f"{BASE}/appearance/fontSize")).status_code == 200
        data = await stream.next("preferences", lambda data: data.get("key") == "fontSize")
        assert data["deleted"] is True
        assert data["value"] is None


async def test_migrate_event_asks_for_reload(demo, user_id):
    async with open_stream(demo) as stream:
        reply = await demo.client.post(
            f"{BASE}/migrate", json={"preferences": {"kpi": {"range": "7d"}}}
        )
        assert reply.status_code == 200
        data = await stream.next("preferences", lambda data: data.get("reload") is True)
        assert data["imported"] == 1
        assert data["userId"] == user_id


async def test_stream_skips_other_user_events(demo, user_id):
    storage = demo.services.storage
    other_id = await demo.add_user("other-stream")
    try:
        async with (
            open_stream(demo) as stream,
            demo.signed_in_client("other-stream") as other,
        ):
            # The second user writes first, then the stream's own user.
            reply = await other.put(f"{BASE}/appearance/theirs", json={"value": 1})
            assert reply.status_code == 200
            assert (await put(demo, "appearance", "marker", 2)).status_code == 200

            seen: list[str] = []

            def record(data: Any) -> bool:
                seen.append(data.get("key"))
                return data.get("key") == "marker"

            await stream.next("preferences", record)
            assert "theirs" not in seen
    finally:
        await storage.delete_user(other_id)


# Users


async def test_other_user_invisible(demo, user_id):
    storage = demo.services.storage
    other = await storage.create_user(username="other-prefs", password_hash=None)
    try:
        service = PreferenceService(storage, None)
        await service.set(other.id, "appearance", "secret", "theirs")
        await put(demo, "appearance", "mine", "ours")

        reply = await demo.client.get(BASE)
        assert reply.json() == {"appearance": {"mine": "ours"}}
        assert_error(await demo.client.get(f"{BASE}/appearance/secret"), 404)
        assert (await demo.client.delete(f"{BASE}/appearance/secret")).json() == {"deleted": False}
        assert await service.get(other.id, "appearance", "secret") == "theirs"
        assert await service.get_all(other.id) == {"appearance": {"secret": "theirs"}}
    finally:
        await storage.delete_user(other.id)


async def test_writes_scoped_to_acting_user(demo, user_id):
    storage = demo.services.storage
    other_id = await demo.add_user("other-acting")
    try:
        async with demo.signed_in_client("other-acting") as other:
            reply = await other.put(f"{BASE}/appearance/owner", json={"value": "other"})
            assert reply.status_code == 200
            assert (await other.get(f"{BASE}/appearance/owner")).json()["value"] == "other"
        assert_error(await demo.client.get(f"{BASE}/appearance/owner"), 404)
        found, value = await storage.get_preference(other_id, "appearance", "owner")
        assert found
        assert value == "other"
        assert await storage.get_preferences(user_id) == {}
    finally:
        await storage.delete_user(other_id)
