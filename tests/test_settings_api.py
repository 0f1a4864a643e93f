"""``GET /api/settings``: what a browser needs, readable by users, with nothing secret."""

from __future__ import annotations

from apphelpers import ADMIN_PASSWORD, USER_PASSWORD, running_demo


async def test_settings_for_a_user_hold_nothing_secret(tmp_path):
    async with running_demo(
        tmp_path, temperature_scale="C", discovery_enabled=True, webhook_base_url="http://x.test"
    ) as demo:
        await demo.add_user("viewer")
        async with demo.signed_in_client("viewer") as viewer:
            reply = await viewer.get("/api/settings")
        assert reply.status_code == 200
        body = reply.json()
        assert body["temperatureScale"] == "C"
        assert body["hubNames"] == {"main": "Main Hub", "garage": "Garage Hub"}
        assert body["features"] == {"discovery": True, "cameras": False, "kpi": False}
        assert body["nvrUrl"] == ""
        assert body["appearance"]["theme"] == "auto"
        text = reply.text
        for hub in demo.hubs.values():
            assert hub.token not in text
        for hub_id in demo.hubs:
            assert (await demo.webhook_url(hub_id)).rsplit("/", 1)[1] not in text
        for secret in (ADMIN_PASSWORD, USER_PASSWORD, str(demo.settings.state_dir), ".db"):
            assert secret not in text
        assert "password" not in text.lower()
        assert "database" not in text.lower()


async def test_settings_need_a_sign_in(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo, demo.anonymous_client() as anonymous:
        reply = await anonymous.get("/api/settings")
        assert reply.status_code == 401
        assert "error" in reply.json()
