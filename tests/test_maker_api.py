"""MakerApiClient against the simulated hub over loopback, and against raw HTTP stubs."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from hubharness import config_for, free_port, make_sim

from tiles_edge.errors import (
    HubAuthError,
    HubError,
    HubNotFoundError,
    HubReplyError,
    HubTimeoutError,
    HubUnreachableError,
)
from tiles_edge.hubs.maker_api import MakerApiClient, encode_command_arg, redact_token
from tiles_edge.hubs.model import HubConfig
from tiles_edge.simulator import SimulatedHub


@pytest.fixture
async def sim() -> AsyncIterator[SimulatedHub]:
    hub = make_sim("main")
    await hub.start()
    yield hub
    await hub.stop()


@pytest.fixture
async def client(sim: SimulatedHub) -> AsyncIterator[MakerApiClient]:
    api = MakerApiClient(config_for("main", sim), timeout_s=5.0)
    yield api
    await api.aclose()


@asynccontextmanager
async def raw_http_stub(reply: bytes) -> AsyncIterator[int]:
    """Serve one fixed raw HTTP reply to every loopback connection and yield the port."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def stub_config(port: int) -> HubConfig:
    return HubConfig("stub", "Stub Hub", f"127.0.0.1:{port}", "5", "tok-stub-0123456789abcdef")


# Reading.


async def test_devices_lists_exposed_devices(client: MakerApiClient, sim: SimulatedHub) -> None:
    devices = await client.devices()
    assert {d["id"] for d in devices} == {d.device_id for d in sim.exposed_devices()}
    assert "999" not in {d["id"] for d in devices}


async def test_devices_all_returns_demo_catalog(client: MakerApiClient) -> None:
    devices = await client.devices_all()
    assert len(devices) == 47
    kitchen = next(d for d in devices if d["id"] == "12")
    assert kitchen["label"] == "Kitchen Ceiling"
    assert kitchen["attributes"]["switch"] == "on"


async def test_device_detail_and_commands(client: MakerApiClient) -> None:
    detail = await client.device("12")
    assert detail["id"] == "12"
    assert isinstance(detail["attributes"], list)

    commands = await client.device_commands("12")
    by_name = {entry["command"]: entry["type"] for entry in commands}
    assert by_name["on"] == ["n/a"]
    assert by_name["setLevel"][0] == "NUMBER"


async def test_device_events_carry_units(client: MakerApiClient, sim: SimulatedHub) -> None:
    sim.set_attribute("200", "power", "1234", unit="W")
    events = await client.device_events("200")
    newest = events[0]
    assert newest["name"] == "power"
    assert newest["value"] == "1234"
    assert newest["unit"] == "W"


async def test_modes_and_set_mode(client: MakerApiClient) -> None:
    modes = await client.modes()
    assert {m["name"] for m in modes} == {"Day", "Evening", "Night", "Away"}
    night = next(m for m in modes if m["name"] == "Night")

    reply = await client.set_mode(night["id"])
    assert next(m for m in reply if m["name"] == "Night")["active"] is True


async def test_hsm_and_set_hsm(client: MakerApiClient) -> None:
    assert await client.hsm() == "armedHome"
    assert await client.set_hsm("disarm") == "disarmed"
    assert await client.hsm() == "disarmed"


async def test_set_hsm_rejects_unknown_action(client: MakerApiClient, sim: SimulatedHub) -> None:
    before = len(sim.request_log)
    with pytest.raises(ValueError, match="unknown HSM action"):
        await client.set_hsm("selfDestruct")
    assert len(sim.request_log) == before


async def test_post_url_register_and_clear(client: MakerApiClient, sim: SimulatedHub) -> None:
    url = "http://127.0.0.1:9/api/webhook/event/abc?x=1&y=2"
    await client.register_post_url(url)
    assert sim.post_url == url
    await client.clear_post_url()
    assert sim.post_url is None


# Commands.


async def test_command_without_arguments(client: MakerApiClient, sim: SimulatedHub) -> None:
    reply = await client.send_command("53", "on")
    assert sim.command_log == [("53", "on", [])]
    # The reply is the device as it was before the command.
    assert isinstance(reply, dict)
    before = {a["name"]: a["currentValue"] for a in reply["attributes"]}
    assert before["switch"] == "off"


async def test_command_arguments_comma_separated(client: MakerApiClient, sim: SimulatedHub) -> None:
    await client.send_command("12", "setLevel", [40, "2"])
    assert sim.command_log == [("12", "setLevel", ["40", "2"])]


async def test_set_color_sends_compact_json(client: MakerApiClient, sim: SimulatedHub) -> None:
    color = {"hue": 30, "saturation": 90, "level": 60}
    await client.send_command("47", "setColor", [color])
    assert sim.command_log == [("47", "setColor", ['{"hue":30,"saturation":90,"level":60}'])]


def test_command_arguments_percent_encoded() -> None:
    assert encode_command_arg("a,b/c d") == "a%2Cb%2Fc%20d"
    assert encode_command_arg({"hue": 1}) == "%7B%22hue%22%3A1%7D"
    assert encode_command_arg(True) == "true"
    assert encode_command_arg(21.5) == "21.5"


async def test_unknown_command_error_key(client: MakerApiClient, sim: SimulatedHub) -> None:
    with pytest.raises(HubReplyError) as caught:
        await client.send_command("53", "selfDestruct")
    assert "Command selfDestruct not found" in caught.value.message
    assert caught.value.hub_id == "main"
    assert sim.command_log == []


async def test_unknown_device_is_not_found(client: MakerApiClient) -> None:
    with pytest.raises(HubNotFoundError) as caught:
        await client.device_commands("4242")
    assert "/devices/4242/commands" in caught.value.message


