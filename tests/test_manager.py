"""HubManager state: snapshots, twins, live events, dedupe, location events."""

from __future__ import annotations

import json
import time

import pytest
from hubharness import BusReader, free_port, running_home

from tiles_edge.errors import ApiError
from tiles_edge.events.bus import EventBus
from tiles_edge.hubs.manager import HubManager
from tiles_edge.hubs.model import HubConfig

EXPECTED_TWINS = {
    "garage:1203": "main:104",
    "garage:1204": "main:12",
    "garage:1205": "main:270",
}


async def test_snapshot_loads_both_hubs() -> None:
    async with running_home() as home:
        manager = home.manager
        native = manager.native_devices()
        assert len([d for d in native if d.hub_id == "main"]) == 47
        assert len([d for d in native if d.hub_id == "garage"]) == 12
        # Main Hub first: hubs are listed in their configured order.
        assert native[0].hub_id == "main"

        health = {h.hub_id: h for h in manager.health()}
        assert health["main"].state == "online"
        assert health["main"].device_count == 47
        assert health["garage"].device_count == 12
        assert health["main"].last_snapshot_at is not None


async def test_twins_folded_into_sources() -> None:
    async with running_home() as home:
        manager = home.manager
        twins = {d.uid: d.twin_of for d in manager.native_devices() if d.twin_of}
        assert twins == EXPECTED_TWINS

        folded = manager.devices()
        assert len(folded) == 59 - 3
        uids = {d.uid for d in folded}
        assert not uids & EXPECTED_TWINS.keys()
        assert manager.get_device("main:12").twins == ["garage:1204"]
        # Two unrelated "Desk Lamp" devices on different hubs stay apart.
        assert manager.get_device("garage:13").twin_of is None


async def test_first_snapshot_publishes_resync() -> None:
    async with running_home() as home:
        resyncs = home.reader.matching(lambda e: e.type == "resync")
        assert {e.data["hubId"] for e in resyncs} >= {"main", "garage"}
        # A first snapshot is not a change: no device events for the loaded values.
        assert home.reader.matching(lambda e: e.type == "device") == []
        # Each hub goes straight to online: no degraded or offline step while connecting.
        states = [e.data["state"] for e in home.reader.matching(lambda e: e.type == "hub")]
        assert states == ["online", "online"]


async def test_set_attribute_reaches_bus_typed() -> None:
    async with running_home() as home:
        mark = home.reader.mark()
        home.sims["main"].set_attribute("200", "power", "1750")
        event = await home.reader.wait_device("main:200", "power", since=mark)
        assert event.data == {
            "uid": "main:200",
            "hubId": "main",
            "deviceId": "200",
            "name": "power",
            "value": 1750.0,
            "raw": "1750",
            "unit": "W",
            "ts": event.data["ts"],
            "source": "eventsocket",
        }
        assert isinstance(event.data["ts"], int)
        attribute = home.manager.get_device("main:200").attributes["power"]
        assert attribute.value == 1750.0
        assert attribute.unit == "W"


async def test_event_updates_last_activity() -> None:
    async with running_home(hub_resync_interval_s=0.3) as home:
        sim = home.sims["garage"]
        assert home.manager.get_device("garage:6").last_activity == "2026-11-28T14:03:22+0000"
        mark = home.reader.mark()
        sim.set_attribute(
            "6", "switch", "on" if sim.device("6")["attributes"]["switch"] == "off" else "off"
        )
        event = await home.reader.wait_device("garage:6", "switch", since=mark)
        expected = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(event.data["ts"] / 1000))
        assert home.manager.get_device("garage:6").last_activity == expected

        # The next safety snapshot carries the hub's older date; the newer time is kept.
        device = sim.exposed_device("6")
        assert device is not None
        device.attributes["switch"] = "on" if device.attributes["switch"] == "off" else "off"
        mark = home.reader.mark()
        snapshot_event = await home.reader.wait_device("garage:6", "switch", since=mark)
        assert snapshot_event.data["source"] == "snapshot"
        assert home.manager.get_device("garage:6").last_activity == expected


