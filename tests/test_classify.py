"""Tile kinds by the capability chain, and the facts ``enrich`` derives."""

from __future__ import annotations

from typing import Any

import pytest

from tiles_edge.hubs.classify import STANDARD_FAN_SPEEDS, classify, enrich
from tiles_edge.hubs.model import Attribute, Device
from tiles_edge.hubs.values import parse_value


def make_device(
    capabilities: list[str] | None = None,
    attributes: dict[str, Any] | None = None,
    *,
    label: str | None = "Thing",
    name: str = "Thing Driver",
    device_type: str = "Some Driver",
    hub_id: str = "main",
    device_id: str = "1",
) -> Device:
    return Device(
        hub_id=hub_id,
        device_id=device_id,
        name=name,
        label="",
        raw_label=label,
        type=device_type,
        room=None,
        capabilities=capabilities or [],
        attributes={
            key: Attribute(value=parse_value(key, raw), raw=raw)
            for key, raw in (attributes or {}).items()
        },
        commands={},
    )


@pytest.mark.parametrize(
    ("capabilities", "kind"),
    [
        (["Thermostat", "Lock"], "thermostat"),
        (["ThermostatOperatingState", "Switch"], "thermostat"),
        (["Lock", "GarageDoorControl"], "lock"),
        (["GarageDoorControl", "WindowShade"], "garage_door"),
        (["DoorControl", "ContactSensor"], "garage_door"),
        (["WindowShade", "FanControl", "SwitchLevel"], "shade"),
        (["WindowBlind"], "shade"),
        (["FanControl", "Valve", "Switch"], "fan"),
        (["Valve", "SmokeDetector"], "valve"),
        (["SmokeDetector", "MusicPlayer"], "smoke_co"),
        (["CarbonMonoxideDetector"], "smoke_co"),
        (["MusicPlayer", "ColorControl", "Switch"], "media"),
        (["AudioVolume"], "media"),
        (["ColorControl", "SwitchLevel"], "color_light"),
        (["ColorTemperature", "SwitchLevel"], "color_light"),
        (["SwitchLevel", "PushableButton", "PowerMeter"], "dimmer"),
        (["PushableButton", "MotionSensor"], "button"),
        (["HoldableButton"], "button"),
        (["DoubleTapableButton"], "button"),
        (["ReleasableButton"], "button"),
        (["MotionSensor", "PowerMeter", "Switch"], "sensor"),
        (["PowerMeter", "EnergyMeter"], "power_meter"),
        (["PowerMeter", "Switch"], "switch"),
        (["Switch", "Light"], "switch"),
        (["Light"], "light"),
        (["Refresh", "Actuator"], "generic"),
        ([], "generic"),
    ],
)
def test_kind_chain(capabilities: list[str], kind: str) -> None:
    assert classify(capabilities, "Some Driver", [])[0] == kind


@pytest.mark.parametrize(
    ("capabilities", "sensor_type"),
    [
        (
            [
                "IlluminanceMeasurement",
                "RelativeHumidityMeasurement",
                "TemperatureMeasurement",
                "PresenceSensor",
                "ContactSensor",
                "MotionSensor",
                "WaterSensor",
            ],
            "water",
        ),
        (["IlluminanceMeasurement", "ContactSensor", "MotionSensor"], "motion"),
        (["TemperatureMeasurement", "ContactSensor"], "contact"),
        (["TemperatureMeasurement", "PresenceSensor"], "presence"),
        (["RelativeHumidityMeasurement", "TemperatureMeasurement"], "temperature"),
        (["IlluminanceMeasurement", "RelativeHumidityMeasurement"], "humidity"),
        (["IlluminanceMeasurement"], "illuminance"),
    ],
)
def test_sensor_type_order(capabilities: list[str], sensor_type: str) -> None:
    assert classify(capabilities, "x", []) == ("sensor", sensor_type)


def test_sensor_type_only_for_sensors() -> None:
    assert classify(["Thermostat", "TemperatureMeasurement"], "x", []) == ("thermostat", None)


@pytest.mark.parametrize(
    "device_type", ["Color Bulb", "Generic Zigbee Color Bulb", "dimmer switch"]
)
def test_light_by_driver_type(device_type: str) -> None:
    assert classify(["Refresh"], device_type, []) == ("light", None)


def test_driver_type_loses_to_capabilities() -> None:
    assert classify(["Switch"], "Color Bulb", []) == ("switch", None)


def test_capability_names_case_and_prefix() -> None:
    assert classify(["switchlevel"], "x", [])[0] == "dimmer"
    assert classify(["capability.lock"], "x", [])[0] == "lock"


@pytest.mark.parametrize(
    ("attribute_names", "expected"),
    [
        (["thermostatMode", "temperature"], ("thermostat", None)),
        (["lock", "battery"], ("lock", None)),
        (["door"], ("garage_door", None)),
        (["windowShade", "level"], ("shade", None)),
        (["speed", "switch"], ("fan", None)),
        (["hue", "level", "switch"], ("color_light", None)),
        (["level", "switch"], ("dimmer", None)),
        (["pushed", "numberOfButtons"], ("button", None)),
        (["temperature", "motion"], ("sensor", "motion")),
        (["humidity"], ("sensor", "humidity")),
        (["power"], ("power_meter", None)),
        (["power", "switch"], ("switch", None)),
        (["battery", "rssi"], ("generic", None)),
    ],
)
def test_kind_from_attribute_names(
    attribute_names: list[str], expected: tuple[str, str | None]
) -> None:
    assert classify(["Sensor", "Battery"], "x", attribute_names) == expected


