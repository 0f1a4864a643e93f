"""The device selections API: user-scoped, validated types and uids."""

from __future__ import annotations

from apphelpers import running_demo


async def test_put_get_and_delete_are_scoped_to_the_user(tmp_path):
    async with running_demo(tmp_path) as demo:
        await demo.add_user("viewer")
        reply = await demo.client.put(
            "/api/device-selections/temperature_indoor",
            json={"items": [{"uid": "main:1"}, {"uid": "garage:2"}]},
        )
        assert reply.status_code == 200, reply.text
        assert [item["uid"] for item in reply.json()["items"]] == ["main:1", "garage:2"]

        async with demo.signed_in_client("viewer") as viewer:
            theirs = (await viewer.get("/api/device-selections")).json()["selections"]
            assert theirs["temperature_indoor"] == []
            reply = await viewer.put(
                "/api/device-selections/preferred_lock", json={"items": [{"uid": "main:9"}]}
            )
            assert reply.status_code == 200

        mine = (await demo.client.get("/api/device-selections")).json()["selections"]
        assert set(mine) == {
            "preferred_lock",
            "temperature_indoor",
            "temperature_outdoor",
            "linked_devices",
        }
        assert mine["preferred_lock"] == []
        assert [item["uid"] for item in mine["temperature_indoor"]] == ["main:1", "garage:2"]

        # A second PUT replaces the selection, in the order sent.
        await demo.client.put(
            "/api/device-selections/temperature_indoor", json={"items": [{"uid": "garage:2"}]}
        )
        only = (await demo.client.get("/api/device-selections?type=temperature_indoor")).json()
        assert list(only["selections"]) == ["temperature_indoor"]
        assert [item["uid"] for item in only["selections"]["temperature_indoor"]] == ["garage:2"]

        deleted = await demo.client.delete("/api/device-selections/temperature_indoor/garage:2")
        assert deleted.json() == {"deleted": 1}
        again = await demo.client.delete("/api/device-selections/temperature_indoor/garage:2")
        assert again.json() == {"deleted": 0}


async def test_linked_devices_carry_their_links(tmp_path):
    async with running_demo(tmp_path) as demo:
        body = {"items": [{"uid": "main:5", "value": ["main:6", "garage:7"]}]}
        reply = await demo.client.put("/api/device-selections/linked_devices", json=body)
        assert reply.status_code == 200, reply.text
        assert reply.json()["items"][0]["value"] == ["main:6", "garage:7"]
        cleared = await demo.client.delete("/api/device-selections/linked_devices")
        assert cleared.json() == {"deleted": 1}


async def test_bad_selections_are_rejected(tmp_path):
    async with running_demo(tmp_path) as demo:
        unknown = await demo.client.put("/api/device-selections/favourite", json={"items": []})
        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "unknown_selection_type"
        cases = [
            ("preferred_lock", {"items": [{"uid": "main:1"}, {"uid": "main:2"}]}, "items:"),
            ("temperature_outdoor", {"items": "main:1"}, "items:"),
            ("temperature_outdoor", {"items": [{"uid": "attic:1"}]}, "items[0].uid:"),
            ("temperature_outdoor", {"items": [{"uid": "main"}]}, "items[0].uid:"),
            ("temperature_outdoor", {"items": [{"uid": "main:1"}, {"uid": "main:1"}]}, "items[1]"),
            ("temperature_outdoor", {"items": [{"uid": "main:1", "value": 3}]}, "items[0].value"),
            ("linked_devices", {"items": [{"uid": "main:1", "value": "main:2"}]}, "items[0].value"),
            ("linked_devices", {"items": [{"uid": "main:1", "value": ["x"]}]}, "items[0].value[0]"),
        ]
        for selection_type, body, field in cases:
            reply = await demo.client.put(f"/api/device-selections/{selection_type}", json=body)
            assert reply.status_code == 400, (selection_type, body, reply.text)
            assert reply.json()["error"]["message"].startswith(field), reply.text
        extra = await demo.client.put(
            "/api/device-selections/preferred_lock", json={"items": [], "more": 1}
        )
        assert extra.json()["error"]["code"] == "unknown_field"
        bad_query = await demo.client.get("/api/device-selections?type=nope")
        assert bad_query.status_code == 404
        assert await demo.services.storage.list_device_selections(None) == []


async def test_selections_need_a_sign_in(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo, demo.anonymous_client() as anonymous:
        assert (await anonymous.get("/api/device-selections")).status_code == 401
