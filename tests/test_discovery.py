"""Discovery on loopback only: probes against fake servers, candidate merging, logging.

Nothing here opens an mDNS socket; the multicast paths are covered by
test_discovery_netns.py inside network namespaces.
"""

from __future__ import annotations

import asyncio
import logging
import time
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from zeroconf import ServiceInfo

from tests.discovery_fakes import FakeServer, fake_hubitat, fake_mediamtx
from tiles_edge.api.discovery import list_candidates
from tiles_edge.discovery import probes, service
from tiles_edge.discovery.advertise import instance_name, short_id
from tiles_edge.discovery.browse import sighting_from_info
from tiles_edge.discovery.candidates import CandidateTable
from tiles_edge.discovery.probes import make_probe_client, probe_hubitat, probe_mediamtx
from tiles_edge.discovery.service import Discovery, host_of


async def started(server: FakeServer) -> FakeServer:
    await server.start()
    return server


async def test_hubitat_probe_confirms_description() -> None:
    hub = await started(fake_hubitat())
    try:
        async with make_probe_client() as client:
            result = await probe_hubitat(client, "127.0.0.1", hub.port)
    finally:
        await hub.stop()
    assert result.confirmed is True
    assert result.detail == "Hubitat hub (Hubitat Elevation C-8)"
    assert hub.requests == ["/api/hubitat.xml"]


async def test_hubitat_probe_falls_back_to_login_page() -> None:
    async def login(request: Request) -> Response:
        return Response("<title>Hubitat Elevation</title>", media_type="text/html")

    async def root(request: Request) -> Response:
        return RedirectResponse("/login", status_code=302)

    server = await started(FakeServer(Starlette(routes=[Route("/", root), Route("/login", login)])))
    try:
        async with make_probe_client() as client:
            result = await probe_hubitat(client, "127.0.0.1", server.port)
    finally:
        await server.stop()
    assert result.confirmed is True
    assert result.detail == "Hubitat hub"


async def test_hubitat_probe_rejects_other_server() -> None:
    other = await started(fake_mediamtx())
    try:
        async with make_probe_client() as client:
            result = await probe_hubitat(client, "127.0.0.1", other.port)
    finally:
        await other.stop()
    assert result.confirmed is False
    assert result.detail == "unconfirmed: HTTP 404 without a Hubitat page"


@pytest.mark.parametrize(
    ("version", "detail"),
    [("v1.17.0", "MediaMTX v1.17.0"), ("1.16.3", "MediaMTX v1.16.3")],
)
async def test_mediamtx_probe_reads_version(version: str, detail: str) -> None:
    server = await started(fake_mediamtx(version=version))
    try:
        async with make_probe_client() as client:
            result = await probe_mediamtx(client, "127.0.0.1", server.port)
    finally:
        await server.stop()
    assert result.confirmed is True
    assert result.detail == detail


@pytest.mark.parametrize(
    ("status", "body", "detail_part"),
    [
        (401, None, "HTTP 401; the MediaMTX API needs credentials"),
        (200, b"<html>router</html>", "not JSON"),
        (200, b'{"name": "something"}', "has no version"),
        (200, b'{"version": "<script>"}', "has no version"),
        (500, b"{}", "HTTP 500"),
        (200, b'{"version": "v1.17.0", "pad": "' + b"x" * 70_000 + b'"}', "larger than 65536"),
    ],
)
async def test_mediamtx_probe_unconfirmed_replies(
    status: int, body: bytes | None, detail_part: str
) -> None:
    server = await started(fake_mediamtx(status=status, body=body))
    try:
        async with make_probe_client() as client:
            result = await probe_mediamtx(client, "127.0.0.1", server.port)
    finally:
        await server.stop()
    assert result.confirmed is False
    assert detail_part in result.detail
    assert "router" not in result.detail


async def test_probe_does_not_follow_redirects() -> None:
    target_hits: list[str] = []

    async def redirect(request: Request) -> Response:
        return RedirectResponse("/elsewhere", status_code=302)

    async def elsewhere(request: Request) -> Response:
        target_hits.append(request.url.path)
        return Response('{"version": "v1.17.0"}', media_type="application/json")

    app = Starlette(routes=[Route("/v3/info", redirect), Route("/elsewhere", elsewhere)])
    server = await started(FakeServer(app))
    try:
        async with make_probe_client() as client:
            result = await probe_mediamtx(client, "127.0.0.1", server.port)
    finally:
        await server.stop()
    assert result.confirmed is False
    assert result.detail == "unconfirmed: HTTP 302 from /v3/info"
    assert target_hits == []


async def test_probe_refused_connection() -> None:
    server = await started(fake_mediamtx())
    port = server.port
    await server.stop()
    async with make_probe_client() as client:
        result = await probe_mediamtx(client, "127.0.0.1", port)
    assert result.confirmed is False
    assert result.detail == "unconfirmed: connection refused or host unreachable"


