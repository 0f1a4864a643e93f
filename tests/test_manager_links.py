"""HubManager links: reconnects, outages, silence, and the webhook and poll transports."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from hubharness import Home, running_home, wait_until
from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tiles_edge.hubs.maker_api import MakerApiClient
from tiles_edge.hubs.manager import HubManager


async def test_socket_drop_reconnects_with_snapshot() -> None:
    async with running_home(("main",)) as home:
        sim = home.sims["main"]
        snapshots = sim.request_log.count(f"/apps/api/{sim.app_id}/devices/all")
        mark = home.reader.mark()
        await sim.drop_eventsockets()
        await home.reader.wait_hub("main", "degraded", since=mark)
        await home.reader.wait_hub("main", "online", since=mark)
        assert sim.request_log.count(f"/apps/api/{sim.app_id}/devices/all") > snapshots

        # Live updates flow again on the new socket.
        mark = home.reader.mark()
        sim.set_attribute("53", "switch", "on")
        await home.reader.wait_device("main:53", "switch", since=mark, source="eventsocket")


async def test_refused_socket_is_degraded_then_recovers() -> None:
    async with running_home(("main",)) as home:
        sim = home.sims["main"]
        sim.faults.refuse_eventsocket = True
        mark = home.reader.mark()
        await sim.drop_eventsockets()
        degraded = await home.reader.wait_hub("main", "degraded", since=mark)
        assert "eventsocket" in degraded.data["reason"]
        # REST still works, so the hub stays degraded rather than offline.
        assert (
            home.reader.matching(
                lambda e: e.type == "hub" and e.data["state"] == "offline", since=mark
            )
            == []
        )

        mark = home.reader.mark()
        sim.faults.refuse_eventsocket = False
        await home.reader.wait_hub("main", "online", since=mark)


async def test_silent_socket_reconnects() -> None:
    async with running_home(("main",), hub_silence_s=0.3) as home:
        sim = home.sims["main"]
        sim.faults.mute_eventsocket = True
        mark = home.reader.mark()
        degraded = await home.reader.wait_hub("main", "degraded", since=mark)
        assert "sent nothing for 0.3 s" in degraded.data["reason"]
        sim.faults.mute_eventsocket = False
        await home.reader.wait_hub("main", "online", since=mark)


async def test_killed_hub_offline_then_back(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tiles_edge.hubs")
    async with running_home(("main", "garage")) as home:
        sim = home.sims["main"]
        port = sim.port
        mark = home.reader.mark()
        await sim.stop()
        offline = await home.reader.wait_hub("main", "offline", since=mark)
        assert "unreachable" in offline.data["reason"]

        # Changed while the hub is down: no event can carry it, only the fresh snapshot.
        device = sim.exposed_device("53")
        assert device is not None
        device.attributes["switch"] = "on"

        mark = home.reader.mark()
        await sim.start(port=port)
        await home.reader.wait_hub("main", "online", since=mark)
        change = await home.reader.wait_device("main:53", "switch", since=mark)
        assert change.data["source"] == "snapshot"
        assert change.data["value"] == "on"
        # The other hub was never affected.
        assert all(e.data["hubId"] == "main" for e in home.reader.seen[mark:] if e.type == "hub")

    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "offline" in r.message]
    assert len(errors) == 1
    assert any("back online" in r.message for r in caplog.records)


async def test_failed_reconnects_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="tiles_edge.hubs")
    async with running_home(("main",), hub_backoff_max_s=0.05) as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        await sim.stop()
        await home.reader.wait_hub("main", "offline", since=mark)
        await wait_until(lambda: sum("still offline" in r.message for r in caplog.records) >= 3)
        offline_errors = [
            r for r in caplog.records if r.levelno >= logging.ERROR and "is offline" in r.message
        ]
        assert len(offline_errors) == 1
        assert sim.token not in caplog.text


async def test_hung_hub_does_not_block_others() -> None:
    async with running_home(("main", "garage"), hub_timeout_s=0.5) as home:
        garage = home.sims["garage"]
        garage.faults.hang = True
        mark = home.reader.mark()
        await garage.drop_eventsockets()
        await home.reader.wait_hub("garage", "offline", since=mark)

        # Main keeps working while garage hangs.
        mark = home.reader.mark()
        home.sims["main"].set_attribute("53", "switch", "on")
        await home.reader.wait_device("main:53", "switch", since=mark)
        result = await home.manager.send_command("main:53", "off", [])
        assert result["hubId"] == "main"
        garage.faults.hang = False
        await home.reader.wait_hub("garage", "online", since=mark)


async def test_hung_command_does_not_block_other_hub() -> None:
    async with running_home(("main", "garage"), hub_timeout_s=30.0) as home:
        garage = home.sims["garage"]
        await home.manager.send_command("garage:6", "on", [])
        garage.faults.hang = True
        stuck = asyncio.create_task(home.manager.send_command("garage:6", "off", []))
        log_size = len(garage.request_log)
        await wait_until(lambda: len(garage.request_log) > log_size)

        result = await home.manager.send_command("main:53", "on", [])
        assert result["hubId"] == "main"
        # The garage command cannot finish while its hub hangs.
        assert not stuck.done()
        garage.faults.hang = False
        assert (await stuck)["command"] == "off"


async def test_wrong_token_offline_with_fix() -> None:
    async with running_home(("main",), wait_online=False) as home:
        home.sims["main"].token = "tok-rotated-abcdef0123456789"
        offline = await home.reader.wait_hub("main", "offline")
        assert "rejected the access token (HTTP 401)" in offline.data["reason"]
        assert "tok-rotated" not in offline.data["reason"]


# Poll transport.


async def test_poll_transport_publishes_diffs() -> None:
    async with running_home(("main",), transport="poll", hub_poll_interval_s=0.1) as home:
        sim = home.sims["main"]
        assert sim.eventsocket_clients == 0
        mark = home.reader.mark()
        sim.set_attribute("53", "switch", "on" if _switch(home, "main:53") == "off" else "off")
        event = await home.reader.wait_device("main:53", "switch", since=mark)
        assert event.data["source"] == "poll"


async def test_poll_transport_goes_offline_and_back() -> None:
    async with running_home(("main",), transport="poll", hub_poll_interval_s=0.1) as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        sim.faults.error_status = 500
        offline = await home.reader.wait_hub("main", "offline", since=mark)
        assert "HTTP 500" in offline.data["reason"]
        sim.faults.error_status = None
        await home.reader.wait_hub("main", "online", since=mark)


def _switch(home: Home, uid: str) -> object:
    return home.manager.get_device(uid).attributes["switch"].raw


# Webhook transport: the simulated hub POSTs to a real loopback receiver that hands the body
# to the manager, as the webhook route does.


class WebhookReceiver:
    def __init__(self) -> None:
        self.manager: HubManager | None = None
        self.port = 0
        self._shutdown = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _receive(self, request: Request) -> Response:
        body = await request.json()
        assert self.manager is not None
        await self.manager.handle_webhook(request.path_params["hub_id"], body)
        return JSONResponse({"accepted": True}, status_code=202)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/hook/{hub_id}", self._receive, methods=["POST"])])
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.accesslog = None
        self._task = asyncio.create_task(
            serve(app, config, shutdown_trigger=self._shutdown.wait)  # type: ignore[arg-type]
        )

    async def stop(self) -> None:
        self._shutdown.set()
        if self._task is not None:
            await self._task


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    hook = WebhookReceiver()
    await hook.start()
    yield hook
    await hook.stop()


async def test_webhook_transport_end_to_end(receiver: WebhookReceiver) -> None:
    async with running_home(("main",), transport="webhook") as home:
        sim = home.sims["main"]
        assert sim.eventsocket_clients == 0
        receiver.manager = home.manager
        api = MakerApiClient(home.configs["main"])
        await api.register_post_url(f"http://127.0.0.1:{receiver.port}/hook/main")
        await api.aclose()

        mark = home.reader.mark()
        sim.set_attribute("200", "power", "2001")
        event = await home.reader.wait_device("main:200", "power", since=mark)
        assert event.data["source"] == "webhook"
        assert event.data["value"] == 2001.0
        health = {h.hub_id: h for h in home.manager.health()}
        assert health["main"].last_webhook_at is not None


async def test_webhook_silence_degrades_hub() -> None:
    async with running_home(("main",), transport="webhook", hub_webhook_silence_s=0.3) as home:
        mark = home.reader.mark()
        degraded = await home.reader.wait_hub("main", "degraded", since=mark)
        assert "no webhook" in degraded.data["reason"]
        assert "postURL" in degraded.data["reason"]

        mark = home.reader.mark()
        await home.manager.handle_webhook(
            "main", {"name": "switch", "value": "on", "deviceId": "53"}
        )
        await home.reader.wait_hub("main", "online", since=mark)


async def test_webhook_system_start_takes_snapshot() -> None:
    async with running_home(("main",), transport="webhook") as home:
        sim = home.sims["main"]
        device = sim.exposed_device("61")
        assert device is not None
        device.attributes["switch"] = "off"
        mark = home.reader.mark()
        await home.manager.handle_webhook(
            "main", {"content": {"name": "systemStart", "value": "2.4.3.158", "deviceId": None}}
        )
        event = await home.reader.wait_device("main:61", "switch", since=mark)
        assert event.data["source"] == "snapshot"
