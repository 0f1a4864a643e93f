"""Device routes against the real app and two simulated hubs on loopback."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio
from apphelpers import running_demo, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")

DEVICE_KEYS = {
    "uid", "hubId", "hubName", "hubIp", "deviceId", "label", "name", "type", "room", "kind",
    "sensorType", "capabilities", "attributes", "commands", "hasPowerMeter", "outdoor",
    "twinOf", "twins", "online", "hueScale", "fanSpeeds", "lockCodesReadable", "lastActivity",
    "hubUrl",
}  # fmt: skip


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory):
    async with running_demo(tmp_path_factory.mktemp("devices")) as running:
        yield running


def assert_error(reply, status, code):
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]["message"]


async def test_devices_fold_twins(demo):
    reply = await demo.client.get("/api/devices")
    assert reply.status_code == 200
    devices = {device["uid"]: device for device in reply.json()["devices"]}
    assert "garage:1204" not in devices
    assert "garage:1204" in devices["main:12"]["twins"]
    assert devices["main:12"]["twinOf"] is None
    assert "main:53" in devices
    assert "garage:13" in devices  # same label as main:360, not a twin


async def test_device_json_has_every_field(demo):
    reply = await demo.client.get("/api/devices")
    for device in reply.json()["devices"]:
        assert set(device) >= DEVICE_KEYS, device["uid"]


async def test_device_list_links_hub_page_with_port(demo):
    reply = await demo.client.get("/api/devices")
    device = next(d for d in reply.json()["devices"] if d["uid"] == "garage:6")
    assert device["hubUrl"] == f"http://127.0.0.1:{demo.sims['garage'].port}/device/edit/6"


async def test_device_json_values(demo):
    reply = await demo.client.get("/api/devices")
    devices = {device["uid"]: device for device in reply.json()["devices"]}
    porch = devices["main:53"]
    assert porch["hubId"] == "main"
    assert porch["hubName"] == "Main Hub"
    assert porch["hubIp"] == "127.0.0.1"
    assert porch["deviceId"] == "53"
    assert porch["label"] == "Porch Light"
    assert porch["kind"] == "switch"
    assert porch["room"] == "Outside"
    assert porch["online"] is True
    assert porch["attributes"]["switch"] == {"value": "off", "raw": "off", "unit": None}
    assert porch["commands"] == ["off", "on", "refresh"]
    assert "dataType" not in porch["attributes"]


async def test_devices_never_carry_tokens(demo):
    reply = await demo.client.get("/api/devices/native")
    for hub in demo.hubs.values():
        assert hub.token not in reply.text


async def test_native_devices_include_twins(demo):
    reply = await demo.client.get("/api/devices/native")
    assert reply.status_code == 200
    devices = {device["uid"]: device for device in reply.json()["devices"]}
    assert devices["garage:1204"]["twinOf"] == "main:12"
    assert devices["garage:1204"]["label"] == "Kitchen Ceiling"
    assert len(devices) == catalog_size("main-hub") + catalog_size("garage-hub")


def _expected_path():
    from conftest import fixtures_dir

    return fixtures_dir() / "hubitat" / "expected.json"


def catalog_size(folder: str) -> int:
    from conftest import fixtures_dir

    return len(json.loads((fixtures_dir() / "hubitat" / folder / "devices_all.json").read_text()))


async def test_native_devices_match_expected_kinds(demo):
    expected = json.loads(_expected_path().read_text())
    reply = await demo.client.get("/api/devices/native")
    devices = {device["uid"]: device for device in reply.json()["devices"]}
    for uid, facts in expected.items():
        assert devices[uid]["kind"] == facts["kind"], uid
        assert devices[uid]["label"] == facts["label"], uid


async def test_device_info_detail(demo):
    reply = await demo.client.get("/api/device/main:12/info")
    assert reply.status_code == 200
    device = reply.json()["device"]
    assert device["uid"] == "main:12"
    assert device["hubUrl"] == f"http://{demo.hubs['main'].host}/device/edit/12"
    commands = {command["name"]: command for command in device["commands"]}
    assert "setLevel" in commands
    assert set(commands["setLevel"]) == {"name", "argTypes", "argTypesKnown"}
    assert "garage:1204" in device["twins"]
    assert "level" in device["attributes"]


async def test_device_info_accepts_percent_encoded_uid(demo):
    reply = await demo.client.get("/api/device/main%3A53/info")
    assert reply.status_code == 200
    assert reply.json()["device"]["uid"] == "main:53"


async def test_device_info_unknown_uid(demo):
    reply = await demo.client.get("/api/device/main:99999/info")
    assert_error(reply, 404, reply.json()["error"]["code"])


async def test_device_info_garbage_uid(demo):
    reply = await demo.client.get("/api/device/%00%ff::/info")
    assert 400 <= reply.status_code < 500
    assert set(reply.json()["error"]) == {"code", "message"}


async def test_command_round_trip(demo):
    sim = demo.sims["main"]
    before = len(sim.command_log)
    reply = await demo.client.post("/api/device/main:53/command", json={"command": "on"})
    assert reply.status_code == 200, reply.text
    assert len(sim.command_log) == before + 1

    async def porch_on() -> bool:
        info = await demo.client.get("/api/device/main:53/info")
        return info.json()["device"]["attributes"]["switch"]["value"] == "on"

    await wait_until(porch_on, what="Porch Light reported on")
    await demo.client.post("/api/device/main:53/command", json={"command": "off", "args": []})


async def test_command_legacy_value_is_one_arg(demo):
    sim = demo.sims["main"]
    before = len(sim.command_log)
    reply = await demo.client.post(
        "/api/device/main:12/command", json={"command": "setLevel", "value": 40}
    )
    assert reply.status_code == 200, reply.text
    assert len(sim.command_log) == before + 1


async def test_command_unknown_command_sends_nothing(demo):
    sim = demo.sims["main"]
    before = len(sim.command_log)
    reply = await demo.client.post("/api/device/main:53/command", json={"command": "explode"})
    message = assert_error(reply, 400, reply.json()["error"]["code"])
    assert "explode" in message
    assert len(sim.command_log) == before


async def test_command_unknown_device(demo):
    reply = await demo.client.post("/api/device/main:424242/command", json={"command": "on"})
    assert_error(reply, 404, reply.json()["error"]["code"])


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "invalid_command", '"command"'),
        ({"command": 5}, "invalid_command", "a number"),
        ({"command": ""}, "invalid_command", '"command"'),
        ({"command": "on", "args": "x"}, "invalid_args", '"args"'),
        ({"command": "on", "args": [None]}, "invalid_args", "argument 1"),
        ({"command": "on", "args": [[1]]}, "invalid_args", "an array"),
        ({"command": "on", "args": [], "value": 1}, "invalid_args", "not both"),
        ({"command": "x" * 65}, "invalid_command", "64"),
    ],
)
async def test_command_body_errors(demo, body, code, field):
    sim = demo.sims["main"]
    before = len(sim.command_log)
    reply = await demo.client.post("/api/device/main:53/command", json=body)
    message = assert_error(reply, 400, code)
    assert field in message
    assert len(sim.command_log) == before


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"", "invalid_json"),
        (b"[1, 2]", "invalid_body"),
        (b'"on"', "invalid_body"),
        (b"\xff\xfe", "invalid_json"),
        (b'{"command": "on", "args": [NaN]}', "invalid_json"),
        (b'{"command": "on", "args": [1e999]}', "invalid_json"),
        (b"[" * 100000 + b"]" * 100000, "body_too_large"),
    ],
)
async def test_command_malformed_bodies(demo, content, code):
    reply = await demo.client.post(
        "/api/device/main:53/command",
        content=content,
        headers={"content-type": "application/json"},
    )
    status = 413 if code == "body_too_large" else 400
    assert_error(reply, status, code)


async def test_command_deep_nesting_is_400(demo):
    content = b'{"command": "on", "args": [' + b"[" * 5000 + b"]" * 5000 + b"]}"
    reply = await demo.client.post(
        "/api/device/main:53/command",
        content=content,
        headers={"content-type": "application/json"},
    )
    assert_error(reply, 400, reply.json()["error"]["code"])


async def test_command_oversized_body_is_413(demo):
    limit = demo.settings.max_body_bytes
    content = json.dumps({"command": "on", "pad": "x" * limit}).encode()
    reply = await demo.client.post(
        "/api/device/main:53/command",
        content=content,
        headers={"content-type": "application/json"},
    )
    message = assert_error(reply, 413, "body_too_large")
    assert str(limit) in message


async def test_command_chunked_oversized_body_is_413(demo):
    limit = demo.settings.max_body_bytes

    async def chunks():
        for _ in range(limit // 1024 + 2):
            yield b" " * 1024

    reply = await demo.client.post(
        "/api/device/main:53/command",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert_error(reply, 413, "body_too_large")


async def test_command_text_plain_is_415(demo):
    sim = demo.sims["main"]
    before = len(sim.command_log)
    reply = await demo.client.post(
        "/api/device/main:53/command",
        content=b'{"command": "on"}',
        headers={"content-type": "text/plain"},
    )
    message = assert_error(reply, 415, "unsupported_media_type")
    assert "text/plain" in message
    assert len(sim.command_log) == before


async def test_command_get_is_405(demo):
    reply = await demo.client.get("/api/device/main:53/command")
    assert_error(reply, 405, "method_not_allowed")
    assert reply.headers["allow"] == "POST"


async def test_lock_codes_never_leave_the_server(demo):
    codes = json.dumps({"1": {"name": "Dog walker", "code": "90417"}})
    published = []
    bus = demo.services.bus
    subscription = bus.subscribe()
    demo.sims["main"].set_attribute("104", "lockCodes", codes)

    async def lock_codes_event_seen() -> bool:
        while (event := await subscription.next_event(0.05)) is not None:
            if event.type == "device" and event.data["name"] == "lockCodes":
                published.append(event)
        return bool(published)

    await wait_until(lock_codes_event_seen, 10, "the lockCodes event on the bus")
    subscription.close()
    from tiles_edge.api.events import format_event

    assert b"90417" not in format_event(published[0])
    info = await demo.client.get("/api/device/main:104/info")
    assert "90417" not in info.text
    lock_codes = info.json()["device"]["attributes"]["lockCodes"]
    assert lock_codes["raw"] is None
    assert lock_codes["value"] == {"1": {"name": "Dog walker"}}
    assert "90417" not in (await demo.client.get("/api/devices")).text
