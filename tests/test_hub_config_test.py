"""The hub connection test: simulated hubs and misbehaving HTTP stubs on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket

import pytest
from apphelpers import running_demo

from tiles_edge.hubs.hub_test import FETCH_MAX_BYTES, bounded_get, check_hub_connection

ONE_MIB = 1024 * 1024


@contextlib.asynccontextmanager
async def http_stub(reply):
    """Serve ``reply(writer)`` to every request on a loopback port; yields the stub's state."""
    state = {"requests": []}
    hang = asyncio.Event()

    async def handle(reader, writer):
        try:
            request = await reader.readuntil(b"\r\n\r\n")
            state["requests"].append(request.split(b"\r\n", 1)[0].decode())
            await reply(writer, state, hang)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # The client closed the connection: the limits under test do that.
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state["host"] = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield state
    finally:
        hang.set()
        server.close()
        await server.wait_closed()


def head(status, content_type="text/html", length=None, extra=""):
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", "Connection: close"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def redirect(writer, state, hang):
    writer.write(head(302, length=0, extra="Location: http://127.0.0.1:9/elsewhere"))
    await writer.drain()


async def hangs(writer, state, hang):
    await hang.wait()


async def drips(writer, state, hang):
    writer.write(head(200, "application/json"))
    writer.write(b"[")
    await writer.drain()
    while not hang.is_set():
        writer.write(b" ")
        await writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hang.wait(), 0.05)


