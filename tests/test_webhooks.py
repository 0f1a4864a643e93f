"""Hub webhooks: per-hub tokens, accepted shapes, and identical replies to every rejection."""

from __future__ import annotations

import hashlib
import json
import stat

import pytest
import pytest_asyncio
from apphelpers import running_demo, wait_until

from tiles_edge.hubs.webhook_tokens import (
    SECRET_KEY_BYTES,
    WebhookTokens,
    load_secret_key,
    rotate_webhook_token,
    webhook_path,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory):
    async with running_demo(tmp_path_factory.mktemp("webhooks")) as running:
        yield running


async def attribute_value(demo, uid: str, name: str):
    reply = await demo.client.get(f"/api/device/{uid}/info")
    return reply.json()["device"]["attributes"][name]["value"]


def event_body(device_id: str | None, name: str, value, **extra) -> dict:
    content = {
        "name": name,
        "value": value,
        "displayName": "x",
        "deviceId": device_id,
        "descriptionText": None,
        "unit": None,
        "type": None,
        "data": None,
    }
    content.update(extra)
    return {"content": content}


async def test_event_webhook_updates_state(demo):
    path = await demo.webhook_url("main")
    sent = len(demo.sims["main"].command_log)
    reply = await demo.client.post(path, json=event_body("131", "contact", "open"))
    assert reply.status_code == 202, reply.text

    async def front_door_open() -> bool:
        return await attribute_value(demo, "main:131", "contact") == "open"

    await wait_until(front_door_open, what="Front Door contact open")
    assert len(demo.sims["main"].command_log) == sent


async def test_bare_event_is_accepted(demo):
    path = await demo.webhook_url("main")
    body = event_body("140", "motion", "active")["content"]
    reply = await demo.client.post(path, json=body)
    assert reply.status_code == 202

    async def motion_active() -> bool:
        return await attribute_value(demo, "main:140", "motion") == "active"

    await wait_until(motion_active, what="Living Room Motion active")


async def test_fixture_webhook_bodies_are_accepted(demo):
    from conftest import fixtures_dir

    path = await demo.webhook_url("main")
    lines = (fixtures_dir() / "hubitat" / "events" / "webhook-main.jsonl").read_text()
    for line in lines.splitlines():
        if not line.strip():
            continue
        reply = await demo.client.post(
            path, content=line.encode(), headers={"content-type": "application/json"}
        )
        assert reply.status_code == 202, line


async def test_mode_webhook(demo):
    path = await demo.webhook_url("main", "mode")
    body = event_body(None, "mode", "Away", type="LOCATION_MODE_CHANGE")
    reply = await demo.client.post(path, json=body)
    assert reply.status_code == 202

    async def away_active() -> bool:
        modes = (await demo.client.get("/api/modes")).json()["modes"]["main"]
        return any(mode["active"] and mode["name"] == "Away" for mode in modes)

    await wait_until(away_active, what="Away mode active on main")


async def test_mode_webhook_rejects_device_events(demo):
    path = await demo.webhook_url("main", "mode")
    reply = await demo.client.post(path, json=event_body("53", "switch", "on"))
    assert reply.status_code == 404


async def test_webhook_token_is_per_hub(demo):
    main = await demo.webhook_url("main")
    garage = await demo.webhook_url("garage")
    assert main != garage
    reply = await demo.client.post(garage, json=event_body("10", "motion", "active"))
    assert reply.status_code == 202

    async def driveway_active() -> bool:
        return await attribute_value(demo, "garage:10", "motion") == "active"

    await wait_until(driveway_active, what="Driveway Motion active")