async def test_event_unit_is_remembered() -> None:
    async with running_home() as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        sim.set_attribute("93", "temperature", "22.4", unit="°C")
        event = await home.reader.wait_device("main:93", "temperature", since=mark)
        assert event.data["unit"] == "°C"
        assert event.data["value"] == 22.4


async def test_identical_frames_deduplicated() -> None:
    async with running_home() as home:
        sim = home.sims["main"]
        sim.faults.duplicate_frames = True
        mark = home.reader.mark()
        sim.set_attribute("200", "power", "1698")
        # A later event on the same socket shows that both copies were processed.
        sim.set_attribute("53", "switch", "on")
        await home.reader.wait_device("main:53", "switch", since=mark)
        powers = home.reader.matching(
            lambda e: e.type == "device" and e.data["name"] == "power", since=mark
        )
        assert len(powers) == 1


async def test_quick_changes_back_and_forth_kept() -> None:
    # on, off, on, off within the dedupe window are four real changes, not duplicates.
    async with running_home() as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        for value in ("on", "off", "on", "off"):
            sim.set_attribute("53", "switch", value)
        # A later event on the same socket shows that all four were processed.
        sim.set_attribute("200", "power", "1234")
        await home.reader.wait_device("main:200", "power", since=mark)
        switches = home.reader.matching(
            lambda e: e.type == "device" and e.data["uid"] == "main:53", since=mark
        )
        assert [e.data["value"] for e in switches] == ["on", "off", "on", "off"]
        assert home.manager.get_device("main:53").attributes["switch"].value == "off"


async def test_repeated_button_pushes_kept() -> None:
    async with running_home() as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        sim.set_attribute("190", "pushed", "2")
        sim.set_attribute("190", "pushed", "2")
        sim.set_attribute("53", "switch", "on")
        await home.reader.wait_device("main:53", "switch", since=mark)
        pushes = home.reader.matching(
            lambda e: e.type == "device" and e.data["name"] == "pushed", since=mark
        )
        assert [e.data["value"] for e in pushes] == [2, 2]


async def test_same_value_after_window_published() -> None:
    async with running_home(event_dedupe_window_ms=0) as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        sim.set_attribute("200", "power", "1698")
        sim.set_attribute("200", "power", "1698")
        sim.set_attribute("53", "switch", "on")
        await home.reader.wait_device("main:53", "switch", since=mark)
        powers = home.reader.matching(
            lambda e: e.type == "device" and e.data["name"] == "power", since=mark
        )
        assert len(powers) == 2


async def test_unexposed_device_dropped() -> None:
    async with running_home() as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        sim.set_attribute("999", "switch", "on")
        sim.set_attribute("53", "switch", "on")
        await home.reader.wait_device("main:53", "switch", since=mark)
        assert (
            home.reader.matching(
                lambda e: e.type == "device" and e.data["deviceId"] == "999", since=mark
            )
            == []
        )
        with pytest.raises(ApiError) as caught:
            home.manager.get_device("main:999")
        assert caught.value.code == "device_not_found"


async def test_app_events_ignored() -> None:
    async with running_home() as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        sim.emit_app_event("ruleState", "running", 412, "Evening Lights Rule")
        sim.set_attribute("53", "switch", "on")
        await home.reader.wait_device("main:53", "switch", since=mark)
        assert [e.type for e in home.reader.seen[mark:]] == ["device"]


async def test_mode_event_updates_modes() -> None:
    async with running_home() as home:
        mark = home.reader.mark()
        home.sims["main"].emit_location("mode", "Night")
        event = await home.reader.wait_for(lambda e: e.type == "mode", since=mark)
        assert event.data["hubId"] == "main"
        assert event.data["active"] == "Night"
        active = [m["name"] for m in home.manager.modes()["main"] if m["active"]]
        assert active == ["Night"]