async def one_mib(writer, state, hang):
    writer.write(head(200, "application/json", length=ONE_MIB))
    chunk = b"x" * 16384
    for _ in range(ONE_MIB // len(chunk)):
        writer.write(chunk)
        await writer.drain()


async def html_page(writer, state, hang):
    body = b"<!DOCTYPE html><html><body>Router login</body></html>"
    writer.write(head(200, length=len(body)) + body)
    await writer.drain()


async def big_device_list(writer, state, hang):
    devices = [{"id": str(n), "name": f"Device {n}", "label": f"Device {n}"} for n in range(3000)]
    body = json.dumps(devices).encode()
    writer.write(head(200, length=len(body)) + body)
    await writer.drain()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_redirect_is_not_followed():
    async with http_stub(redirect) as stub:
        result = await check_hub_connection(stub["host"], "12", "token-1234")
    assert result.diagnosis == "redirect"
    assert "redirect" in result.message
    assert len(stub["requests"]) == 1


async def test_hanging_server_times_out():
    async with http_stub(hangs) as stub:
        result = await check_hub_connection(stub["host"], "12", "token-1234", timeout_s=0.5)
    assert result.diagnosis == "timeout"
    assert "did not answer" in result.message


async def test_dripping_server_times_out():
    async with http_stub(drips) as stub:
        result = await check_hub_connection(stub["host"], "12", "token-1234", timeout_s=0.5)
    assert result.diagnosis == "timeout"


async def test_reading_stops_at_the_byte_limit():
    async with http_stub(one_mib) as stub:
        fetch = await bounded_get(f"http://{stub['host']}/apps/api/12/devices")
        assert fetch.truncated
        assert len(fetch.body) == FETCH_MAX_BYTES
        result = await check_hub_connection(stub["host"], "12", "token-1234")
    assert result.diagnosis == "not_hubitat"
    assert "64 KiB" in result.message


async def test_html_reply_is_not_a_hub():
    async with http_stub(html_page) as stub:
        result = await check_hub_connection(stub["host"], "12", "token-1234")
    assert result.diagnosis == "not_hubitat"
    assert "HTML page" in result.message
    assert "Router login" not in json.dumps(result.to_json())


async def test_large_device_list_counts_what_was_read():
    async with http_stub(big_device_list) as stub:
        result = await check_hub_connection(stub["host"], "12", "token-1234")
    assert result.diagnosis == "ok"
    assert result.device_count_partial
    assert 0 < result.device_count < 3000


async def not_found_json(writer, state, hang):
    body = b'{"error": {"code": "not_found", "message": "no API route"}}'
    writer.write(head(404, "application/json", length=len(body)) + body)
    await writer.drain()


async def test_server_answering_404_is_not_a_hub():
    async with http_stub(not_found_json) as stub:
        result = await check_hub_connection(stub["host"], "101", "token")
    assert result.diagnosis == "not_hubitat"
    assert "does not look like a Hubitat hub" in result.message
    # The Maker API call, then the probe's paths: no redirects followed, no other host.
    assert stub["requests"][0].startswith("GET /apps/api/101/devices?")
    assert {line.split()[1] for line in stub["requests"][1:]} == {"/api/hubitat.xml", "/", "/login"}


async def test_closed_port_is_unreachable():
    result = await check_hub_connection(f"127.0.0.1:{closed_port()}", "12", "token-1234")
    assert result.diagnosis == "unreachable"
    assert "cannot connect" in result.message


async def test_token_stays_out_of_the_summary():
    async with http_stub(html_page) as stub:
        result = await check_hub_connection(stub["host"], "12", "secret-token-987")
    assert "secret-token-987" not in json.dumps(result.to_json())
    assert stub["requests"][0].startswith("GET /apps/api/12/devices?access_token=")


# Through the API, against the simulated hub.


async def post_test(demo, **body):
    reply = await demo.client.post("/api/hub-config/test", json=body)
    assert reply.status_code == 200, reply.text
    return reply.json()


async def test_api_test_of_a_good_hub_reports_counts(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        config = demo.hubs["main"]
        result = await post_test(demo, host=config.host, appId=config.app_id, token=config.token)
        assert result["ok"] is True
        assert result["diagnosis"] == "ok"
        assert result["deviceCount"] == demo.services.manager.health()[0].device_count > 0
        assert result["modes"]["ok"] is True
        assert result["modes"]["count"] > 0
        assert result["hsm"]["ok"] is True
        assert config.token not in json.dumps(result)


async def test_api_test_reuses_the_stored_token(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        result = await post_test(demo, hubId="main")
        assert result["diagnosis"] == "ok"
        missing = await demo.client.post("/api/hub-config/test", json={"hubId": "nohub"})
        assert missing.status_code == 404


async def test_api_test_reports_hsm_not_allowed(tmp_path):
    async with running_demo(tmp_path, hubs=("main",), sim_options={"hsm_enabled": False}) as demo:
        result = await post_test(demo, hubId="main")
        assert result["diagnosis"] == "ok"
        assert result["hsm"]["ok"] is False
        assert result["hsm"]["reason"]


@pytest.mark.parametrize(
    ("changes", "diagnosis", "words"),
    [
        ({"token": "wrong-token-1234"}, "token_rejected", ("rejected the access token",)),
        ({"appId": "999"}, "not_found", ("no Maker API app 999",)),
    ],
)
async def test_api_test_diagnoses_wrong_values(tmp_path, changes, diagnosis, words):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        config = demo.hubs["main"]
        body = {"host": config.host, "appId": config.app_id, "token": config.token}
        body.update(changes)
        result = await post_test(demo, **body)
        assert result["ok"] is False
        assert result["diagnosis"] == diagnosis
        for word in words:
            assert word in result["message"]


async def test_api_test_messages_differ_per_failure(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        config = demo.hubs["main"]
        good = {"host": config.host, "appId": config.app_id, "token": config.token}
        messages = {
            (await post_test(demo, **{**good, "token": "wrong-token-1234"}))["message"],
            (await post_test(demo, **{**good, "appId": "999"}))["message"],
            (await post_test(demo, **{**good, "host": f"127.0.0.1:{closed_port()}"}))["message"],
        }
        assert len(messages) == 3


async def test_api_test_validates_its_fields(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        reply = await demo.client.post(
            "/api/hub-config/test", json={"host": "a b", "appId": "1", "token": "token-1234"}
        )
        assert reply.status_code == 400
        assert reply.json()["error"]["message"].startswith("host:")
        reply = await demo.client.post(
            "/api/hub-config/test", json={"host": "127.0.0.1", "appId": "1", "url": "x"}
        )
        assert reply.json()["error"]["code"] == "unknown_field"
