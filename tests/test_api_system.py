"""Health, status, logs, the route table and the error shape of unknown routes."""

from __future__ import annotations

import logging

import httpx
import pytest
import pytest_asyncio
from apphelpers import running_demo
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from tiles_edge.api.errors import EXCEPTION_HANDLERS
from tiles_edge.api.routes import ROLES, ROUTE_TABLE, route_role
from tiles_edge.app import create_app
from tiles_edge.config import Settings
from tiles_edge.logbuffer import MASK, LogBuffer, SecretMasker

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory):
    async with running_demo(tmp_path_factory.mktemp("system")) as running:
        yield running


async def test_health_reports_database(demo):
    reply = await demo.client.get("/health")
    assert reply.status_code == 200
    body = reply.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["hubs"] == {"total": 2, "online": 2, "degraded": 0, "offline": 0}


async def test_status_counts(demo):
    async with demo.client.stream("GET", "/api/events/stream") as stream:
        assert stream.status_code == 200
        reply = await demo.client.get("/api/status")
    body = reply.json()
    assert reply.status_code == 200
    assert body["version"]
    assert body["uptimeS"] >= 0
    assert body["hubs"]["online"] == 2
    assert body["devices"] > 50
    assert body["sseClients"] == 1


async def test_logs_mask_secrets(demo):
    hub_token = demo.hubs["main"].token
    webhook = await demo.webhook_url("main")
    webhook_token = webhook.rsplit("/", 1)[1]
    log = logging.getLogger("tiles_edge.testing")
    log.warning("calling /devices?access_token=%s now", "plainsecret123")
    log.warning("hub token is %s", hub_token)
    log.warning("posted to %s", webhook)
    log.warning("bare webhook token %s", webhook_token)
    reply = await demo.client.get("/api/logs")
    assert reply.status_code == 200
    text = reply.text
    assert hub_token not in text
    assert webhook_token not in text
    assert "plainsecret123" not in text
    messages = [record["message"] for record in reply.json()["records"]]
    assert f"hub token is {MASK}" in messages
    assert f"calling /devices?access_token={MASK} now" in messages


async def test_logs_keep_last_hundred(demo):
    log = logging.getLogger("tiles_edge.testing")
    for number in range(150):
        log.warning("record %d", number)
    records = (await demo.client.get("/api/logs")).json()["records"]
    assert len(records) == 100
    assert records[-1]["message"] == "record 149"
    assert set(records[-1]) >= {"ts", "time", "level", "logger", "message"}


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_unknown_api_route_is_404_shape(demo, method):
    reply = await demo.client.request(method, "/api/no/such/thing")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"
    assert "/api/no/such/thing" in reply.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/device/main:53/command"),
        ("GET", "/api/modes/main/1"),
        ("GET", "/api/hsm/main/disarm"),
        ("GET", "/api/webhook/event/abc"),
        ("POST", "/api/devices"),
        ("DELETE", "/api/hubs"),
        ("POST", "/health"),
    ],
)
async def test_wrong_method_is_405_shape(demo, method, path):
    reply = await demo.client.request(method, path)
    assert reply.status_code == 405, reply.text
    assert reply.json()["error"]["code"] == "method_not_allowed"


async def test_static_index_served(demo):
    reply = await demo.client.get("/")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/html")
    manifest = await demo.client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.headers["content-type"].startswith("application/manifest+json")


async def test_missing_static_file_is_404_shape(demo):
    reply = await demo.client.get("/no-such-file.js")
    assert reply.status_code == 404
    assert reply.json()["error"]["code"] == "not_found"


async def test_unexpected_error_is_500_shape(caplog):
    async def broken(request):
        raise RuntimeError("boom")

    app = Starlette(routes=[Route("/broken", broken)], exception_handlers=dict(EXCEPTION_HANDLERS))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="tiles_edge.api.errors"):
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            reply = await client.get("/broken")
    assert reply.status_code == 500
    assert reply.json() == {
        "error": {
            "code": "internal_error",
            "message": "the server failed to handle this request; see the server log",
        }
    }
    assert "unexpected error on GET /broken" in caplog.text


async def test_every_route_has_a_role(tmp_path):
    app = create_app(Settings(state_dir=tmp_path))
    for route in app.routes:
        assert isinstance(route, Route | Mount)
        assert route_role(route) in ROLES, route


async def test_route_table_roles():
    roles = {spec.path: spec.role for spec in ROUTE_TABLE}
    assert roles["/health"] == "anonymous"
    assert roles["/api/webhook/event/{token}"] == "anonymous"
    assert roles["/api/webhook/mode/{token}"] == "anonymous"
    assert roles["/api/logs"] == "admin"
    assert roles["/api/events/stream"] == "user"
    # The sign-in doors are the only public API routes besides the hub webhooks.
    sign_in_doors = {
        "/api/auth/setup",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/session",
        "/api/auth/register",
    }
    for path, role in roles.items():
        if path.startswith("/api/") and "webhook" not in path and path not in sign_in_doors:
            assert role in ("user", "admin"), path
    for path in sign_in_doors:
        assert roles[path] == "anonymous", path


async def test_masker_patterns():
    masker = SecretMasker()
    masker.add("supersecretvalue")
    masker.add("on")
    assert masker.mask("x supersecretvalue y") == f"x {MASK} y"
    assert masker.mask("turned on") == "turned on"
    assert masker.mask("Authorization: Bearer abc.def") == f"Authorization: Bearer {MASK}"
    assert masker.mask("postgresql://app:pw@db/x") == f"postgresql://app:{MASK}@db/x"
    assert masker.mask("/api/webhook/mode/AbC_123-x") == f"/api/webhook/mode/{MASK}"


async def test_log_buffer_masks_exceptions():
    buffer = LogBuffer(capacity=10)
    buffer.masker.add("tokentokentoken")
    log = logging.getLogger("tiles_edge.testing.buffer")
    log.addHandler(buffer)
    try:
        try:
            raise RuntimeError("failed with tokentokentoken")
        except RuntimeError:
            log.exception("call failed")
    finally:
        log.removeHandler(buffer)
    records = buffer.records()
    assert records[-1]["message"] == f"call failed: RuntimeError: failed with {MASK}"


async def test_app_without_lifespan_reports_starting(tmp_path):
    app = create_app(Settings(state_dir=tmp_path))
    transport = httpx.ASGITransport(app=app)
    # The Host must pass the allow list, which accepts any IP address.
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        anonymous = await client.get("/api/devices")
        reply = await client.post(
            "/api/auth/login", json={"username": "admin", "password": "some password"}
        )
    assert anonymous.status_code == 401
    assert reply.status_code == 503
    assert reply.json()["error"]["code"] == "starting"


async def test_unread_body_keeps_connection_usable(demo):
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(base_url=demo.url, limits=limits) as client:
        for _ in range(5):
            reply = await client.post(
                "/api/webhook/event/unknown",
                content=b"x" * 4000,
                headers={"content-type": "application/json"},
            )
            assert reply.status_code == 404
            assert reply.headers.get("connection") != "close"
            assert (await client.get("/health")).status_code == 200


async def test_oversized_unread_body_closes_connection(demo):
    limit = demo.settings.max_body_bytes
    reply = await demo.client.post(
        "/api/modes/main/1",
        content=b"x" * (limit * 3),
        headers={"content-type": "application/json"},
    )
    assert reply.headers["connection"] == "close"
    assert (await demo.client.get("/health")).status_code == 200