# Error translation.


async def test_wrong_token_is_auth_error(sim: SimulatedHub) -> None:
    hub = replace(config_for("main", sim), token="tok-wrong-0000000000")
    api = MakerApiClient(hub)
    try:
        with pytest.raises(HubAuthError) as caught:
            await api.devices_all()
    finally:
        await api.aclose()
    message = caught.value.message
    assert "hub 'main' rejected the access token (HTTP 401)" in message
    assert "Settings → Hubs" in message
    assert caught.value.code == "hub_token_rejected"


async def test_wrong_app_id_is_not_found(sim: SimulatedHub) -> None:
    api = MakerApiClient(replace(config_for("main", sim), app_id="999"))
    try:
        with pytest.raises(HubNotFoundError) as caught:
            await api.devices_all()
    finally:
        await api.aclose()
    assert "check the app id and the host" in caught.value.message


async def test_unreachable_port() -> None:
    api = MakerApiClient(stub_config(free_port()), timeout_s=5.0)
    try:
        with pytest.raises(HubUnreachableError) as caught:
            await api.devices_all()
    finally:
        await api.aclose()
    assert not isinstance(caught.value, HubTimeoutError)
    assert "hub 'stub' is unreachable" in caught.value.message


async def test_hang_becomes_timeout(sim: SimulatedHub) -> None:
    sim.faults.hang = True
    api = MakerApiClient(config_for("main", sim), timeout_s=0.3)
    try:
        with pytest.raises(HubTimeoutError) as caught:
            await api.devices_all()
    finally:
        sim.faults.hang = False
        await api.aclose()
    assert "did not answer /devices/all within 0.3 s" in caught.value.message


async def test_error_status_is_reply_error(client: MakerApiClient, sim: SimulatedHub) -> None:
    sim.faults.error_status = 503
    with pytest.raises(HubReplyError) as caught:
        await client.devices_all()
    assert "HTTP 503" in caught.value.message


async def test_modes_not_allowed_is_reply_error(sim: SimulatedHub) -> None:
    sim.modes_enabled = False
    api = MakerApiClient(config_for("main", sim))
    try:
        with pytest.raises(HubReplyError) as caught:
            await api.modes()
    finally:
        await api.aclose()
    assert "HTTP 400" in caught.value.message
    assert "Modes access is not enabled" in caught.value.message


async def test_non_json_reply_is_reply_error() -> None:
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>"
    async with raw_http_stub(reply) as port:
        api = MakerApiClient(stub_config(port))
        try:
            with pytest.raises(HubReplyError) as caught:
                await api.devices_all()
        finally:
            await api.aclose()
    assert "not JSON" in caught.value.message


async def test_json_served_as_html_is_parsed() -> None:
    body = json.dumps([{"id": "1", "name": "Plug"}]).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n\r\n"
    async with raw_http_stub(head.encode() + body) as port:
        api = MakerApiClient(stub_config(port))
        try:
            devices = await api.devices()
        finally:
            await api.aclose()
    assert devices == [{"id": "1", "name": "Plug"}]


async def test_redirect_not_followed() -> None:
    reply = (
        b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\n\r\n"
    )
    async with raw_http_stub(reply) as port:
        api = MakerApiClient(stub_config(port))
        try:
            with pytest.raises(HubReplyError) as caught:
                await api.devices_all()
        finally:
            await api.aclose()
    assert "redirected /devices/all (HTTP 302)" in caught.value.message


# The token never leaks.


def _exception_text(err: BaseException) -> str:
    return "".join(traceback.format_exception(err)) + repr(err)


async def test_token_absent_from_logs_and_errors(
    sim: SimulatedHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The app quiets these loggers; this test wants every URL httpx would log.
    caplog.set_level(logging.DEBUG, logger="httpx")
    caplog.set_level(logging.DEBUG, logger="httpcore")
    token = sim.token
    hub = config_for("main", sim)
    api = MakerApiClient(hub, timeout_s=0.3)
    failures: list[HubError] = []

    async def expect_failure(call: Callable[[], Awaitable[object]]) -> None:
        try:
            await call()
        except HubError as err:
            failures.append(err)
        else:
            raise AssertionError("the call was expected to fail")

    try:
        await api.devices_all()
        await api.send_command("53", "on")
        await expect_failure(lambda: api.send_command("53", "selfDestruct"))
        sim.faults.error_status = 500
        await expect_failure(api.devices_all)
        sim.faults.error_status = None
        sim.faults.hang = True
        await expect_failure(api.devices_all)
        sim.faults.hang = False
        wrong_app = MakerApiClient(replace(hub, app_id="999"))
        await expect_failure(wrong_app.devices_all)
        await wrong_app.aclose()
        unreachable = MakerApiClient(replace(hub, host=f"127.0.0.1:{free_port()}"))
        await expect_failure(unreachable.devices_all)
        await unreachable.aclose()
    finally:
        sim.faults.hang = False
        await api.aclose()

    assert len(failures) == 5
    # httpx did log the request URLs, with the token redacted.
    assert "access_token=***" in caplog.text
    assert token not in caplog.text
    for err in failures:
        assert token not in _exception_text(err)
    assert token not in repr(api)


def test_redact_token_in_text() -> None:
    text = "GET http://h/apps/api/1/devices?access_token=abc123&x=1 failed for abc123"
    assert redact_token(text, "abc123") == (
        "GET http://h/apps/api/1/devices?access_token=***&x=1 failed for ***"
    )


async def test_shared_client_left_open(sim: SimulatedHub) -> None:
    import httpx

    async with httpx.AsyncClient() as shared:
        api = MakerApiClient(config_for("main", sim), client=shared)
        await api.devices()
        await api.aclose()
        assert not shared.is_closed
