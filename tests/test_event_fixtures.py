"""Every recorded eventsocket frame and webhook body through ``normalize_event``."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from fixtures_path import GARAGE_HUB, MAIN_HUB, hubitat_path, load_json, load_jsonl

from tiles_edge.hubs.model import EventSource
from tiles_edge.hubs.normalize import normalize_event, parse_devices_all, parse_value, unit_for


class Reading(NamedTuple):
    device_id: str | None
    origin: str
    name: str
    value: Any
    typed: Any
    unit: str | None
    event_type: str | None
    display_name: str | None
    description: str | None
    data: str | None = None


EVENTSOCKET_GARAGE = [
    Reading("8", "DEVICE", "power", "6950", 6950.0, "W", None, "EV Charger", None),
    Reading(
        "1203", "DEVICE", "lock", "unlocked", "unlocked", None, None,
        "Front Door Lock on Main Hub", None,
    ),
    Reading(
        "1204", "DEVICE", "switch", "off", "off", None, "digital",
        "Kitchen Ceiling on Main Hub", None,
    ),
    Reading("9", "DEVICE", "temperature", "39.9", 39.9, "°F", None, "Outdoor Temp Sensor", None),
    Reading("11", "DEVICE", "door", "closing", "closing", None, None, "Garage Door 2", None),
]  # fmt: skip

EVENTSOCKET_MAIN = [
    Reading(
        "53", "DEVICE", "switch", "on", "on", None, "digital", "Porch Light",
        "Porch Light was turned on",
    ),
    Reading("200", "DEVICE", "power", "1698", 1698.0, "W", None, "Whole House Power", None),
    Reading("200", "DEVICE", "power", "1698", 1698.0, "W", None, "Whole House Power", None),
    Reading(
        "141", "DEVICE", "motion", "inactive", "inactive", None, "physical", "Kitchen Motion", None
    ),
    Reading(
        "160", "DEVICE", "temperature", "69.4", 69.4, "°F", None, "Upstairs Hall Climate", None
    ),
    Reading("160", "DEVICE", "humidity", "45", 45, "%", None, "Upstairs Hall Climate", None),
    Reading(
        "999", "DEVICE", "switch", "on", "on", None, None, "Hidden Closet Light",
        "Closet Light was turned on",
    ),
    Reading(
        None, "LOCATION", "mode", "Day", "Day", None, None, "Maple Street",
        "Maple Street is now in Day mode",
    ),
    Reading(
        None, "LOCATION", "hsmStatus", "disarmed", "disarmed", None, None, "Maple Street", None
    ),
    Reading(
        None, "APP", "ruleState", "running", "running", None, None, "Evening Lights Rule", None
    ),
    Reading("261", "DEVICE", "level", "100", 100, "%", "physical", "Dining Chandelier", None),
    Reading(
        "191", "DEVICE", "pushed", "3", 3, None, "physical", "Living Room Pico",
        "Living Room Pico button 3 was pushed",
    ),
    Reading(
        "300", "DEVICE", "threeAxis", "[x:-10,y:998,z:41]", {"x": -10, "y": 998, "z": 41},
        None, None, "Mailbox", None,
    ),
    Reading("300", "DEVICE", "acceleration", "active", "active", None, None, "Mailbox", None),
    Reading("170", "DEVICE", "temperature", "41.9", 41.9, "F", None, "Outdoor Weather", None),
    Reading(
        "88", "DEVICE", "thermostatMode", "cool", "cool", None, "digital", "Hallway Thermostat",
        None,
    ),
    Reading("88", "DEVICE", "coolingSetpoint", "74", 74, "°F", None, "Hallway Thermostat", None),
    Reading("105", "DEVICE", "lock", "unknown", "unknown", None, None, "Back Door Lock", None),
    Reading("132", "DEVICE", "battery", "unknown", None, "%", None, "Garage Side Door", None),
    Reading("250", "DEVICE", "status", "playing", "playing", None, None, "Kitchen Speaker", None),
    Reading("250", "DEVICE", "volume", "30", 30, "%", None, "Kitchen Speaker", None),
]  # fmt: skip

WEBHOOK_MAIN = [
    Reading(
        "12", "DEVICE", "switch", "off", "off", None, "digital", "Kitchen Ceiling",
        "Kitchen Ceiling was turned off",
    ),
    Reading(
        "12", "DEVICE", "level", "30", 30, "%", "digital", "Kitchen Ceiling",
        "Kitchen Ceiling was set to 30%",
    ),
    Reading(
        "200", "DEVICE", "power", "1712", 1712.0, "W", None, "Whole House Power",
        "Whole House Power power is 1712W",
    ),
    Reading(
        "88", "DEVICE", "temperature", "67.0", 67.0, "°F", None, "Hallway Thermostat",
        "Hallway Thermostat temperature is 67.0°F",
    ),
    Reading(
        "88", "DEVICE", "thermostatOperatingState", "idle", "idle", None, None,
        "Hallway Thermostat", None,
    ),
    Reading(
        "140", "DEVICE", "motion", "active", "active", None, "physical", "Living Room Motion",
        "Living Room Motion is active",
    ),
    Reading(
        "131", "DEVICE", "contact", "open", "open", None, "physical", "Front Door",
        "Front Door is open",
    ),
    Reading(
        "190", "DEVICE", "pushed", "2", 2, None, "physical", "Bedside Remote",
        "Bedside Remote button 2 was pushed",
    ),
    Reading(
        "190", "DEVICE", "pushed", "2", 2, None, "physical", "Bedside Remote",
        "Bedside Remote button 2 was pushed",
    ),
    Reading(
        "104", "DEVICE", "lock", "unlocked", "unlocked", None, "physical", "Front Door Lock",
        "Front Door Lock was unlocked by Dog Walker",
        '{"4":{"name":"Dog Walker","code":"****"}}',
    ),
    Reading(
        "104", "DEVICE", "lock", "locked", "locked", None, "digital", "Front Door Lock",
        "Front Door Lock was locked", "aGVsbG8gZW5jcnlwdGVkIGNvZGVz",
    ),
    Reading(
        None, "LOCATION", "mode", "Night", "Night", None, "LOCATION_MODE_CHANGE", "Maple Street",
        "Maple Street is now in Night mode",
    ),
    Reading(
        None, "LOCATION", "hsmStatus", "armedNight", "armedNight", None, None, "Maple Street",
        "hsmEvent",
    ),
    Reading(
        None, "LOCATION", "hsmAlert", "intrusion-night", "intrusion-night", None, None,
        "Maple Street", "Intrusion Night Alert", '{"device":"Front Door"}',
    ),
    Reading(
        None, "LOCATION", "hsmAlert", "cancel", "cancel", None, None, "Maple Street",
        "Alert cancelled",
    ),
    Reading(
        None, "LOCATION", "ssdpTerm", "urn:schemas-upnp-org:device:basic:1",
        "urn:schemas-upnp-org:device:basic:1", None, None, "Maple Street", None,
    ),
    Reading(
        None, "LOCATION", "systemStart", "2.4.3.158", "2.4.3.158", None, None, "Maple Street",
        "System startup with firmware 2.4.3.158",
    ),
    Reading(
        None, "LOCATION", "variable:houseState", "quiet", "quiet", None, None, "Maple Street",
        "houseState is quiet",
    ),
    Reading(
        "151", "DEVICE", "water", "wet", "wet", None, "physical", "Laundry Leak",
        "Laundry Leak is wet",
    ),
    Reading("142", "DEVICE", "battery", "Battery 76%", 76, "%", None, "Hallway Motion", None),
    Reading(
        "74", "DEVICE", "speed", "very-low", "very-low", None, None, "Office Fan",
        "Office Fan speed is very-low",
    ),
    Reading("320", "DEVICE", "hue", "240", 240, "%", None, "Under-Cabinet Lights", None),
    Reading("93", "DEVICE", "temperature", "22.4", 22.4, "°C", None, "Bedroom Mini-Split", None),
    Reading(
        "180", "DEVICE", "presence", "not present", "not present", None, "digital",
        "Sam's Phone", "Sam's Phone has departed",
    ),
    Reading("270", "DEVICE", "switch", "on", "on", None, "digital", "Guest Mode", None),
    Reading(
        "220", "DEVICE", "door", "opening", "opening", None, None, "Garage Door",
        "Garage Door is opening",
    ),
    Reading("210", "DEVICE", "position", "75", 75, "%", None, "Living Room Shade", None),
    Reading(
        "240", "DEVICE", "smoke", "detected", "detected", None, "physical", "Hallway Smoke/CO",
        "Hallway Smoke/CO smoke detected",
    ),
    Reading("200", "DEVICE", "energy", "9321.9", 9321.9, "kWh", None, "Whole House Power", None),
    Reading("140", "DEVICE", "illuminance", "12", 12, "lux", None, "Living Room Motion", None),
]  # fmt: skip

FILES: dict[str, tuple[str, EventSource, list[Reading]]] = {
    "events/eventsocket-garage.jsonl": ("garage", "eventsocket", EVENTSOCKET_GARAGE),
    "events/eventsocket-main.jsonl": ("main", "eventsocket", EVENTSOCKET_MAIN),
    "events/webhook-main.jsonl": ("main", "webhook", WEBHOOK_MAIN),
}

CASES = [
    pytest.param(path, index, id=f"{path.split('/')[-1]}:{index + 1}")
    for path, (_, _, readings) in FILES.items()
    for index in range(len(readings))
]


@pytest.mark.parametrize("path", sorted(FILES))
def test_every_line_has_a_reading(path: str) -> None:
    assert len(load_jsonl(path)) == len(FILES[path][2])


@pytest.mark.parametrize(("path", "index"), CASES)
def test_event_line(path: str, index: int) -> None:
    hub_id, source, readings = FILES[path]
    expected = readings[index]
    line = hubitat_path(path).read_text(encoding="utf-8").splitlines()[index]

    event = normalize_event(hub_id, load_jsonl(path)[index], source)

    assert event is not None
    assert event.hub_id == hub_id
    assert event.source == source
    assert event.device_id == expected.device_id
    assert event.origin == expected.origin
    assert event.name == expected.name
    assert event.value == expected.value
    assert event.unit == expected.unit
    assert event.event_type == expected.event_type
    assert event.display_name == expected.display_name
    assert event.description == expected.description
    assert event.data == expected.data
    assert parse_value(event.name, event.value) == expected.typed
    # The text of the line, as it arrives on the wire, reads the same.
    assert normalize_event(hub_id, line, source) == event
    assert normalize_event(hub_id, line.encode(), source) == event


def test_units_normalised_for_display() -> None:
    units = [
        unit_for(reading.name, reading.unit, "F")
        for reading in EVENTSOCKET_MAIN + WEBHOOK_MAIN
        if reading.name == "temperature"
    ]
    # "F" from one driver and "°F" from others read the same; the °C reading stays °C.
    assert units == ["°F", "°F", "°F", "°C"]


def test_only_device_999_is_not_exposed() -> None:
    exposed = {
        (device.hub_id, device.device_id)
        for hub_dir, hub in (("main-hub", MAIN_HUB), ("garage-hub", GARAGE_HUB))
        for device in parse_devices_all(load_json(f"{hub_dir}/devices_all.json"), *hub)
    }
    unknown = {
        (hub_id, reading.device_id)
        for hub_id, _, readings in FILES.values()
        for reading in readings
        if reading.device_id is not None and (hub_id, reading.device_id) not in exposed
    }
    assert unknown == {("main", "999")}


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "",
        "not json",
        b"\xff\xfe",
        42,
        [],
        ["name", "switch"],
        {},
        {"content": {}},
        {"content": {"value": "on"}},
        {"content": "junk"},
        {"name": None, "value": "on"},
        {"name": "null", "value": "on"},
        {"name": "   ", "value": "on"},
        {"name": ["switch"], "value": "on"},
    ],
)
def test_garbage_yields_none(payload: Any) -> None:
    assert normalize_event("main", payload, "webhook") is None


@pytest.mark.parametrize(
    ("device_id", "expected"),
    [(12, "12"), (12.0, "12"), ("12", "12"), (" 12 ", "12"), (0, None), ("0", None),
     (None, None), ("null", None), ("", None), (True, None), ({"id": 1}, None)],
)  # fmt: skip
def test_device_id_forms(device_id: Any, expected: str | None) -> None:
    event = normalize_event(
        "main", {"name": "switch", "value": "on", "deviceId": device_id}, "poll"
    )
    assert event is not None
    assert event.device_id == expected
    assert event.origin == ("DEVICE" if expected else "LOCATION")


def test_origin_from_source_field() -> None:
    frame = {"source": "hub", "name": "x", "value": 1, "deviceId": 0}
    event = normalize_event("main", frame, "eventsocket")
    assert event is not None
    assert event.origin == "HUB"
    assert event.value == 1


def test_data_map_serialised() -> None:
    body = {"content": {"name": "lock", "value": "locked", "deviceId": "1", "data": {"a": 1}}}
    event = normalize_event("main", body, "webhook")
    assert event is not None
    assert event.data == '{"a": 1}'


def test_value_kept_as_sent() -> None:
    for value in ("null", None, 5, 1.5, ["a"], {"x": 1}):
        event = normalize_event("main", {"name": "n", "value": value}, "webhook")
        assert event is not None
        assert event.value == value
