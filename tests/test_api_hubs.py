"""Hub status, hub names, location modes and HSM routes."""

from __future__ import annotations

import pytest
import pytest_asyncio
from apphelpers import running_demo, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory):
    async with running_demo(tmp_path_factory.mktemp("hubs")) as running:
        yield running


def assert_error(reply, status):
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert isinstance(body["error"]["code"], str)
    return body["error"]


async def test_hubs_show_status_without_tokens(demo):
    reply = await demo.client.get("/api/hubs")
    assert reply.status_code == 200
    hubs = {hub["hubId"]: hub for hub in reply.json()["hubs"]}
    assert set(hubs) == {"main", "garage"}
    assert hubs["main"]["name"] == "Main Hub"
    assert hubs["main"]["state"] == "online"
    assert hubs["main"]["deviceCount"] > 0
    assert hubs["main"]["host"] == demo.hubs["main"].host
    for hub in demo.hubs.values():
        assert hub.token not in reply.text
        assert "token" not in {key.lower() for key in hubs[hub.hub_id]}


async def test_hub_names(demo):
    reply = await demo.client.get("/api/hub-names")
    assert reply.status_code == 200
    assert sorted(reply.json()["names"]) == ["Garage Hub", "Main Hub"]


async def test_modes_per_hub(demo):
    reply = await demo.client.get("/api/modes")
    assert reply.status_code == 200
    modes = reply.json()["modes"]
    names = {mode["name"] for mode in modes["main"]}
    assert {"Day", "Evening", "Night", "Away"} <= names
    assert sum(1 for mode in modes["main"] if mode["active"]) == 1


async def test_set_mode_reaches_hub(demo):
    reply = await demo.client.post("/api/modes/main/3")
    assert reply.status_code == 200, reply.text

    async def night_active() -> bool:
        modes = (await demo.client.get("/api/modes")).json()["modes"]["main"]
        return any(mode["active"] and mode["name"] == "Night" for mode in modes)

    await wait_until(night_active, what="Night mode active on main")


async def test_set_mode_unknown_hub(demo):
    error = assert_error(await demo.client.post("/api/modes/attic/1"), 404)
    assert "attic" in error["message"]


async def test_set_mode_unknown_mode(demo):
    reply = await demo.client.post("/api/modes/main/999")
    assert 400 <= reply.status_code < 500
    assert_error(reply, reply.status_code)


async def test_set_mode_get_is_405(demo):
    assert_error(await demo.client.get("/api/modes/main/1"), 405)


async def test_hsm_per_hub(demo):
    reply = await demo.client.get("/api/hsm")
    assert reply.status_code == 200
    assert "main" in reply.json()["hsm"]


async def test_set_hsm_reaches_hub(demo):
    reply = await demo.client.post("/api/hsm/main/armAway")
    assert reply.status_code == 200, reply.text

    async def armed_away() -> bool:
        return (await demo.client.get("/api/hsm")).json()["hsm"]["main"] == "armedAway"

    await wait_until(armed_away, what="HSM armedAway on main")


async def test_set_hsm_unknown_action(demo):
    error = assert_error(await demo.client.post("/api/hsm/main/selfDestruct"), 400)
    assert "selfDestruct" in error["message"]


async def test_set_hsm_unknown_hub(demo):
    assert_error(await demo.client.post("/api/hsm/attic/disarm"), 404)