async def test_hsm_events_published() -> None:
    async with running_home() as home:
        sim = home.sims["main"]
        mark = home.reader.mark()
        sim.emit_location("hsmStatus", "armedAway")
        status = await home.reader.wait_for(lambda e: e.type == "hsm", since=mark)
        assert status.data == {"hubId": "main", "status": "armedAway"}
        assert home.manager.hsm()["main"] == "armedAway"

        mark = home.reader.mark()
        sim.emit_location("hsmAlert", "intrusion-away")
        alert = await home.reader.wait_for(lambda e: e.type == "hsm", since=mark)
        assert alert.data == {"hubId": "main", "status": "armedAway", "alert": "intrusion-away"}


async def test_system_start_takes_snapshot() -> None:
    async with running_home() as home:
        sim = home.sims["main"]
        # Changed on the hub without an event, so only a snapshot can find it.
        device = sim.exposed_device("61")
        assert device is not None
        device.attributes["switch"] = "off"
        snapshots_before = sim.request_log.count(f"/apps/api/{sim.app_id}/devices/all")

        mark = home.reader.mark()
        sim.emit_location("systemStart", "2.4.3.158")
        event = await home.reader.wait_device("main:61", "switch", since=mark)
        assert event.data["source"] == "snapshot"
        assert event.data["value"] == "off"
        assert sim.request_log.count(f"/apps/api/{sim.app_id}/devices/all") > snapshots_before


async def test_safety_resync_repairs_state() -> None:
    async with running_home(hub_resync_interval_s=0.3) as home:
        sim = home.sims["garage"]
        device = sim.exposed_device("6")
        assert device is not None
        device.attributes["switch"] = "on" if device.attributes["switch"] == "off" else "off"
        mark = home.reader.mark()
        event = await home.reader.wait_device("garage:6", "switch", since=mark)
        assert event.data["source"] == "snapshot"
        assert event.data["value"] == device.attributes["switch"]


async def test_added_device_publishes_resync() -> None:
    async with running_home() as home:
        sim = home.sims["garage"]
        sim.add_device(
            {
                "id": "77",
                "name": "Generic Zigbee Outlet",
                "label": "Shop Vac",
                "type": "Generic Zigbee Outlet",
                "capabilities": ["Switch"],
                "attributes": {"switch": "off"},
                "commands": [{"command": "on"}, {"command": "off"}],
            }
        )
        mark = home.reader.mark()
        sim.emit_location("systemStart", "2.4.3.158")
        await home.reader.wait_for(
            lambda e: e.type == "resync" and e.data["hubId"] == "garage", since=mark
        )
        assert home.manager.get_device("garage:77").label == "Shop Vac"


async def test_get_device_by_bare_id() -> None:
    async with running_home() as home:
        manager = home.manager
        assert manager.get_device("1204").uid == "garage:1204"
        with pytest.raises(ApiError) as missing:
            manager.get_device("4242")
        assert missing.value.status == 404
        assert missing.value.code == "device_not_found"


async def test_get_device_ambiguous_bare_id() -> None:
    # Both demo hubs have a device 12 (Kitchen Ceiling, Air Compressor).
    async with running_home() as home:
        with pytest.raises(ApiError) as caught:
            home.manager.get_device("12")
        assert caught.value.status == 400
        assert caught.value.code == "device_id_ambiguous"
        assert "main:12" in caught.value.message
        assert "garage:12" in caught.value.message


async def test_twin_overrides_split_and_merge() -> None:
    async with running_home() as home:
        manager = home.manager
        mark = home.reader.mark()
        manager.set_twin_overrides({"garage:1204": None, "garage:13": "main:330"})
        await home.reader.wait_for(lambda e: e.type == "resync", since=mark)
        assert manager.get_device("garage:1204").twin_of is None
        assert manager.get_device("garage:13").twin_of == "main:330"
        assert "garage:13" in manager.get_device("main:330").twins


