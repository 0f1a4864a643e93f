"""The hub configuration routes against the real server and simulated hubs on loopback."""

from __future__ import annotations

import contextlib

import pytest
from apphelpers import DEMO_HUB_NAMES, running_demo, start_simulator, wait_until
from test_sse import SseReader

from tiles_edge.api.hub_config import WEBHOOK_WARNING, mask_token


@contextlib.asynccontextmanager
async def garage_sim():
    sim, config = await start_simulator("garage", DEMO_HUB_NAMES["garage"])
    try:
        yield sim, config
    finally:
        await sim.stop()


def hub_body(config, **changes):
    body = {
        "hubId": config.hub_id,
        "name": config.name,
        "host": config.host,
        "appId": config.app_id,
        "token": config.token,
    }
    body.update(changes)
    return body


def assert_error(reply, status, code, *words):
    assert reply.status_code == status, reply.text
    error = reply.json()["error"]
    assert error["code"] == code
    for word in words:
        assert word in error["message"]


async def test_list_masks_tokens_and_shows_webhook_url(tmp_path):
    async with running_demo(tmp_path, hubs=("main", "garage")) as demo:
        reply = await demo.client.get("/api/hub-config")
        assert reply.status_code == 200
        hubs = {hub["hubId"]: hub for hub in reply.json()["hubs"]}
        assert list(hubs) == ["main", "garage"]
        for hub_id, hub in hubs.items():
            token = demo.hubs[hub_id].token
            assert token not in reply.text
            assert hub["tokenHint"] == "••••" + token[-4:]
            assert hub["webhookUrl"] == demo.url + await demo.webhook_url(hub_id)
            assert hub["health"]["state"] == "online"
            assert hub["lastWebhookAt"] is None
        assert reply.json()["webhookWarning"] == WEBHOOK_WARNING


def test_mask_token_hides_short_tokens():
    assert mask_token("abcdefgh1234") == "••••1234"
    assert mask_token("abc") == "••••"


async def test_add_hub_makes_its_devices_appear_live(tmp_path):
    async with (
        running_demo(tmp_path, hubs=("main",)) as demo,
        garage_sim() as (_sim, config),
        demo.client.stream("GET", "/api/events/stream") as stream,
    ):
        reader = SseReader(stream)
        before = (await demo.client.get("/api/devices")).json()
        assert not any(device["uid"].startswith("garage:") for device in before["devices"])

        reply = await demo.client.post("/api/hub-config", json=hub_body(config))
        assert reply.status_code == 201, reply.text
        assert reply.json()["created"] is True
        assert config.token not in reply.text

        await reader.next_of_type("resync", lambda data: data.get("hubId") == "garage")

        async def garage_listed() -> bool:
            devices = (await demo.client.get("/api/devices")).json()["devices"]
            return any(device["uid"].startswith("garage:") for device in devices)

        await wait_until(garage_listed, what="garage devices in /api/devices")
        assert await demo.services.storage.get_hub_config("garage") is not None
        names = (await demo.client.get("/api/hub-names")).json()["hubs"]
        assert names == {"main": "Main Hub", "garage": "Garage Hub"}