async def test_probe_times_out_on_silent_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probes, "PROBE_TIMEOUT_S", 0.2)
    accepted = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        accepted.set()

    silent = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        async with make_probe_client() as client:
            result = await probe_mediamtx(client, "127.0.0.1", port)
    finally:
        for writer in writers:
            writer.close()
        silent.close()
        await silent.wait_closed()
    assert accepted.is_set()
    assert result.confirmed is False
    assert result.detail == "unconfirmed: no answer within 0.2 s"


def test_probe_url_brackets_ipv6() -> None:
    assert probes.probe_url("fd00::5", 9997, "/v3/info") == "http://[fd00::5]:9997/v3/info"
    assert probes.probe_url("10.0.0.5", 80, "/") == "http://10.0.0.5:80/"
    assert probes.probe_url("hubitat.local", 80, "/") == "http://hubitat.local:80/"


def info(service_type: str, name: str, port: int, server: str, **txt: str) -> ServiceInfo:
    return ServiceInfo(
        service_type,
        f"{name}.{service_type}",
        port=port,
        properties=txt,
        server=server,
        parsed_addresses=["192.168.1.20"],
    )


def test_sighting_hubitat_type() -> None:
    sighting = sighting_from_info(
        "_hubitat._tcp.local.", info("_hubitat._tcp.local.", "Hub", 80, "hubitat.local.")
    )
    assert sighting is not None
    assert (sighting.kind, sighting.host, sighting.port) == ("hubitat", "192.168.1.20", 80)
    assert sighting.source == "mdns:_hubitat._tcp"
    assert sighting.hostname == "hubitat.local"


@pytest.mark.parametrize(
    ("name", "server", "txt", "kind"),
    [
        ("Garage Hubitat", "garage.local.", {}, "hubitat"),
        ("Hub", "hubitat.local.", {}, "hubitat"),
        ("Hub", "c8.local.", {"model": "Hubitat C-8"}, "hubitat"),
        ("Office Printer", "printer.local.", {"path": "/"}, None),
        ("MOBIUS.TILES on pi", "tiles-ab.local.", {"id": "own-id", "note": "hubitat"}, None),
    ],
)
def test_sighting_http_only_when_hubitat(
    name: str, server: str, txt: dict[str, str], kind: str | None
) -> None:
    sighting = sighting_from_info(
        "_http._tcp.local.", info("_http._tcp.local.", name, 80, server, **txt), own_id="own-id"
    )
    assert (sighting.kind if sighting else None) == kind


def test_sighting_rtsp_probes_api_port() -> None:
    sighting = sighting_from_info(
        "_rtsp._tcp.local.", info("_rtsp._tcp.local.", "Cameras", 8554, "cams.local.")
    )
    assert sighting is not None
    assert (sighting.kind, sighting.port) == ("mediamtx", 9997)
    mediamtx = sighting_from_info(
        "_mediamtx._tcp.local.",
        info("_mediamtx._tcp.local.", "MediaMTX", 9997, "cams.local.", api="/v3"),
    )
    assert mediamtx is not None
    assert (mediamtx.kind, mediamtx.port, mediamtx.txt) == ("mediamtx", 9997, {"api": "/v3"})


def test_table_merges_sources_into_one_entry() -> None:
    table = CandidateTable(clock=lambda: 100.0)
    table.observe("mediamtx", name="10.0.0.9", host="10.0.0.9", port=9997, source="probe:hub-host")
    table.observe("mediamtx", name="Cameras", host="10.0.0.9", port=9997, source="mdns:_rtsp._tcp")
    table.observe("hubitat", name="Hub", host="10.0.0.9", port=80, source="mdns:_hubitat._tcp")
    entries = {entry.kind: entry for entry in table.items()}
    assert len(table) == 2
    assert entries["mediamtx"].sources == ["probe:hub-host", "mdns:_rtsp._tcp"]
    assert entries["mediamtx"].source == "probe:hub-host"
    assert entries["mediamtx"].name == "Cameras"
    assert entries["mediamtx"].addresses == ["10.0.0.9"]
    assert entries["mediamtx"].to_json()["lastSeen"] == 100.0


def test_table_lists_confirmed_first() -> None:
    table = CandidateTable()
    first = table.observe("hubitat", name="A", host="10.0.0.1", port=80, source="mdns:x")
    second = table.observe("hubitat", name="B", host="10.0.0.2", port=80, source="mdns:x")
    table.confirm(second.key, True, "Hubitat hub")
    table.confirm(first.key, False, "unconfirmed: HTTP 404 without a Hubitat page")
    assert [entry["name"] for entry in table.to_json()] == ["B", "A"]
    assert table.to_json()[1]["detail"] == "unconfirmed: HTTP 404 without a Hubitat page"


