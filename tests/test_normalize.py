"""Parsing of Maker API replies against the demo home fixtures and the known hub quirks."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fixtures_path import GARAGE_HUB, HUB_NAMES, MAIN_HUB, load_json
from hypothesis import given, settings
from hypothesis import strategies as st

from tiles_edge.hubs.mesh import apply_twins, find_twins
from tiles_edge.hubs.model import Attribute, Device
from tiles_edge.hubs.normalize import (
    apply_units,
    display_label,
    normalize_event,
    parse_command_specs,
    parse_device_detail,
    parse_device_events,
    parse_device_list,
    parse_devices_all,
    parse_list,
    parse_value,
    unit_for,
)

STANDARD_FAN_SPEEDS = ["low", "medium-low", "medium", "medium-high", "high", "on", "off", "auto"]

# expected.json key → Device field, for the keys that are derived facts, not attributes.
DERIVED_FIELDS = {
    "kind": "kind",
    "sensorType": "sensor_type",
    "label": "label",
    "twinOf": "twin_of",
    "outdoor": "outdoor",
    "hasPowerMeter": "has_power_meter",
    "lockCodesReadable": "lock_codes_readable",
    "hueScale": "hue_scale",
    "fanSpeeds": "fan_speeds",
}


def load_home() -> dict[str, Device]:
    """Parse both demo catalogs and pair their Hub Mesh twins, as the hub manager does."""
    names = list(HUB_NAMES.values())
    devices = parse_devices_all(
        load_json("main-hub/devices_all.json"), *MAIN_HUB, hub_names=names
    ) + parse_devices_all(load_json("garage-hub/devices_all.json"), *GARAGE_HUB, hub_names=names)
    apply_twins(devices, find_twins(devices, HUB_NAMES))
    return {device.uid: device for device in devices}


HOME = load_home()
EXPECTED: dict[str, dict[str, Any]] = load_json("expected.json")


def test_catalogs_contain_59_devices() -> None:
    assert len(HOME) == 59
    assert len([uid for uid in HOME if uid.startswith("main:")]) == 47
    assert len([uid for uid in HOME if uid.startswith("garage:")]) == 12


def test_every_expected_uid_is_parsed() -> None:
    assert set(EXPECTED) <= set(HOME)


def same_json(actual: Any, expected: Any) -> bool:
    """Compare as the API would serialise: 1843.0 and 1843 differ in type, not in value."""
    if isinstance(expected, float):
        return isinstance(actual, float) and actual == expected
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    if isinstance(expected, int):
        return isinstance(actual, int) and not isinstance(actual, bool) and actual == expected
    return bool(actual == expected)


@pytest.mark.parametrize("uid", sorted(EXPECTED))
def test_expected_reading(uid: str) -> None:
    device = HOME[uid]
    for key, expected in EXPECTED[uid].items():
        if key == "attributeNamesExclude":
            for name in expected:
                assert name not in device.attributes, f"{uid}: {name} kept as an attribute"
        elif key in DERIVED_FIELDS:
            actual = getattr(device, DERIVED_FIELDS[key])
            assert same_json(actual, expected), f"{uid}.{key}: {actual!r} != {expected!r}"
        else:
            assert key in device.attributes, f"{uid}: attribute {key} missing"
            actual = device.attributes[key].value
            assert same_json(actual, expected), f"{uid}.{key}: {actual!r} != {expected!r}"


def test_bogus_attribute_keys_dropped_everywhere() -> None:
    for device in HOME.values():
        assert "dataType" not in device.attributes, device.uid
        assert "values" not in device.attributes, device.uid


def test_raw_values_kept_as_sent() -> None:
    for hub_dir, (hub_id, _) in (("main-hub", MAIN_HUB), ("garage-hub", GARAGE_HUB)):
        for entry in load_json(f"{hub_dir}/devices_all.json"):
            device = HOME[f"{hub_id}:{entry['id']}"]
            for name, raw in entry["attributes"].items():
                if name in ("dataType", "values"):
                    continue
                assert device.attributes[name].raw == raw, f"{device.uid}.{name}"
                assert type(device.attributes[name].raw) is type(raw)


def test_device_fields_from_catalog() -> None:
    device = HOME["main:161"]
    assert device.name == "Nursery Temp Sensor"
    assert device.raw_label is None
    assert device.type == "Xiaomi Aqara Temperature Humidity Sensor"
    assert device.room == "Nursery"
    assert device.last_activity == "2026-11-28T14:03:22+0000"
    assert device.capabilities == [
        "TemperatureMeasurement",
        "RelativeHumidityMeasurement",
        "Battery",
        "Sensor",
    ]
    assert HOME["main:170"].room is None


def test_catalog_command_types_unknown() -> None:
    commands = HOME["main:12"].commands
    assert list(commands) == [
        "on",
        "off",
        "setLevel",
        "startLevelChange",
        "stopLevelChange",
        "refresh",
        "configure",
    ]
    assert commands["setLevel"].arg_types == []
    assert commands["setLevel"].arg_types_known is False
    assert HOME["main:132"].commands == {}


def test_twin_label_needs_all_hub_names() -> None:
    # With only its own hub's name, a copy keeps the suffix of the other hub.
    devices = parse_devices_all(load_json("garage-hub/devices_all.json"), *GARAGE_HUB)
    labels = {device.device_id: device.label for device in devices}
    assert labels["1203"] == "Front Door Lock on Main Hub"
    assert labels["1205"] == "Guest Mode"


def test_devices_all_accepts_json_text() -> None:
    text = json.dumps(load_json("main-hub/devices_all.json"))
    assert len(parse_devices_all(text, *MAIN_HUB)) == 47
    assert len(parse_devices_all(text.encode(), *MAIN_HUB)) == 47


@pytest.mark.parametrize(
    "payload",
    [None, "", "not json", "{}", {}, 42, [None, 1, "x", [], {}], [{"id": None}], [{"id": 0}]],
)
def test_devices_all_junk_yields_nothing(payload: Any) -> None:
    assert parse_devices_all(payload, *MAIN_HUB) == []


def test_devices_all_skips_junk_entries() -> None:
    payload = [
        "junk",
        {"name": "no id"},
        {"id": 12, "name": "Numeric Id", "attributes": "junk", "capabilities": {"a": 1}},
        {"id": "12", "name": "Duplicate"},
        {"id": "13", "label": "Only Label", "commands": ["on", {"command": "off"}, 5, {}]},
    ]
    devices = parse_devices_all(payload, *MAIN_HUB)
    assert [device.uid for device in devices] == ["main:12", "main:13"]
    assert devices[0].name == "Numeric Id"
    assert devices[0].attributes == {}
    assert devices[0].capabilities == []
    assert devices[1].name == ""
    assert devices[1].label == "Only Label"
    assert list(devices[1].commands) == ["on", "off"]


def test_nameless_device_label() -> None:
    (device,) = parse_devices_all([{"id": "7"}], *MAIN_HUB)
    assert device.label == "Device 7"
    assert device.type == ""
    assert device.kind == "generic"


def test_detail_88_thermostat() -> None:
    device = parse_device_detail(load_json("main-hub/device_details/88.json"), *MAIN_HUB)
    assert device is not None
    assert device.uid == "main:88"
    assert device.label == "Hallway Thermostat"
    assert device.kind == "thermostat"
    assert device.room == "Hallway"

    # Capability objects are dropped, names kept in order.
    assert device.capabilities == [
        "Thermostat",
        "TemperatureMeasurement",
        "RelativeHumidityMeasurement",
        "Refresh",
        "Actuator",
        "Sensor",
    ]

    assert device.attributes["temperature"].value == 66.5
    assert device.attributes["temperature"].raw == 66.5
    assert device.attributes["heatingSetpoint"].value == 68
    assert device.attributes["coolingSetpoint"].value == 75
    assert device.attributes["coolingSetpoint"].raw == "75"
    assert device.attributes["supportedThermostatModes"].value == [
        "off",
        "heat",
        "cool",
        "auto",
        "emergency heat",
    ]
    assert device.attributes["supportedThermostatFanModes"].value == ["auto", "on", "circulate"]
    assert device.attributes["thermostatOperatingState"].value == "heating"

    assert "setThermostatMode" in device.commands
    assert device.commands["setThermostatMode"].arg_types_known is False
    assert len(device.commands) == 13


def test_detail_74_fan_speeds_from_speed_enum() -> None:
    device = parse_device_detail(load_json("main-hub/device_details/74.json"), *MAIN_HUB)
    assert device is not None
    assert device.kind == "fan"
    assert device.attributes["supportedFanSpeeds"].value is None
    assert device.fan_speeds == STANDARD_FAN_SPEEDS
    assert device.capabilities == ["FanControl", "Switch", "Actuator", "Refresh"]
    assert list(device.commands) == ["setSpeed", "cycleSpeed", "on", "off", "refresh"]


def test_detail_speed_enum_values() -> None:
    detail = load_json("main-hub/device_details/74.json")
    detail["attributes"][0]["values"] = ["low", "high", "turbo"]
    device = parse_device_detail(detail, *MAIN_HUB)
    assert device is not None
    assert device.fan_speeds == ["low", "high", "turbo"]


def test_detail_duplicate_attribute_last_wins() -> None:
    detail = load_json("main-hub/device_details/74.json")
    detail["attributes"][-1]["currentValue"] = "off"
    device = parse_device_detail(detail, *MAIN_HUB)
    assert device is not None
    assert device.attributes["switch"].value == "off"


def test_detail_300_multi_sensor() -> None:
    device = parse_device_detail(load_json("main-hub/device_details/300.json"), *MAIN_HUB)
    assert device is not None
    assert (device.kind, device.sensor_type) == ("sensor", "contact")
    assert device.attributes["threeAxis"].value == {"x": -12, "y": 1001, "z": 35}
    assert device.attributes["threeAxis"].raw == "[x:-12,y:1001,z:35]"
    assert device.attributes["battery"].value == 71
    # An unknown dataType such as BOOLEAN reads as text.
    assert device.attributes["armed"].value == "true"
    assert device.commands == {}


@pytest.mark.parametrize("payload", [None, [], "x", {"name": "no id"}, {"id": ""}, {"id": True}])
def test_detail_junk_yields_none(payload: Any) -> None:
    assert parse_device_detail(payload, *MAIN_HUB) is None


def test_detail_attribute_list_junk_skipped() -> None:
    device = parse_device_detail(
        {
            "id": "5",
            "attributes": [
                None,
                "level",
                {"name": None, "currentValue": 1},
                {"name": "level", "currentValue": "33"},
                {"name": "speed", "currentValue": "low", "values": "junk"},
            ],
        },
        *MAIN_HUB,
    )
    assert device is not None
    assert set(device.attributes) == {"level", "speed"}
    assert device.attributes["level"].value == 33


def test_device_list_fixture() -> None:
    entries = parse_device_list(load_json("main-hub/devices.json"))
    assert len(entries) == len(load_json("main-hub/devices.json"))
    assert entries[0] == {
        "id": "12",
        "name": "Generic Z-Wave Smart Dimmer",
        "label": "Kitchen Ceiling",
        "type": "Generic Z-Wave Smart Dimmer",
        "room": "Kitchen",
    }
    assert all(isinstance(entry["id"], str) for entry in entries)


def test_device_list_tolerates_junk() -> None:
    entries = parse_device_list(
        [{"id": 3, "name": "A", "label": None}, {"name": "no id"}, "x", {"id": "4", "room": 5}]
    )
    assert entries == [
        {"id": "3", "name": "A", "label": None, "type": None, "room": None},
        {"id": "4", "name": None, "label": None, "type": None, "room": "5"},
    ]
    assert parse_device_list({"id": "1"}) == []
    assert parse_device_list("garbage") == []


def test_command_specs_lock_fixture() -> None:
    specs = parse_command_specs(load_json("main-hub/device_commands/104.json"))
    assert list(specs) == [
        "lock",
        "unlock",
        "setCode",
        "deleteCode",
        "getCodes",
        "setCodeLength",
        "refresh",
    ]
    # A lock needs no PIN: lock and unlock take no argument.
    assert specs["lock"].arg_types == []
    assert specs["lock"].arg_types_known is True
    assert specs["unlock"].arg_types == []
    assert specs["setCode"].arg_types == ["NUMBER", "STRING", "STRING"]
    assert specs["deleteCode"].arg_types == ["NUMBER"]
    assert all(spec.arg_types_known for spec in specs.values())


def test_command_specs_color_fixture() -> None:
    specs = parse_command_specs(load_json("main-hub/device_commands/47.json"))
    assert specs["setColor"].arg_types == ["COLOR_MAP"]
    assert specs["setLevel"].arg_types == ["NUMBER", "NUMBER"]
    assert specs["setColorTemperature"].arg_types == ["NUMBER", "NUMBER", "NUMBER"]
    assert specs["startLevelChange"].arg_types == ["ENUM"]
    assert specs["on"].arg_types == []
    assert specs["on"].arg_types_known is True
    assert len(specs) == 10


def test_command_specs_tolerate_junk() -> None:
    specs = parse_command_specs(
        [
            {"command": "a", "type": None},
            {"command": "b", "type": "NUMBER"},
            {"command": "c", "type": "[NUMBER, STRING]"},
            {"command": "d"},
            {"command": ""},
            {"type": ["NUMBER"]},
            "e",
            7,
        ]
    )
    assert [(s.name, s.arg_types, s.arg_types_known) for s in specs.values()] == [
        ("a", [], False),
        ("b", ["NUMBER"], True),
        ("c", ["NUMBER", "STRING"], True),
        ("d", [], False),
        ("e", [], False),
    ]
    assert parse_command_specs("junk") == {}
    assert parse_command_specs({"command": "on"}) == {}


def test_device_events_newest_unit_per_attribute() -> None:
    events = [
        {"device_id": "88", "name": "temperature", "value": "67", "unit": "°F"},
        {"device_id": "88", "name": "temperature", "value": "66", "unit": "°C"},
        {"device_id": "88", "name": "humidity", "value": "40", "unit": None},
        {"device_id": "88", "name": "humidity", "value": "41", "unit": "%"},
        {"device_id": "88", "name": "thermostatMode", "value": "heat", "unit": "null"},
        "junk",
        {"unit": "W"},
    ]
    assert parse_device_events(events) == {"temperature": "°F", "humidity": "%"}
    assert parse_device_events(json.dumps(events)) == {"temperature": "°F", "humidity": "%"}
    assert parse_device_events({"name": "x"}) == {}


def test_apply_units_sets_every_attribute() -> None:
    device = HOME["main:88"]
    copy = parse_devices_all(
        [next(e for e in load_json("main-hub/devices_all.json") if e["id"] == "88")], *MAIN_HUB
    )[0]
    assert device.attributes["temperature"].unit is None
    apply_units(copy, {"temperature": "C", "heatingSetpoint": "°F"}, "F")
    assert copy.attributes["temperature"].unit == "°C"
    assert copy.attributes["heatingSetpoint"].unit == "°F"
    assert copy.attributes["coolingSetpoint"].unit == "°F"
    assert copy.attributes["humidity"].unit == "%"
    assert copy.attributes["thermostatMode"].unit is None
    # A unit learned earlier stays when the next call does not name one.
    apply_units(copy, {}, "F")
    assert copy.attributes["temperature"].unit == "°C"


@pytest.mark.parametrize(
    ("name", "unit", "scale", "expected"),
    [
        ("temperature", "F", "F", "°F"),
        ("temperature", "°F", "C", "°F"),
        ("temperature", "C", "F", "°C"),
        ("temperature", "°C", "F", "°C"),
        ("temperature", None, "F", "°F"),
        ("temperature", None, "C", "°C"),
        ("temperature", "null", "c", "°C"),
        ("heatingSetpoint", None, "C", "°C"),
        ("outdoorTemperature", None, "F", "°F"),
        ("colorTemperature", None, "C", "K"),
        ("power", None, "F", "W"),
        ("power", "W", "F", "W"),
        ("energy", None, "F", "kWh"),
        ("energy", "KWH", "F", "kWh"),
        ("humidity", None, "F", "%"),
        ("battery", None, "F", "%"),
        ("illuminance", None, "F", "lux"),
        ("illuminance", "lx", "F", "lux"),
        ("switch", None, "F", None),
        ("hue", "%", "F", "%"),
        ("someReading", "mph", "F", "mph"),
        ("someReading", None, "F", None),
    ],
)
def test_unit_for(name: str, unit: str | None, scale: str, expected: str | None) -> None:
    assert unit_for(name, unit, scale) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('["off","heat"]', ["off", "heat"]),
        ("[off, heat, cool]", ["off", "heat", "cool"]),
        ("[ 'off' , \"heat\" ]", ["off", "heat"]),
        (["off", "heat"], ["off", "heat"]),
        ([1, 2.5, None, True, {"a": 1}], ["1", "2.5", "true"]),
        ("[]", []),
        ("[ ]", []),
        ("off, heat", ["off", "heat"]),
        ("auto", ["auto"]),
        (None, None),
        ("null", None),
        ("", None),
        ("  ", None),
        ('{"a": 1}', None),
        ("{broken", None),
        ("5", None),
        (5, None),
        ({"a": 1}, None),
    ],
)
def test_parse_list(raw: Any, expected: list[str] | None) -> None:
    assert parse_list(raw) == expected


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("level", "72", 72),
        ("level", 72, 72),
        ("level", "72.0", 72.0),
        ("temperature", "66.5", 66.5),
        ("temperature", "-0.4", -0.4),
        ("temperature", 66.5, 66.5),
        ("battery", "Battery 76%", 76),
        ("battery", "unknown", None),
        ("battery", None, None),
        ("battery", "null", None),
        ("battery", "", None),
        ("battery", True, None),
        ("battery", ["1"], None),
        ("power", "PowerOn", None),
        ("power", "1843", 1843.0),
        ("power", "0", 0.0),
        ("power", 387, 387.0),
        ("energy", "12.41", 12.41),
        ("voc", "Harmful", None),
        ("hue", "210", 210),
        ("numberOfButtons", "4", 4),
        ("pushed", "2", 2),
        ("carbonMonoxide", "clear", "clear"),
        ("powerSource", "dc", "dc"),
        ("switch", "on", "on"),
        ("speed", "very-low", "very-low"),
        ("speed", "3", "3"),
        ("speed", 3, "3"),
        ("thermostatMode", "dry", "dry"),
        ("presence", "not present", "not present"),
        ("supportedThermostatModes", "[off, heat, cool]", ["off", "heat", "cool"]),
        ("supportedFanSpeeds", None, None),
        ("supportedInputs", '["HDMI 1","TV"]', ["HDMI 1", "TV"]),
        ("threeAxis", "[x:1,y:2,z:3]", {"x": 1, "y": 2, "z": 3}),
        ("threeAxis", "[x:-10,y:998,z:41]", {"x": -10, "y": 998, "z": 41}),
        ("threeAxis", '{"x":1,"y":2,"z":3}', {"x": 1, "y": 2, "z": 3}),
        ("threeAxis", {"x": 1, "y": "2"}, {"x": 1, "y": 2}),
        ("threeAxis", "sideways", "sideways"),
        ("threeAxis", "[x:1,y:two]", "[x:1,y:two]"),
        ("codeLength", "4", 4),
        ("filter", "87", 87),
        ("aqi", "12.5", 12.5),
        ("firmware", "2.4.3.158", "2.4.3.158"),
        ("zip", "02134", "02134"),
        ("weather", "clear", "clear"),
        ("armed", "true", "true"),
        ("armed", True, "true"),
        ("variable:houseState", "quiet", "quiet"),
        ("color", None, None),
        ("data", {"a": 1}, {"a": 1}),
    ],
)
def test_parse_value(name: str, raw: Any, expected: Any) -> None:
    actual = parse_value(name, raw)
    assert actual == expected
    assert type(actual) is type(expected)


def test_lock_codes_value_drops_codes() -> None:
    raw = '{"1":{"name":"Family","code":"1234"},"2":"junk"}'
    assert parse_value("lockCodes", raw) == {"1": {"name": "Family"}, "2": {"name": None}}
    assert parse_value("lockCodes", "7yQ1kV0pN2Zs+e9aWq4b3Rg0LmT1xHc8dJ5uF6oI2yE=") is None
    assert parse_value("lockCodes", None) is None


def test_parse_value_huge_number_text() -> None:
    assert parse_value("level", "9" * 5000) is None
    assert parse_value("unknownName", "9" * 5000) == "9" * 5000
    assert parse_value("level", "1e400") == 1
    assert parse_value("level", math.inf) is None
    assert parse_value("level", math.nan) is None


@pytest.mark.parametrize(
    ("label", "name", "expected"),
    [
        ("Kitchen Ceiling", "Generic Dimmer", "Kitchen Ceiling"),
        (None, "Nursery Temp Sensor", "Nursery Temp Sensor"),
        ("null", "Name", "Name"),
        ("  ", "Name", "Name"),
        (None, "Front Door Lock on Main Hub", "Front Door Lock"),
        ("Kitchen Ceiling on Main Hub", "x", "Kitchen Ceiling"),
        ("Kitchen Ceiling ON MAIN HUB", "x", "Kitchen Ceiling"),
        ("Lamp on Garage Hub", "x", "Lamp"),
        ("Lamp on Other Hub", "x", "Lamp on Other Hub"),
        ("Lamp on Main Hubby", "x", "Lamp on Main Hubby"),
        (" on Main Hub", "x", "on Main Hub"),
        (None, None, ""),
        (5, None, "5"),
    ],
)
def test_display_label(label: Any, name: Any, expected: str) -> None:
    assert display_label(label, name, ["Main Hub", "Garage Hub"]) == expected


def test_display_label_accepts_mapping_of_names() -> None:
    assert display_label("Lamp on Garage Hub", None, HUB_NAMES) == "Lamp"


def test_display_label_longest_hub_name_wins() -> None:
    assert display_label("Lamp on Main Hub", None, ["Hub", "Main Hub"]) == "Lamp"


# One row per quirk in the hub protocol notes: trigger → right behaviour.
def test_quirk_groovy_list() -> None:
    assert parse_value("supportedThermostatModes", "[off, heat, cool]") == ["off", "heat", "cool"]


def test_quirk_fan_speeds_null_falls_back() -> None:
    detail = parse_device_detail(load_json("main-hub/device_details/74.json"), *MAIN_HUB)
    assert detail is not None
    assert detail.fan_speeds == STANDARD_FAN_SPEEDS
    # /devices/all carries no speed values, only the bogus top-level "values" key.
    (purifier,) = parse_devices_all(
        [
            {
                "id": "310",
                "capabilities": ["FanControl"],
                "attributes": {"values": ["x", "y"], "speed": "low", "supportedFanSpeeds": None},
            }
        ],
        *MAIN_HUB,
    )
    assert purifier.fan_speeds == STANDARD_FAN_SPEEDS


def test_quirk_speed_and_mode_outside_lists() -> None:
    assert parse_value("speed", "very-low") == "very-low"
    assert parse_value("thermostatMode", "dry") == "dry"
    event = normalize_event("main", {"content": {"name": "speed", "value": "very-low"}}, "webhook")
    assert event is not None
    assert event.value == "very-low"


def test_quirk_junk_numbers_keep_raw() -> None:
    (device,) = parse_devices_all(
        [{"id": "1", "attributes": {"battery": "unknown", "voc": "Harmful", "level": "Lvl 7"}}],
        *MAIN_HUB,
    )
    assert device.attributes["battery"] == Attribute(value=None, raw="unknown")
    assert device.attributes["voc"] == Attribute(value=None, raw="Harmful")
    assert device.attributes["level"] == Attribute(value=7, raw="Lvl 7")
    assert parse_value("battery", "Battery 76%") == 76


def test_quirk_enums_never_numbers() -> None:
    assert parse_value("carbonMonoxide", "clear") == "clear"
    assert parse_value("powerSource", "dc") == "dc"


def test_quirk_tv_power_word() -> None:
    tv = HOME["main:330"]
    assert tv.attributes["power"] == Attribute(value=None, raw="PowerOn")
    assert tv.has_power_meter is False
    assert tv.kind == "switch"


def test_quirk_three_axis() -> None:
    assert parse_value("threeAxis", "[x:1,y:2,z:3]") == {"x": 1, "y": 2, "z": 3}
    assert parse_value("threeAxis", "tilted") == "tilted"


def test_quirk_unknown_data_type() -> None:
    device = parse_device_detail(
        {"id": "9", "attributes": [{"name": "armed", "currentValue": "false", "dataType": "BOOL"}]},
        *MAIN_HUB,
    )
    assert device is not None
    assert device.attributes["armed"].value == "false"


def test_quirk_hue_above_100() -> None:
    assert HOME["main:320"].hue_scale == 360
    assert HOME["main:47"].hue_scale == 100


def test_quirk_code_length_informational() -> None:
    lock = HOME["main:104"]
    assert lock.attributes["codeLength"].value == 4
    assert lock.kind == "lock"
    specs = parse_command_specs(load_json("main-hub/device_commands/104.json"))
    assert specs["lock"].arg_types == []
    assert specs["unlock"].arg_types == []


def test_quirk_null_label() -> None:
    assert HOME["main:161"].label == "Nursery Temp Sensor"
    assert HOME["main:270"].label == "Guest Mode"


def test_quirk_hub_mesh_copy() -> None:
    twin = HOME["garage:1203"]
    assert twin.label == "Front Door Lock"
    assert twin.twin_of == "main:104"
    assert HOME["main:104"].twins == ["garage:1203"]
    assert HOME["garage:13"].twin_of is None
    assert HOME["main:360"].twins == []


# Arbitrary JSON, including the float values json.loads accepts (NaN, Infinity).
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(
        ["null", "unknown", "Battery 76%", "[x:1,y:2]", "[a, b]", "{}", "[", "0", "-1.5"]
    )
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)
ATTRIBUTE_NAMES = st.sampled_from(
    [
        "temperature",
        "power",
        "hue",
        "threeAxis",
        "lockCodes",
        "supportedFanSpeeds",
        "speed",
        "switch",
        "outdoorTemperature",
        "dataType",
        "values",
        "x",
    ]
) | st.text(max_size=12)
CAPABILITIES = st.sampled_from(
    ["Switch", "PowerMeter", "FanControl", "ColorControl", "LockCodes", "Lock", "Sensor"]
)
DEVICE_ENTRIES = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(), st.text(max_size=4), JSON_SCALARS)},
    optional={
        "name": JSON_SCALARS,
        "label": JSON_SCALARS,
        "type": JSON_SCALARS,
        "room": JSON_SCALARS,
        "date": JSON_SCALARS,
        "capabilities": st.lists(CAPABILITIES | JSON_VALUES, max_size=5) | JSON_VALUES,
        "attributes": st.dictionaries(ATTRIBUTE_NAMES, JSON_VALUES, max_size=6)
        | st.lists(
            st.fixed_dictionaries(
                {"name": ATTRIBUTE_NAMES | JSON_SCALARS, "currentValue": JSON_VALUES},
                optional={"values": JSON_VALUES, "dataType": JSON_SCALARS},
            )
            | JSON_VALUES,
            max_size=6,
        )
        | JSON_VALUES,
        "commands": st.lists(
            st.fixed_dictionaries({"command": JSON_SCALARS}, optional={"type": JSON_VALUES})
            | JSON_SCALARS,
            max_size=4,
        )
        | JSON_VALUES,
    },
)
EVENT_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "name": JSON_SCALARS,
        "value": JSON_VALUES,
        "deviceId": st.integers() | JSON_SCALARS,
        "source": JSON_SCALARS,
        "unit": JSON_SCALARS,
        "type": JSON_SCALARS,
        "data": JSON_VALUES,
        "displayName": JSON_SCALARS,
        "descriptionText": JSON_SCALARS,
    },
)


@settings(max_examples=300, deadline=None)
@given(payload=JSON_VALUES | st.lists(DEVICE_ENTRIES, max_size=4) | DEVICE_ENTRIES)
def test_parsers_never_raise(payload: Any) -> None:
    for device in parse_devices_all(payload, *MAIN_HUB, hub_names=HUB_NAMES.values()):
        assert isinstance(device.device_id, str)
        assert isinstance(device.label, str)
        assert device.label
    detail = parse_device_detail(payload, *MAIN_HUB)
    assert detail is None or isinstance(detail.device_id, str)
    for entry in parse_device_list(payload):
        assert isinstance(entry["id"], str)
    for name, spec in parse_command_specs(payload).items():
        assert name == spec.name
        assert all(isinstance(arg_type, str) for arg_type in spec.arg_types)
    assert all(isinstance(unit, str) for unit in parse_device_events(payload).values())


@settings(max_examples=300, deadline=None)
@given(payload=JSON_VALUES | EVENT_BODIES | st.builds(lambda b: {"content": b}, EVENT_BODIES))
def test_normalize_event_never_raises(payload: Any) -> None:
    for source in ("eventsocket", "webhook"):
        event = normalize_event("main", payload, source)
        if event is None:
            continue
        assert event.name
        assert event.device_id is None or isinstance(event.device_id, str)
        assert event.device_id != "0"
        assert event.origin
        assert event.unit is None or (isinstance(event.unit, str) and event.unit != "null")
        assert event.data is None or isinstance(event.data, str)


@settings(max_examples=300, deadline=None)
@given(name=ATTRIBUTE_NAMES, raw=JSON_VALUES)
def test_value_helpers_never_raise(name: str, raw: Any) -> None:
    value = parse_value(name, raw)
    if name in ("temperature", "power", "hue"):
        assert value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        assert not isinstance(value, float) or math.isfinite(value)
    if name == "power":
        assert value is None or isinstance(value, float)
    listed = parse_list(raw)
    assert listed is None or all(isinstance(item, str) for item in listed)
    assert isinstance(display_label(raw, raw, ["Main Hub"]), str)
    unit = unit_for(name, raw if isinstance(raw, str) else None, "F")
    assert unit is None or isinstance(unit, str)