async def test_edit_keeps_token_when_empty_and_reconnects(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        config = demo.hubs["main"]
        reply = await demo.client.post(
            "/api/hub-config",
            json={"hubId": "main", "name": "Upstairs", "token": "", "transport": "poll"},
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["created"] is False
        stored = await demo.services.storage.get_hub_config("main")
        assert stored.token == config.token
        assert stored.name == "Upstairs"
        assert stored.transport == "poll"
        assert demo.services.manager.hub_config("main").transport == "poll"
        await demo.wait_hubs_online()


async def test_wrong_token_on_edit_takes_the_hub_offline(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        reply = await demo.client.post(
            "/api/hub-config", json={"hubId": "main", "token": "wrong-token-123"}
        )
        assert reply.status_code == 200

        def offline() -> bool:
            return [hub.state for hub in demo.services.manager.health()] == ["offline"]

        await wait_until(offline, what="hub main offline with the wrong token")


async def test_delete_drops_hub_and_its_devices(tmp_path):
    async with (
        running_demo(tmp_path, hubs=("main", "garage")) as demo,
        demo.client.stream("GET", "/api/events/stream") as stream,
    ):
        reader = SseReader(stream)
        reply = await demo.client.delete("/api/hub-config/garage")
        assert reply.status_code == 200
        await reader.next_of_type("resync")
        devices = (await demo.client.get("/api/devices")).json()["devices"]
        assert devices
        assert not any(device["uid"].startswith("garage:") for device in devices)
        assert [hub["hubId"] for hub in (await demo.client.get("/api/hubs")).json()["hubs"]] == [
            "main"
        ]
        missing = await demo.client.delete("/api/hub-config/garage")
        assert_error(missing, 404, "hub_not_found", "garage")


async def test_reorder(tmp_path):
    async with running_demo(tmp_path, hubs=("main", "garage")) as demo:
        reply = await demo.client.post("/api/hub-config/order", json={"order": ["garage", "main"]})
        assert reply.status_code == 200
        listed = (await demo.client.get("/api/hub-config")).json()["hubs"]
        assert [hub["hubId"] for hub in listed] == ["garage", "main"]
        assert list(demo.services.manager.hub_names()) == ["garage", "main"]

        partial = await demo.client.post("/api/hub-config/order", json={"order": ["garage"]})
        assert_error(partial, 400, "invalid_field", "order", "main")
        twice = await demo.client.post(
            "/api/hub-config/order", json={"order": ["garage", "garage", "main"]}
        )
        assert_error(twice, 400, "invalid_field", "order")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hubId": "Main Hub"}, "hubId"),
        ({"hubId": 7}, "hubId"),
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "two\nlines"}, "name"),
        ({"host": "http://hub.local/apps"}, "host"),
        ({"host": "user@hub.local"}, "host"),
        ({"host": "hub.local:99999"}, "host"),
        ({"host": ""}, "host"),
        ({"appId": "twelve"}, "appId"),
        ({"appId": True}, "appId"),
        ({"token": "short"}, "token"),
        ({"token": "has spaces in it"}, "token"),
        ({"transport": "carrier-pigeon"}, "transport"),
        ({"order": -1}, "order"),
        ({"order": "1"}, "order"),
        ({"active": "yes"}, "active"),
    ],
)
async def test_bad_fields_are_named(tmp_path, changes, field):
    async with running_demo(tmp_path, hubs=()) as demo:
        body = {
            "hubId": "new",
            "name": "New Hub",
            "host": "127.0.0.1:1",
            "appId": "12",
            "token": "a-valid-token-1234",
        }
        body.update(changes)
        reply = await demo.client.post("/api/hub-config", json=body)
        assert_error(reply, 400, "invalid_field", f"{field}:")
        assert await demo.services.storage.list_hub_configs() == []