def test_table_logs_each_candidate_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tiles_edge.discovery.candidates")
    table = CandidateTable()
    for _ in range(5):
        entry = table.observe("hubitat", name="Hub", host="10.0.0.1", port=80, source="mdns:x")
        table.confirm(entry.key, True, "Hubitat hub")
    assert len(caplog.records) == 1
    assert "discovery found hubitat 'Hub' at 10.0.0.1:80" in caplog.records[0].getMessage()

    table.confirm(entry.key, False, "unconfirmed: no answer within 5 s")
    table.confirm(entry.key, False, "unconfirmed: connection refused or host unreachable")
    assert len(caplog.records) == 2
    assert "not confirmed" in caplog.records[1].getMessage()

    table.confirm(entry.key, True, "Hubitat hub")
    assert len(caplog.records) == 3


def test_advertised_names() -> None:
    assert short_id("5F3C9A2B-E1D0-4C7A") == "5f3c9a2b"
    assert instance_name("pi-kitchen.lan") == "MOBIUS.TILES on pi-kitchen"
    assert len(instance_name("x" * 200).encode()) == 63
    with pytest.raises(ValueError, match="no letters or digits"):
        short_id("---")


@pytest.mark.parametrize(
    ("configured", "host"),
    [
        ("192.168.1.5", "192.168.1.5"),
        ("http://hub.lan:8080/", "hub.lan"),
        ("[fd00::5]:80", "fd00::5"),
        ("  ", None),
        ("http://[bad", None),
    ],
)
def test_host_of_configured_hub(configured: str, host: str | None) -> None:
    assert host_of(configured) == host


async def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + 30.0
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def test_sweep_lists_confirmed_hosts_only() -> None:
    mediamtx = await started(fake_mediamtx(version="v1.16.0"))
    refused = await started(fake_mediamtx())
    refused_port = refused.port
    await refused.stop()
    hub_hosts = ["http://localhost", f"127.0.0.2:{refused_port}"]
    discovery = Discovery(
        instance_id="abc12345",
        port=8080,
        mdns=False,
        local_hosts=("127.0.0.1",),
        hub_hosts=lambda: hub_hosts,
        mediamtx_port=mediamtx.port,
    )
    try:
        await discovery.start()
        await wait_for(lambda: len(discovery.table) == 2, "two swept candidates")
        found = {entry["host"]: entry for entry in discovery.candidates()}
    finally:
        await discovery.stop()
        await mediamtx.stop()
    assert set(found) == {"127.0.0.1", "localhost"}
    assert found["127.0.0.1"]["confirmed"] is True
    assert found["127.0.0.1"]["detail"] == "MediaMTX v1.16.0"
    assert found["127.0.0.1"]["source"] == "probe:local"
    assert found["localhost"]["source"] == "probe:hub-host"
    assert discovery.status()["available"] is False


async def test_bind_failure_logged_once_and_start_returns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(**kwargs: object) -> None:
        raise OSError(98, "Address already in use")

    monkeypatch.setattr(service, "AsyncZeroconf", refuse)
    discovery = Discovery(instance_id="abc12345", port=8080, local_hosts=(), sweep_interval_s=0.01)
    await discovery.start()
    try:
        await asyncio.wait_for(discovery.started.wait(), 30)
        assert discovery.available is False
        assert "cannot open the mDNS sockets on port 5353" in str(discovery.reason)
        # Later sweeps run without mDNS and do not repeat the error.
        await discovery.sweep()
        await discovery.sweep()
    finally:
        await discovery.stop()
    messages = [record.getMessage() for record in caplog.records]
    assert sum("discovery is unavailable" in message for message in messages) == 1
    assert discovery.candidates() == []


async def test_api_lists_candidates() -> None:
    discovery = Discovery(instance_id="abc12345", port=8080, mdns=False)
    entry = discovery.table.observe(
        "hubitat", name="<b>Hub</b>", host="10.0.0.1", port=80, source="mdns:_hubitat._tcp"
    )
    discovery.table.confirm(entry.key, True, "Hubitat hub")
    app = Starlette(routes=[Route("/api/discovery", list_candidates)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        app.state.services = SimpleNamespace(discovery=discovery)
        reply = await client.get("/api/discovery")
        app.state.services = SimpleNamespace(discovery=None)
        disabled = await client.get("/api/discovery")
    body = reply.json()
    assert reply.status_code == 200
    assert body["enabled"] is True
    assert body["candidates"][0]["name"] == "<b>Hub</b>"
    assert body["candidates"][0]["confirmed"] is True
    assert body["candidates"][0]["source"] == "mdns:_hubitat._tcp"
    assert disabled.json()["enabled"] is False
    assert disabled.json()["candidates"] == []