async def test_token_strength_and_storage(demo):
    path = await demo.webhook_url("main")
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits in unpadded base64url
    stored = await demo.services.storage.get_hub_webhook_secrets()
    assert stored["main"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(stored)


async def rejected_reply(demo, path, **kwargs):
    before = await attribute_value(demo, "main:53", "switch")
    sent = len(demo.sims["main"].command_log)
    reply = await demo.client.post(path, **kwargs)
    assert reply.status_code == 404, reply.text
    assert await attribute_value(demo, "main:53", "switch") == before
    assert len(demo.sims["main"].command_log) == sent
    return reply.json()


async def test_rejections_look_the_same(demo):
    good = await demo.webhook_url("main")
    toggled = "on" if await attribute_value(demo, "main:53", "switch") == "off" else "off"
    valid = event_body("53", "switch", toggled)
    limit = demo.settings.max_body_bytes
    cases = {
        "wrong token": dict(path="/api/webhook/event/" + "A" * 43, json=valid),
        "empty-ish token": dict(path="/api/webhook/event/x", json=valid),
        "garbage": dict(
            path=good, content=b"\x00\xffgarbage", headers={"content-type": "application/json"}
        ),
        "array": dict(path=good, json=[valid]),
        "no name": dict(path=good, json={"content": {"value": "on", "deviceId": "53"}}),
        "no value": dict(path=good, json={"content": {"name": "switch", "deviceId": "53"}}),
        "object value": dict(path=good, json=event_body("53", "switch", {"x": 1})),
        "bool device id": dict(path=good, json=event_body(True, "switch", "on")),
        "content not object": dict(path=good, json={"content": "switch on"}),
        "text/plain": dict(
            path=good,
            content=json.dumps(valid).encode(),
            headers={"content-type": "text/plain"},
        ),
        "form": dict(path=good, data={"name": "switch", "value": "on"}),
        "oversize": dict(
            path=good,
            content=json.dumps({**valid, "pad": "x" * limit}).encode(),
            headers={"content-type": "application/json"},
        ),
    }
    replies = {}
    for case, kwargs in cases.items():
        kwargs = dict(kwargs)
        path = kwargs.pop("path")
        replies[case] = await rejected_reply(demo, path, **kwargs)
    first = replies["wrong token"]
    assert first["error"]["code"] == "webhook_rejected"
    for case, body in replies.items():
        assert body == first, case


async def test_webhook_get_is_405(demo):
    reply = await demo.client.get(await demo.webhook_url("main"))
    assert reply.status_code == 405


async def test_rejected_webhook_logs_without_token(demo):
    good = await demo.webhook_url("main")
    token = good.rsplit("/", 1)[1]
    await demo.client.post(good, content=b"nope", headers={"content-type": "text/plain"})
    records = demo.services.logs.records()
    assert all(token not in record["message"] for record in records)


async def test_rotation_invalidates_old_token(tmp_path):
    async with running_demo(tmp_path, hubs=("main",)) as demo:
        old = await demo.webhook_url("main")
        services = demo.services
        new_token = await rotate_webhook_token(services.storage, services.webhook_tokens, "main")
        new = webhook_path(new_token)
        assert new != old
        assert (
            await demo.client.post(old, json=event_body("53", "switch", "on"))
        ).status_code == 404
        assert (
            await demo.client.post(new, json=event_body("53", "switch", "on"))
        ).status_code == 202


async def test_secret_key_file_is_private(tmp_path):
    key = load_secret_key(tmp_path)
    assert len(key) == SECRET_KEY_BYTES
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600
    assert load_secret_key(tmp_path) == key


async def test_secret_key_too_short_is_an_error(tmp_path):
    (tmp_path / "secret.key").write_bytes(b"short")
    with pytest.raises(ValueError, match="delete it"):
        load_secret_key(tmp_path)


async def test_tokens_are_deterministic_per_hub_and_generation():
    tokens = WebhookTokens(b"k" * 32)
    assert tokens.token_for("main", 1) == tokens.token_for("main", 1)
    assert tokens.token_for("main", 1) != tokens.token_for("main", 2)
    assert tokens.token_for("main", 1) != tokens.token_for("garage", 1)
    other = WebhookTokens(b"j" * 32)
    assert other.token_for("main", 1) != tokens.token_for("main", 1)


async def test_match_finds_only_the_right_hub():
    tokens = WebhookTokens(b"k" * 32)
    main = tokens.token_for("main", 1)
    garage = tokens.token_for("garage", 1)
    hashes = {"main": tokens.hash_token(main), "garage": tokens.hash_token(garage)}
    assert tokens.match(main, hashes) == "main"
    assert tokens.match(garage, hashes) == "garage"
    assert tokens.match("nope", hashes) is None
    assert tokens.match(main, {}) is None
    assert tokens.match("\udcff", hashes) is None