async def test_add_without_token_and_unknown_fields(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        body = {"hubId": "new", "name": "New", "host": "127.0.0.1:1", "appId": "12"}
        assert_error(
            await demo.client.post("/api/hub-config", json=body), 400, "invalid_field", "token:"
        )
        body["token"] = "a-valid-token-1234"
        body["colour"] = "red"
        assert_error(
            await demo.client.post("/api/hub-config", json=body), 400, "unknown_field", "colour"
        )
        reply = await demo.client.post(
            "/api/hub-config", content=b"[1, 2]", headers={"content-type": "application/json"}
        )
        assert_error(reply, 400, "invalid_body")
        reply = await demo.client.post(
            "/api/hub-config", content=b"{", headers={"content-type": "application/json"}
        )
        assert_error(reply, 400, "invalid_json")


async def test_hosts_that_are_accepted(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        for index, host in enumerate(
            ["192.168.1.20", "hubitat.local", "http://10.0.0.5:8080/", "[fe80::1]:80"]
        ):
            body = {
                "hubId": f"hub{index}",
                "name": f"Hub {index}",
                "host": host,
                "appId": "12",
                "token": "a-valid-token-1234",
                "active": False,
            }
            reply = await demo.client.post("/api/hub-config", json=body)
            assert reply.status_code == 201, (host, reply.text)
            assert reply.json()["hub"]["host"] == host.rstrip("/")


async def test_webhook_register_sets_post_url_and_warns(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        reply = await demo.client.post("/api/hub-config/main/webhook/register")
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["warning"] == WEBHOOK_WARNING
        assert body["webhookUrl"] == demo.url + await demo.webhook_url("main")
        assert demo.sims["main"].post_url == body["webhookUrl"]

        # The simulator now posts its events to the server: the last webhook time shows.
        demo.sims["main"].set_attribute("53", "switch", "on")

        async def webhook_seen() -> bool:
            hubs = (await demo.client.get("/api/hub-config")).json()["hubs"]
            return hubs[0]["lastWebhookAt"] is not None

        await wait_until(webhook_seen, what="a webhook from main")


async def test_webhook_register_reports_a_rejected_token(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        demo.sims["main"].token = "rotated-on-the-hub-1234"
        reply = await demo.client.post("/api/hub-config/main/webhook/register")
        assert_error(reply, 502, "webhook_register_failed", "access token")
        assert "rotated-on-the-hub" not in reply.text


async def test_webhook_rotate_invalidates_the_old_url(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        old_path = await demo.webhook_url("main")
        reply = await demo.client.post("/api/hub-config/main/webhook/rotate")
        assert reply.status_code == 200
        new_url = reply.json()["webhookUrl"]
        assert new_url != demo.url + old_path
        assert new_url == demo.url + await demo.webhook_url("main")
        event = {"content": {"name": "switch", "value": "on", "deviceId": "53"}}
        assert (await demo.client.post(old_path, json=event)).status_code == 404
        assert (await demo.client.post(new_url, json=event)).status_code == 202
        missing = await demo.client.post("/api/hub-config/nohub/webhook/rotate")
        assert_error(missing, 404, "hub_not_found")


async def test_webhook_silence_shows_degraded_with_reason(tmp_path):
    async with running_demo(tmp_path, hubs=("main",), hub_webhook_silence_s=0.3) as demo:
        reply = await demo.client.post(
            "/api/hub-config", json={"hubId": "main", "transport": "webhook"}
        )
        assert reply.status_code == 200

        async def degraded() -> bool:
            hub = (await demo.client.get("/api/hub-config")).json()["hubs"][0]
            health = hub["health"] or {}
            return health.get("state") == "degraded" and "no webhook" in (health["reason"] or "")

        await wait_until(degraded, what="hub main degraded for webhook silence")


async def test_webhook_url_uses_the_configured_base(tmp_path):
    async with running_demo(
        tmp_path, hubs=("main",), webhook_base_url="https://tiles.example.test/"
    ) as demo:
        hub = (await demo.client.get("/api/hub-config")).json()["hubs"][0]
        assert hub["webhookUrl"] == "https://tiles.example.test" + await demo.webhook_url("main")


async def test_user_cannot_reach_hub_config(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        await demo.add_user("viewer")
        async with demo.signed_in_client("viewer") as viewer:
            for method, path in [
                ("GET", "/api/hub-config"),
                ("POST", "/api/hub-config"),
                ("POST", "/api/hub-config/test"),
                ("POST", "/api/hub-config/order"),
                ("POST", "/api/hub-config/mesh"),
                ("DELETE", "/api/hub-config/main"),
                ("POST", "/api/hub-config/main/webhook/rotate"),
            ]:
                reply = await viewer.request(method, path, json={})
                assert reply.status_code == 403, (method, path, reply.text)
                assert "error" in reply.json()
            assert (await viewer.get("/api/hub-names")).status_code == 200
        async with demo.anonymous_client() as anonymous:
            assert (await anonymous.get("/api/hub-config")).status_code == 401


async def test_discovery_route_reports_disabled(tmp_path) -> None:
    async with running_demo(tmp_path, hubs=()) as demo:
        reply = await demo.client.get("/api/discovery")
        assert reply.status_code == 200
        body = reply.json()
        assert body["enabled"] is False
        assert body["candidates"] == []
        await demo.add_user("viewer")
        async with demo.signed_in_client("viewer") as viewer:
            assert (await viewer.get("/api/discovery")).status_code == 403


async def test_delete_webhook_hub_clears_post_url(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        hub = demo.hubs["main"]
        edit = {
            "hubId": "main", "name": hub.name, "host": hub.host, "appId": hub.app_id,
            "token": "", "transport": "webhook",
        }  # fmt: skip
        assert (await demo.client.post("/api/hub-config", json=edit)).status_code == 200
        assert (await demo.client.post("/api/hub-config/main/webhook/register")).status_code == 200
        assert demo.sims["main"].post_url is not None

        reply = await demo.client.delete("/api/hub-config/main")
        assert reply.status_code == 200
        assert reply.json() == {"deleted": "main", "webhookCleared": True}
        assert demo.sims["main"].post_url is None