async def test_device_online_follows_hub_health() -> None:
    async with running_home() as home:
        manager = home.manager
        source = manager.get_device("main:12")
        garage_only = manager.get_device("garage:6")
        assert manager.device_online(source)

        mark = home.reader.mark()
        await home.sims["garage"].stop()
        await home.reader.wait_hub("garage", "offline", since=mark)
        assert not manager.device_online(garage_only)
        # A source whose twin's hub is down is still online through its own hub.
        assert manager.device_online(source)


async def test_webhook_body_applied() -> None:
    async with running_home() as home:
        body = json.loads(
            '{"content": {"name": "switch", "value": "off", "displayName": "Kitchen Ceiling",'
            ' "deviceId": "12", "descriptionText": null, "unit": null, "type": "digital",'
            ' "data": null}}'
        )
        mark = home.reader.mark()
        await home.manager.handle_webhook("main", body)
        event = await home.reader.wait_device("main:12", "switch", since=mark)
        assert event.data["source"] == "webhook"
        assert event.data["value"] == "off"
        health = {h.hub_id: h for h in home.manager.health()}
        assert health["main"].last_webhook_at is not None


@pytest.mark.parametrize(
    "body",
    [None, 42, "garbage", [], {}, {"content": "x"}, {"name": "switch", "deviceId": {"a": 1}}],
)
async def test_webhook_garbage_ignored(body: object) -> None:
    async with running_home(("main",)) as home:
        mark = home.reader.mark()
        await home.manager.handle_webhook("main", body)
        await home.manager.handle_webhook("nowhere", body)
        assert home.reader.matching(lambda e: e.type == "device", since=mark) == []


async def test_replace_hubs_drops_and_adds() -> None:
    async with running_home() as home:
        manager = home.manager
        main_only = [home.configs["main"]]
        await manager.replace_hubs(main_only)
        assert {d.hub_id for d in manager.native_devices()} == {"main"}
        assert [h.hub_id for h in manager.health()] == ["main"]
        # The twins lost their copies.
        assert manager.get_device("main:12").twins == []

        mark = home.reader.mark()
        await manager.replace_hubs([home.configs["main"], home.configs["garage"]])
        await home.reader.wait_hub("garage", "online", since=mark)
        assert manager.get_device("main:12").twins == ["garage:1204"]


async def test_replace_hubs_reconnects_changed_hub() -> None:
    async with running_home(("main",)) as home:
        sim = home.sims["main"]
        wrong = HubConfig(**{**_fields(home.configs["main"]), "token": "tok-wrong-1234567890"})
        mark = home.reader.mark()
        await home.manager.replace_hubs([wrong])
        offline = await home.reader.wait_hub("main", "offline", since=mark)
        assert "rejected the access token" in offline.data["reason"]
        assert sim.token not in json.dumps(offline.data)
        assert "tok-wrong-1234567890" not in json.dumps(offline.data)


async def test_stop_is_idempotent() -> None:
    async with running_home(("main",)) as home:
        await home.manager.stop()
        await home.manager.stop()
        assert home.manager.health() == []


async def test_start_does_not_wait_for_hubs() -> None:
    bus = EventBus()
    reader = BusReader(bus.subscribe())
    # Nothing listens on this port: start() returns at once and the hub shows offline.
    hub = HubConfig("ghost", "Ghost Hub", f"127.0.0.1:{free_port()}", "1", "tok-ghost-0000000")
    manager = HubManager([hub], bus, hub_timeout_s=1.0, hub_backoff_max_s=0.2)
    await manager.start()
    try:
        offline = await reader.wait_hub("ghost", "offline")
        assert "unreachable" in offline.data["reason"]
        assert manager.devices() == []
    finally:
        await manager.stop()
        bus.close()


def _fields(config: HubConfig) -> dict[str, object]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}