def test_attributes_ignored_when_capabilities_match() -> None:
    # A media player reports "level" and a shade reports "level": capabilities decide.
    assert classify(["Switch"], "x", ["level", "hue"]) == ("switch", None)


def test_classify_tolerates_junk() -> None:
    assert classify([None, 5, "Switch"], None, [None]) == ("switch", None)  # type: ignore[list-item,arg-type]


def test_enrich_label_and_kind() -> None:
    device = make_device(["Switch"], {"switch": "on"}, label=None, name="Porch on Main Hub")
    enrich(device, ["Main Hub"])
    assert device.label == "Porch"
    assert device.kind == "switch"
    assert device.sensor_type is None


@pytest.mark.parametrize(
    ("capabilities", "power", "expected"),
    [
        (["Switch", "PowerMeter"], "0.0", True),
        (["Switch", "PowerMeter"], "1450.7", True),
        (["Switch", "PowerMeter"], 387.5, True),
        (["Switch", "PowerMeter"], "PowerOn", False),
        (["Switch", "PowerMeter"], None, False),
        (["Switch", "PowerMeter"], "unknown", False),
        (["Switch", "TV"], "PowerOn", False),
        (["Switch", "Outlet"], "12", False),
        (["PowerMeter"], "1843", True),
    ],
)
def test_has_power_meter(capabilities: list[str], power: Any, expected: bool) -> None:
    device = make_device(capabilities, {"switch": "on", "power": power})
    enrich(device, [])
    assert device.has_power_meter is expected


def test_has_power_meter_needs_power_attribute() -> None:
    device = make_device(["Switch", "PowerMeter"], {"switch": "on"})
    enrich(device, [])
    assert device.has_power_meter is False


@pytest.mark.parametrize(
    ("label", "attributes", "expected"),
    [
        ("Outdoor Weather", {"temperature": "41"}, True),
        ("Back OUTDOOR sensor", {"temperature": "41"}, True),
        ("Weather Station", {"temperature": "41", "outdoorTemperature": "40"}, True),
        ("Attic Temp", {"temperature": "104"}, False),
    ],
)
def test_outdoor(label: str, attributes: dict[str, Any], expected: bool) -> None:
    device = make_device(["TemperatureMeasurement"], attributes, label=label)
    enrich(device, [])
    assert device.outdoor is expected


@pytest.mark.parametrize(
    ("capabilities", "hue", "expected"),
    [
        (["ColorControl"], "8", 100),
        (["ColorControl"], "100", 100),
        (["ColorControl"], "210", 360),
        (["ColorControl"], "junk", 100),
        (["ColorControl"], None, 100),
        (["Switch"], "240", 360),
        (["ColorTemperature", "SwitchLevel"], None, None),
        (["Switch"], None, None),
    ],
)
def test_hue_scale(capabilities: list[str], hue: Any, expected: int | None) -> None:
    attributes = {"hue": hue} if hue is not None or "ColorControl" in capabilities else {}
    device = make_device(capabilities, attributes)
    enrich(device, [])
    assert device.hue_scale == expected


def test_hue_scale_360_sticks_once_seen() -> None:
    device = make_device(["ColorControl"], {"hue": "240"})
    enrich(device, [])
    device.attributes["hue"] = Attribute(value=50, raw="50")
    enrich(device, [])
    assert device.hue_scale == 360


@pytest.mark.parametrize(
    ("attributes", "preset", "expected"),
    [
        ({"supportedFanSpeeds": '["low","high"]'}, None, ["low", "high"]),
        ({"supportedFanSpeeds": "[low, high]"}, ["x"], ["low", "high"]),
        ({"supportedFanSpeeds": None}, ["quiet", "turbo"], ["quiet", "turbo"]),
        ({"supportedFanSpeeds": "[]"}, None, list(STANDARD_FAN_SPEEDS)),
        ({"supportedFanSpeeds": None, "speed": "very-low"}, None, list(STANDARD_FAN_SPEEDS)),
        ({}, None, list(STANDARD_FAN_SPEEDS)),
    ],
)
def test_fan_speeds(
    attributes: dict[str, Any], preset: list[str] | None, expected: list[str]
) -> None:
    device = make_device(["FanControl", "Switch"], attributes)
    device.fan_speeds = preset
    enrich(device, [])
    assert device.fan_speeds == expected


def test_fan_speeds_none_for_other_kinds() -> None:
    device = make_device(["Switch"], {"speed": "low"})
    enrich(device, [])
    assert device.fan_speeds is None


@pytest.mark.parametrize(
    ("lock_codes", "expected"),
    [
        ("7yQ1kV0pN2Zs+e9aWq4b3Rg0LmT1xHc8dJ5uF6oI2yE=", False),
        ('{"1":{"name":"Family","code":"****"}}', True),
        ({"1": {"name": "Family"}}, True),
        ("[1, 2]", False),
        ("{}", True),
        (None, None),
        ("null", None),
    ],
)
def test_lock_codes_readable(lock_codes: Any, expected: bool | None) -> None:
    device = make_device(["Lock", "LockCodes"], {"lock": "locked", "lockCodes": lock_codes})
    enrich(device, [])
    assert device.lock_codes_readable is expected


def test_lock_codes_absent() -> None:
    device = make_device(["Lock"], {"lock": "locked"})
    enrich(device, [])
    assert device.lock_codes_readable is None
