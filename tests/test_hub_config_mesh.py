"""Hub Mesh overrides set by an admin: stored household-wide, applied at once and at start-up."""

from __future__ import annotations

from apphelpers import running_demo


async def twins(demo) -> dict[str, str]:
    reply = await demo.client.get("/api/hub-config/mesh")
    assert reply.status_code == 200
    return reply.json()["twins"]


async def device_uids(demo) -> set[str]:
    return {device["uid"] for device in (await demo.client.get("/api/devices")).json()["devices"]}


async def test_split_then_clear_a_twin(tmp_path):
    async with running_demo(tmp_path) as demo:
        found = await twins(demo)
        assert found, "the demo home has Hub Mesh twins"
        twin, source = sorted(found.items())[0]
        assert twin not in await device_uids(demo)

        reply = await demo.client.post(
            "/api/hub-config/mesh", json={"action": "split", "uid": twin}
        )
        assert reply.status_code == 200, reply.text
        assert {"uid": twin, "action": "split", "source": None} in reply.json()["overrides"]
        assert twin not in reply.json()["twins"]
        assert twin in await device_uids(demo)
        rows = await demo.services.storage.list_device_selections(None, "twin_override")
        assert [(row.device_uid, row.value) for row in rows] == [(twin, None)]

        reply = await demo.client.post(
            "/api/hub-config/mesh", json={"action": "clear", "uid": twin}
        )
        assert reply.json()["twins"][twin] == source
        assert twin not in await device_uids(demo)


async def test_merge_two_devices_by_hand(tmp_path):
    async with running_demo(tmp_path) as demo:
        found = await twins(demo)
        # Two switches on different hubs that the automatic match keeps apart.
        garage, main = "garage:13", "main:53"
        assert garage not in found
        reply = await demo.client.post(
            "/api/hub-config/mesh", json={"action": "merge", "uid": garage, "source": main}
        )
        assert reply.status_code == 200, reply.text
        assert reply.json()["twins"][garage] == main
        assert garage not in await device_uids(demo)


async def test_override_is_loaded_at_start_up(tmp_path):
    async with running_demo(tmp_path) as demo:
        twin = sorted(await twins(demo))[0]
        reply = await demo.client.post(
            "/api/hub-config/mesh", json={"action": "split", "uid": twin}
        )
        assert reply.status_code == 200
    async with running_demo(tmp_path) as demo:
        assert twin not in await twins(demo)
        assert twin in await device_uids(demo)


async def test_bad_mesh_requests(tmp_path):
    async with running_demo(tmp_path) as demo:
        cases = [
            ({"action": "join", "uid": "main:1"}, "action:"),
            ({"action": "split", "uid": "main"}, "uid:"),
            ({"action": "split", "uid": "attic:1"}, "uid:"),
            ({"action": "merge", "uid": "garage:1"}, "source:"),
            ({"action": "merge", "uid": "main:1", "source": "main:2"}, "source:"),
            ({"action": "merge", "uid": "garage:11", "source": "main:104"}, "source:"),
        ]
        for body, field in cases:
            reply = await demo.client.post("/api/hub-config/mesh", json=body)
            assert reply.status_code == 400, body
            assert reply.json()["error"]["message"].startswith(field), body
        reply = await demo.client.post("/api/hub-config/mesh", json={"action": "split", "x": 1})
        assert reply.json()["error"]["code"] == "unknown_field"
        assert await demo.services.storage.list_device_selections(None, "twin_override") == []
