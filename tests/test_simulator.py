"""The embedded hub simulator over real loopback sockets, with httpx and websockets clients."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import websockets
from conftest import fixtures_dir
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tiles_edge.simulator import SimulatedHub

TOKEN = "sim-test-token"
APP_ID = "7"
WAIT_S = 10.0

Frame = dict[str, Any]


def hubitat_fixture(relative: str) -> Any:
    path = fixtures_dir() / "hubitat" / relative
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
async def hub() -> AsyncIterator[SimulatedHub]:
    sim = SimulatedHub.from_demo("main", token=TOKEN, app_id=APP_ID, travel_s=0.05)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


@pytest.fixture
async def client(hub: SimulatedHub) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{hub.base_url}/apps/api/{APP_ID}") as http:
        yield http


async def api_get(client: httpx.AsyncClient, path: str, **kwargs: Any) -> httpx.Response:
    return await client.get(path, params={"access_token": TOKEN}, **kwargs)


async def api_json(client: httpx.AsyncClient, path: str) -> Any:
    response = await api_get(client, path)
    assert response.status_code == 200, response.text
    return json.loads(response.text)


async def next_frame(
    ws: websockets.ClientConnection, match: Callable[[Frame], bool] = lambda frame: True
) -> Frame:
    """Return the next eventsocket frame that ``match`` accepts."""
    async with asyncio.timeout(WAIT_S):
        while True:
            frame = json.loads(await ws.recv())
            if match(frame):
                return frame


async def wait_until(predicate: Callable[[], bool]) -> None:
    """Poll ``predicate`` until it holds, failing after WAIT_S seconds."""
    async with asyncio.timeout(WAIT_S):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.01)


async def connect_eventsocket(hub: SimulatedHub) -> websockets.ClientConnection:
    ws = await websockets.connect(hub.eventsocket_url)
    await hub.wait_for_clients(1)
    return ws


# REST shapes


async def test_devices_list_shape(client: httpx.AsyncClient) -> None:
    devices = await api_json(client, "/devices")
    assert len(devices) == 47
    assert all(set(entry) == {"id", "name", "label", "type", "room"} for entry in devices)
    assert all(isinstance(entry["id"], str) for entry in devices)
    assert "999" not in {entry["id"] for entry in devices}


async def test_devices_all_matches_catalog(client: httpx.AsyncClient) -> None:
    devices = await api_json(client, "/devices/all")
    assert devices == hubitat_fixture("main-hub/devices_all.json")
    kitchen = next(entry for entry in devices if entry["id"] == "12")
    assert kitchen["attributes"]["dataType"] == "NUMBER"
    assert "values" in kitchen["attributes"]


async def test_device_detail_shape(client: httpx.AsyncClient) -> None:
    detail = await api_json(client, "/devices/88")
    assert detail["id"] == "88"
    attributes = {entry["name"]: entry for entry in detail["attributes"]}
    assert attributes["thermostatMode"]["dataType"] == "ENUM"
    assert "heat" in attributes["thermostatMode"]["values"]
    assert attributes["temperature"] == {
        "name": "temperature",
        "currentValue": "66.5",
        "dataType": "NUMBER",
    }
    assert attributes["supportedThermostatModes"]["dataType"] == "JSON_OBJECT"
    assert "Thermostat" in detail["capabilities"]
    assert {"attributes": [{"name": "thermostatMode", "dataType": None}]} in detail["capabilities"]
    assert all(isinstance(command, str) for command in detail["commands"])
    assert "setHeatingSetpoint" in detail["commands"]


@pytest.mark.parametrize("device_id", ["47", "104"])
async def test_device_commands_match_fixture(client: httpx.AsyncClient, device_id: str) -> None:
    commands = await api_json(client, f"/devices/{device_id}/commands")
    expected = hubitat_fixture(f"main-hub/device_commands/{device_id}.json")
    assert {entry["command"]: entry["type"] for entry in commands} == {
        entry["command"]: entry["type"] for entry in expected
    }


async def test_device_events_newest_first(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    hub.set_attribute("160", "temperature", "70.5")
    hub.set_attribute("160", "temperature", "71.0")
    events = await api_json(client, "/devices/160/events")
    temperatures = [event for event in events if event["name"] == "temperature"]
    assert [event["value"] for event in temperatures[:3]] == ["71.0", "70.5", "68.9"]
    assert temperatures[0]["device_id"] == "160"
    assert temperatures[0]["unit"] == "°F"
    assert "deviceId" not in temperatures[0]


async def test_every_reply_is_text_html(client: httpx.AsyncClient) -> None:
    paths = ["/devices", "/devices/all", "/devices/12", "/devices/12/commands"]
    paths += ["/devices/12/events", "/modes", "/hsm", "/devices/12/refresh"]
    for path in paths:
        response = await api_get(client, path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html"), path
        json.loads(response.text)


# Errors


async def test_wrong_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/devices", params={"access_token": "wrong"})
    assert response.status_code == 401
    assert "<error>" in response.text
    assert response.headers["content-type"].startswith("text/html")


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/devices")
    assert response.status_code == 401


async def test_wrong_app_id_is_404_html(hub: SimulatedHub) -> None:
    async with httpx.AsyncClient(base_url=hub.base_url) as http:
        response = await http.get("/apps/api/999/devices", params={"access_token": TOKEN})
    assert response.status_code == 404
    assert response.text.startswith("<html>")
    with pytest.raises(ValueError):
        json.loads(response.text)


async def test_unknown_device_is_404(client: httpx.AsyncClient) -> None:
    for path in ["/devices/4242", "/devices/4242/on", "/devices/4242/events"]:
        response = await api_get(client, path)
        assert response.status_code == 404, path
        assert json.loads(response.text)["error"] is True


async def test_hidden_device_not_exposed(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    assert hub.device("999")["label"] == "Hidden Closet Light"
    response = await api_get(client, "/devices/999")
    assert response.status_code == 404
    response = await api_get(client, "/devices/999/on")
    assert response.status_code == 404
    assert hub.command_log == []


async def test_unknown_command_error_reply(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    body = await api_json(client, "/devices/53/setLevel/50")
    assert body["error"] is True
    assert "setLevel" in body["message"]
    assert hub.command_log == []


async def test_bad_argument_changes_nothing(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    response = await api_get(client, "/devices/12/setLevel/bright")
    assert response.status_code == 500
    assert "bright" in json.loads(response.text)["message"]
    assert hub.command_log == []
    assert hub.device("12")["attributes"]["level"] == "72"


async def test_modes_and_hsm_disabled_are_400(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    hub.modes_enabled = False
    hub.hsm_enabled = False
    for path in ["/modes", "/modes/1", "/hsm", "/hsm/armAway"]:
        response = await api_get(client, path)
        assert response.status_code == 400, path
    assert hub.hsm == "armedHome"


# Commands


async def test_command_reply_is_state_before(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    reply = await api_json(client, "/devices/53/on")
    assert reply["id"] == "53"
    assert reply["attributes"] == [
        {"name": "switch", "currentValue": "off", "dataType": "ENUM", "values": ["on", "off"]}
    ]
    assert hub.device("53")["attributes"]["switch"] == "on"
    assert hub.command_log == [("53", "on", [])]


async def test_set_color_json_map_decoded(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    color = '{"hue":30,"saturation":90,"level":60}'
    await api_json(client, f"/devices/47/setColor/{quote(color, safe='')}")
    assert hub.command_log == [("47", "setColor", [color])]
    attributes = hub.device("47")["attributes"]
    assert (attributes["hue"], attributes["saturation"], attributes["level"]) == ("30", "90", "60")
    assert attributes["colorMode"] == "RGB"


async def test_set_color_unencoded_commas(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    await api_json(client, '/devices/320/setColor/{"hue":15,"saturation":50}')
    assert hub.command_log == [("320", "setColor", ['{"hue":15', '"saturation":50}'])]
    assert hub.device("320")["attributes"]["hue"] == "15"
    assert hub.device("320")["attributes"]["switch"] == "on"


async def test_encoded_comma_stays_in_argument(
    hub: SimulatedHub, client: httpx.AsyncClient
) -> None:
    name = quote("Walker, Dog", safe="")
    await api_json(client, f"/devices/104/setCode/3,1234,{name}")
    assert hub.command_log == [("104", "setCode", ["3", "1234", "Walker, Dog"])]


async def test_encoded_slash_stays_in_argument(
    hub: SimulatedHub, client: httpx.AsyncClient
) -> None:
    await api_json(client, f"/devices/104/setCode/4,9999,{quote('a/b', safe='')}")
    assert hub.command_log == [("104", "setCode", ["4", "9999", "a/b"])]


COMMAND_CASES: list[tuple[str, str, dict[str, str]]] = [
    ("53/on", "53", {"switch": "on"}),
    ("12/off", "12", {"switch": "off"}),
    ("12/setLevel/35", "12", {"level": "35", "switch": "on"}),
    ("12/setLevel/0", "12", {"level": "0", "switch": "off"}),
    ("260/setLevel/150", "260", {"level": "100", "switch": "on"}),
    ("47/setHue/55", "47", {"hue": "55", "colorMode": "RGB"}),
    ("47/setSaturation/40", "47", {"saturation": "40"}),
    ("47/setColorTemperature/4000,80", "47", {"colorTemperature": "4000", "level": "80"}),
    ("105/lock", "105", {"lock": "locked"}),
    ("104/unlock", "104", {"lock": "unlocked"}),
    ("210/setPosition/100", "210", {"position": "100", "level": "100", "windowShade": "open"}),
    ("210/setLevel/0", "210", {"position": "0", "windowShade": "closed"}),
    ("210/startPositionChange/open", "210", {"windowShade": "opening"}),
    ("230/open", "230", {"valve": "open"}),
    ("74/setSpeed/high", "74", {"speed": "high", "switch": "on"}),
    ("74/setSpeed/off", "74", {"speed": "off", "switch": "off"}),
    ("74/cycleSpeed", "74", {"speed": "medium-high"}),
    ("88/cool", "88", {"thermostatMode": "cool", "thermostatOperatingState": "idle"}),
    ("88/emergencyHeat", "88", {"thermostatMode": "emergency heat"}),
    ("88/setThermostatMode/off", "88", {"thermostatMode": "off"}),
    ("88/setHeatingSetpoint/64", "88", {"heatingSetpoint": "64", "thermostatSetpoint": "64"}),
    ("88/setHeatingSetpoint/64", "88", {"thermostatOperatingState": "idle"}),
    ("88/setCoolingSetpoint/72.5", "88", {"coolingSetpoint": "72.5"}),
    ("88/fanOn", "88", {"thermostatFanMode": "on"}),
    ("88/setThermostatFanMode/circulate", "88", {"thermostatFanMode": "circulate"}),
    ("190/push/3", "190", {"pushed": "3"}),
    ("190/hold/4", "190", {"held": "4"}),
    ("190/doubleTap/2", "190", {"doubleTapped": "2"}),
    ("191/release/2", "191", {"released": "2"}),
    ("250/play", "250", {"status": "playing"}),
    ("250/setVolume/45", "250", {"volume": "45", "level": "45"}),
    ("250/mute", "250", {"mute": "muted"}),
    ("181/arrived", "181", {"presence": "present"}),
    ("310/setMode/sleep", "310", {"mode": "sleep"}),
]


@pytest.mark.parametrize(("path", "device_id", "expected"), COMMAND_CASES)
async def test_command_changes_state(
    hub: SimulatedHub,
    client: httpx.AsyncClient,
    path: str,
    device_id: str,
    expected: dict[str, str],
) -> None:
    reply = await api_json(client, f"/devices/{path}")
    assert "error" not in reply
    attributes = hub.device(device_id)["attributes"]
    assert {name: attributes[name] for name in expected} == expected


async def test_cycle_speed_without_speed_list(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    fan = {
        "id": "701",
        "name": "Fan",
        "attributes": {"speed": "low", "supportedFanSpeeds": None, "switch": "off"},
        "commands": [{"command": "cycleSpeed"}],
    }
    hub.add_device(fan)
    await api_json(client, "/devices/701/cycleSpeed")
    attributes = hub.device("701")["attributes"]
    assert (attributes["speed"], attributes["switch"]) == ("medium-low", "on")


async def test_refresh_changes_nothing(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    before = hub.device("88")
    await api_json(client, "/devices/88/refresh")
    assert hub.device("88") == before
    assert hub.command_log == [("88", "refresh", [])]


async def test_command_emits_events(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    async with await connect_eventsocket(hub) as ws:
        await api_json(client, "/devices/12/setLevel/40")
        level = await next_frame(ws)
    assert (level["name"], level["value"]) == ("level", "40")
    assert level["unit"] == "%"
    assert level["deviceId"] == 12
    assert level["type"] == "digital"


async def test_button_push_repeats_emit(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    async with await connect_eventsocket(hub) as ws:
        await api_json(client, "/devices/190/push/2")
        await api_json(client, "/devices/190/push/2")
        first = await next_frame(ws)
        second = await next_frame(ws)
    assert (first["name"], first["value"]) == ("pushed", "2")
    assert second == first


async def test_garage_door_travels(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    async with await connect_eventsocket(hub) as ws:
        await api_json(client, "/devices/220/open")
        assert hub.device("220")["attributes"]["door"] == "opening"
        moving = await next_frame(ws)
        opened = await next_frame(ws, lambda frame: frame["value"] == "open")
        # The contact follows the door after the same delay, as its own event.
        await next_frame(ws, lambda frame: frame["name"] == "contact")
    assert (moving["name"], moving["value"]) == ("door", "opening")
    assert opened["deviceId"] == 220
    assert hub.device("220")["attributes"]["door"] == "open"
    assert hub.device("220")["attributes"]["contact"] == "open"


async def test_shade_open_travels(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    async with await connect_eventsocket(hub) as ws:
        await api_json(client, "/devices/210/open")
        await next_frame(
            ws, lambda frame: frame["name"] == "windowShade" and frame["value"] == "open"
        )
    # windowShade "open" is the last change of the travel, after position and level.
    attributes = hub.device("210")["attributes"]
    assert (attributes["position"], attributes["level"]) == ("100", "100")


# Modes and HSM


async def test_set_mode_emits_mode_name(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    async with await connect_eventsocket(hub) as ws:
        modes = await api_json(client, "/modes/3")
        frame = await next_frame(ws)
    assert [mode["name"] for mode in modes if mode["active"]] == ["Night"]
    assert all(isinstance(mode["id"], int) for mode in modes)
    assert frame["source"] == "LOCATION"
    assert (frame["name"], frame["value"]) == ("mode", "Night")
    assert frame["deviceId"] == 0
    assert frame["displayName"] == "Maple Street"


async def test_unknown_mode_error_reply(client: httpx.AsyncClient) -> None:
    body = await api_json(client, "/modes/77")
    assert body["error"] is True


async def test_hsm_action_changes_state(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    assert await api_json(client, "/hsm") == {"hsm": "armedHome"}
    async with await connect_eventsocket(hub) as ws:
        assert await api_json(client, "/hsm/armAway") == {"hsm": "armedAway"}
        frame = await next_frame(ws)
    assert (frame["name"], frame["value"]) == ("hsmStatus", "armedAway")
    assert await api_json(client, "/hsm") == {"hsm": "armedAway"}
    assert (await api_json(client, "/hsm/bogus"))["error"] is True


# Eventsocket


async def test_eventsocket_frame_shape(hub: SimulatedHub) -> None:
    async with await connect_eventsocket(hub) as ws:
        hub.set_attribute("200", "power", "1900")
        frame = await next_frame(ws)
    assert frame == {
        "source": "DEVICE",
        "name": "power",
        "displayName": "Whole House Power",
        "value": "1900",
        "type": "physical",
        "unit": "W",
        "deviceId": 200,
        "hubId": 0,
        "installedAppId": 0,
        "descriptionText": "Whole House Power power is 1900W",
    }


async def test_eventsocket_absent_fields_null(hub: SimulatedHub) -> None:
    async with await connect_eventsocket(hub) as ws:
        hub.set_attribute("131", "contact", None, event_type=None)
        frame = await next_frame(ws)
    assert (frame["value"], frame["type"], frame["unit"]) == ("null", "null", "null")


async def test_eventsocket_streams_hidden_device(hub: SimulatedHub) -> None:
    async with await connect_eventsocket(hub) as ws:
        hub.set_attribute("999", "switch", "on")
        frame = await next_frame(ws)
    assert frame["deviceId"] == 999
    assert frame["displayName"] == "Hidden Closet Light"


async def test_emit_location_frame(hub: SimulatedHub) -> None:
    async with await connect_eventsocket(hub) as ws:
        hub.emit_location("systemStart", "2.4.3.158")
        frame = await next_frame(ws)
    assert frame["source"] == "LOCATION"
    assert frame["deviceId"] == 0
    assert frame["value"] == "2.4.3.158"
    assert frame["unit"] == "null"


async def test_eventsocket_counts_clients(hub: SimulatedHub) -> None:
    first = await websockets.connect(hub.eventsocket_url)
    second = await websockets.connect(hub.eventsocket_url)
    await hub.wait_for_clients(2)
    assert hub.eventsocket_clients == 2
    await first.close()
    await second.close()
    await wait_until(lambda: hub.eventsocket_clients == 0)


async def test_wait_for_clients_times_out(hub: SimulatedHub) -> None:
    with pytest.raises(TimeoutError):
        await hub.wait_for_clients(1, timeout=0.05)


async def test_drop_eventsockets_closes_abnormally(hub: SimulatedHub) -> None:
    ws = await connect_eventsocket(hub)
    await hub.drop_eventsockets()
    with pytest.raises(websockets.ConnectionClosedError) as closed:
        await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1011
    assert hub.eventsocket_clients == 0


# Faults


async def test_fault_duplicate_frames(hub: SimulatedHub) -> None:
    hub.faults.duplicate_frames = True
    async with await connect_eventsocket(hub) as ws:
        hub.set_attribute("141", "motion", "inactive")
        hub.faults.duplicate_frames = False
        hub.set_attribute("141", "motion", "active")
        frames = [await next_frame(ws) for _ in range(3)]
    assert [frame["value"] for frame in frames] == ["inactive", "inactive", "active"]


async def test_fault_refuse_eventsocket(hub: SimulatedHub) -> None:
    hub.faults.refuse_eventsocket = True
    with pytest.raises(websockets.InvalidStatus) as refused:
        await websockets.connect(hub.eventsocket_url)
    assert refused.value.response.status_code == 403
    hub.faults.refuse_eventsocket = False
    async with await connect_eventsocket(hub):
        assert hub.eventsocket_clients == 1


async def test_fault_mute_eventsocket(hub: SimulatedHub) -> None:
    async with await connect_eventsocket(hub) as ws:
        hub.faults.mute_eventsocket = True
        hub.set_attribute("131", "contact", "open")
        hub.faults.mute_eventsocket = False
        hub.set_attribute("131", "contact", "closed")
        frame = await next_frame(ws)
    assert frame["value"] == "closed"


async def test_fault_error_status(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    hub.faults.error_status = 503
    for path in ["/devices", "/devices/12/on", "/modes"]:
        assert (await api_get(client, path)).status_code == 503, path
    assert hub.command_log == []
    hub.faults.error_status = None
    assert (await api_get(client, "/devices")).status_code == 200


async def test_fault_latency(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    hub.faults.latency_s = 2.0
    # The reply waits at least latency_s, so a much shorter read timeout always expires.
    with pytest.raises(httpx.ReadTimeout):
        await api_get(client, "/devices", timeout=httpx.Timeout(5.0, read=0.05))
    hub.faults.latency_s = 0.0
    assert (await api_get(client, "/devices")).status_code == 200


async def test_fault_hang_until_released(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    hub.faults.hang = True
    with pytest.raises(httpx.ReadTimeout):
        await api_get(client, "/devices", timeout=httpx.Timeout(5.0, read=0.2))
    pending = asyncio.create_task(api_get(client, "/devices/53/on"))
    await wait_until(lambda: len(hub.request_log) == 2)
    assert not pending.done()
    assert hub.command_log == []
    hub.faults.hang = False
    response = await asyncio.wait_for(pending, WAIT_S)
    assert response.status_code == 200
    assert hub.command_log == [("53", "on", [])]


async def test_request_log_has_no_token(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    await api_get(client, "/devices/12")
    assert hub.request_log == [f"/apps/api/{APP_ID}/devices/12"]


# Webhook


class WebhookReceiver:
    """A tiny Starlette app on Hypercorn that stores every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.bodies: asyncio.Queue[Any] = asyncio.Queue()
        self._shutdown = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def _receive(self, request: Request) -> Response:
        await self.bodies.put(await request.json())
        return Response(status_code=204)

    async def start(self) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.graceful_timeout = 1.0
        app = Starlette(routes=[Route("/hook/{token}", self._receive, methods=["POST"])])
        self._task = asyncio.create_task(serve(app, config, shutdown_trigger=self._shutdown.wait))

    async def stop(self) -> None:
        self._shutdown.set()
        if self._task is not None:
            await self._task

    async def next_body(self) -> Any:
        return await asyncio.wait_for(self.bodies.get(), WAIT_S)


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    server = WebhookReceiver()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_webhook_delivers_device_event(
    hub: SimulatedHub, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    url = f"http://127.0.0.1:{receiver.port}/hook/secret-path-token"
    await api_json(client, f"/postURL/{quote(url, safe='')}")
    assert hub.post_url == url
    await api_json(client, "/devices/53/on")
    body = await receiver.next_body()
    assert body == {
        "content": {
            "name": "switch",
            "value": "on",
            "displayName": "Porch Light",
            "deviceId": "53",
            "descriptionText": "Porch Light was turned on",
            "unit": None,
            "type": "digital",
            "data": None,
        }
    }


async def test_webhook_location_event_shape(
    hub: SimulatedHub, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    url = f"http://127.0.0.1:{receiver.port}/hook/abc"
    await api_json(client, f"/postURL/{quote(url, safe='')}")
    await api_json(client, "/modes/1")
    content = (await receiver.next_body())["content"]
    assert content["deviceId"] is None
    assert (content["name"], content["value"]) == ("mode", "Day")
    assert content["type"] == "LOCATION_MODE_CHANGE"


async def test_post_url_cleared(
    hub: SimulatedHub, client: httpx.AsyncClient, receiver: WebhookReceiver
) -> None:
    url = f"http://127.0.0.1:{receiver.port}/hook/abc"
    await api_json(client, f"/postURL/{quote(url, safe='')}")
    await api_json(client, "/postURL")
    assert hub.post_url is None
    hub.set_attribute("53", "switch", "on")
    await api_json(client, f"/postURL/{quote(url, safe='')}")
    hub.set_attribute("53", "switch", "off")
    body = await receiver.next_body()
    assert body["content"]["value"] == "off"


async def test_webhook_failure_logged_once(
    hub: SimulatedHub, caplog: pytest.LogCaptureFixture
) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    hub.post_url = f"http://127.0.0.1:{port}/hook/do-not-log-me"
    caplog.set_level(logging.WARNING, logger="tiles_edge.simulator.webhook")
    for value in ("on", "off", "on"):
        hub.set_attribute("53", "switch", value)
    await wait_until(lambda: hub.webhook.failed == 3)
    failures = [record for record in caplog.records if "could not deliver" in record.getMessage()]
    assert len(failures) == 1
    assert "do-not-log-me" not in caplog.text


# Generator


def history_without_dates(hub: SimulatedHub) -> list[list[tuple[str, Any]]]:
    return [
        [(event["name"], event["value"]) for event in device.history]
        for device in hub.all_devices()
    ]


async def test_generator_deterministic_with_seed() -> None:
    first = SimulatedHub.from_demo("main", seed=7, generator=True)
    second = SimulatedHub.from_demo("main", seed=7, generator=True)
    other = SimulatedHub.from_demo("main", seed=8, generator=True)
    for sim in (first, second, other):
        assert sim.generator is not None
        for _ in range(25):
            sim.generator.step()
    assert history_without_dates(first) == history_without_dates(second)
    assert history_without_dates(first) != history_without_dates(other)
    assert first.device("200")["attributes"]["power"] != "1843"


async def test_generator_keeps_switched_off_loads_at_zero() -> None:
    sim = SimulatedHub.from_demo("main", seed=1, generator=True)
    assert sim.generator is not None
    sim.generator.step()
    assert sim.device("61")["attributes"]["power"] != "0.0"
    sim.set_attribute("201", "switch", "off")
    sim.generator.step()
    assert sim.device("201")["attributes"]["power"] == "0"
    assert sim.device("330")["attributes"]["power"] == "PowerOn"


async def test_generator_emits_while_running() -> None:
    sim = SimulatedHub.from_demo("main", seed=3, generator=True, generator_interval_s=0.01)
    await sim.start()
    try:
        async with await connect_eventsocket(sim) as ws:
            seen: set[tuple[str, str]] = set()
            expected_kinds = {("DEVICE", "power"), ("DEVICE", "999"), ("APP", "ruleState")}

            def note(frame: Frame) -> bool:
                seen.add((frame["source"], frame["name"]))
                if frame["deviceId"] == 999:
                    seen.add(("DEVICE", "999"))
                return expected_kinds <= seen

            await next_frame(ws, note)
    finally:
        await sim.stop()
    assert sim.generator is not None
    assert not sim.generator.running
    steps = sim.generator.steps
    assert steps > 0


# Lifecycle


async def test_stop_is_idempotent_and_frees_port() -> None:
    sim = SimulatedHub.from_demo("garage", token=TOKEN)
    await sim.start()
    port = sim.port
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{sim.base_url}/apps/api/1/devices?access_token={TOKEN}")
        assert len(json.loads(response.text)) == 12
        await sim.stop()
        await sim.stop()
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{port}/apps/api/1/devices")
    again = SimulatedHub.from_demo("garage", token=TOKEN)
    await again.start(port=port)
    try:
        assert again.port == port
    finally:
        await again.stop()


async def test_restart_on_same_port_serves() -> None:
    sim = SimulatedHub.from_demo("main", token=TOKEN)
    await sim.start()
    port = sim.port
    sim.set_attribute("53", "switch", "on")
    await sim.stop()
    await sim.start(port=port)
    try:
        async with httpx.AsyncClient() as http:
            response = await http.get(f"{sim.base_url}/apps/api/1/devices/53?access_token={TOKEN}")
        assert json.loads(response.text)["attributes"][0]["currentValue"] == "on"
        async with await connect_eventsocket(sim):
            assert sim.eventsocket_clients == 1
    finally:
        await sim.stop()


async def test_start_twice_raises(hub: SimulatedHub) -> None:
    with pytest.raises(RuntimeError):
        await hub.start()


async def test_stop_ends_hanging_request(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    hub.faults.hang = True
    pending = asyncio.create_task(api_get(client, "/devices"))
    await wait_until(lambda: len(hub.request_log) == 1)
    await hub.stop()
    response = await asyncio.wait_for(pending, WAIT_S)
    assert response.status_code == 200


# Loading dumps


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


async def test_custom_dump_tolerates_junk(tmp_path: Path) -> None:
    dump = [
        "junk",
        42,
        {"name": "no id"},
        {"id": "", "name": "empty id"},
        {
            "id": 5,
            "name": "Plain Switch",
            "label": None,
            "capabilities": ["Switch", {"attributes": []}],
            "attributes": [
                {"name": "switch", "currentValue": "on", "dataType": "ENUM"},
                {"name": "switch", "currentValue": "off", "dataType": "ENUM"},
            ],
            "commands": ["on", "off", {"command": "refresh"}, 7],
        },
        {"id": "5", "name": "Duplicate id"},
        {"id": "6", "name": "Odd", "attributes": "not a map", "commands": None},
    ]
    sim = SimulatedHub.from_catalog(write_json(tmp_path / "dump.json", dump), token=TOKEN)
    await sim.start()
    try:
        async with httpx.AsyncClient(base_url=f"{sim.base_url}/apps/api/1") as http:
            devices = await api_json(http, "/devices")
            plain = await api_json(http, "/devices/5")
            reply = await api_json(http, "/devices/5/on")
    finally:
        await sim.stop()
    assert [entry["id"] for entry in devices] == ["5", "6"]
    assert plain["name"] == "Plain Switch"
    assert plain["capabilities"] == ["Switch"]
    assert plain["commands"] == ["on", "off", "refresh"]
    assert reply["attributes"][0]["currentValue"] == "off"
    assert sim.device("5")["attributes"]["switch"] == "on"


def test_dump_that_is_not_a_list(tmp_path: Path) -> None:
    sim = SimulatedHub.from_catalog(write_json(tmp_path / "dump.json", "nothing"))
    assert [device.device_id for device in sim.exposed_devices()] == []


def test_catalog_folder_with_options(tmp_path: Path) -> None:
    write_json(tmp_path / "devices_all.json", [{"id": "1", "name": "Lamp", "commands": ["on"]}])
    write_json(tmp_path / "modes.json", [{"id": 9, "name": "Party", "active": True}])
    write_json(tmp_path / "hsm.json", {"hsm": "armedNight"})
    (tmp_path / "device_commands").mkdir()
    write_json(tmp_path / "device_commands" / "1.json", [{"command": "on", "type": ["n/a"]}])
    sim = SimulatedHub.from_catalog(tmp_path, name="Test Hub")
    assert sim.modes == [{"active": True, "id": 9, "name": "Party"}]
    assert sim.hsm == "armedNight"
    assert sim.device("1")["commands"] == [{"command": "on"}]
    assert sim.exposed_devices()[0].to_commands() == [{"command": "on", "type": ["n/a"]}]


def test_fixture_folder_loads_command_types() -> None:
    sim = SimulatedHub.from_catalog(fixtures_dir() / "hubitat" / "main-hub")
    device = sim.exposed_device("104")
    assert device is not None
    assert device.to_commands() == hubitat_fixture("main-hub/device_commands/104.json")
    assert sim.hsm == "armedHome"


def test_demo_hubs() -> None:
    main = SimulatedHub.from_demo("main")
    garage = SimulatedHub.from_demo("garage")
    assert (main.name, garage.name) == ("Main Hub", "Garage Hub")
    assert len(main.exposed_devices()) == 47
    assert len(garage.exposed_devices()) == 12
    assert [mode["name"] for mode in garage.modes if mode["active"]] == ["Evening"]
    with pytest.raises(ValueError, match="garage"):
        SimulatedHub.from_demo("attic")


async def test_add_and_remove_device(hub: SimulatedHub, client: httpx.AsyncClient) -> None:
    hub.add_device({"id": "700", "name": "New Plug", "attributes": {"switch": "off"}})
    ids = {entry["id"] for entry in await api_json(client, "/devices")}
    assert "700" in ids
    hub.remove_device("700")
    ids = {entry["id"] for entry in await api_json(client, "/devices")}
    assert "700" not in ids
    with pytest.raises(ValueError):
        hub.add_device({"name": "no id"})
