"""Hub Mesh twins: found by hub-name suffix and driver type, never by label alone."""

from __future__ import annotations

from fixtures_path import GARAGE_HUB, HUB_NAMES, MAIN_HUB, load_json
from hypothesis import given, settings
from hypothesis import strategies as st

from tiles_edge.hubs.mesh import apply_twins, find_twins
from tiles_edge.hubs.model import Device
from tiles_edge.hubs.normalize import parse_devices_all

THREE_HUBS = {"main": "Main Hub", "garage": "Garage Hub", "barn": "Barn"}


def make_device(
    uid: str, name: str, label: str | None = None, device_type: str = "Virtual Switch"
) -> Device:
    hub_id, device_id = uid.split(":")
    return Device(
        hub_id=hub_id,
        device_id=device_id,
        name=name,
        label=label or name,
        raw_label=label,
        type=device_type,
        room=None,
        capabilities=["Switch"],
        attributes={},
        commands={},
    )


def demo_home() -> list[Device]:
    names = list(HUB_NAMES.values())
    return parse_devices_all(
        load_json("main-hub/devices_all.json"), *MAIN_HUB, hub_names=names
    ) + parse_devices_all(load_json("garage-hub/devices_all.json"), *GARAGE_HUB, hub_names=names)


def test_demo_home_twins() -> None:
    assert find_twins(demo_home(), HUB_NAMES) == {
        "garage:1203": "main:104",
        "garage:1204": "main:12",
        "garage:1205": "main:270",
    }


def test_demo_home_apply_twins() -> None:
    devices = demo_home()
    apply_twins(devices, find_twins(devices, HUB_NAMES))
    by_uid = {device.uid: device for device in devices}
    assert by_uid["garage:1203"].twin_of == "main:104"
    assert by_uid["main:104"].twins == ["garage:1203"]
    assert by_uid["main:12"].twins == ["garage:1204"]
    assert by_uid["main:270"].twins == ["garage:1205"]
    assert by_uid["garage:13"].twin_of is None
    assert by_uid["main:360"].twins == []
    assert sum(1 for device in devices if device.twin_of) == 3


def test_same_label_is_no_twin() -> None:
    devices = [
        make_device("main:360", "Office Desk Lamp", "Desk Lamp", "Generic Zigbee Bulb"),
        make_device("garage:13", "Workshop Desk Lamp", "Desk Lamp", "Generic Zigbee Bulb"),
    ]
    assert find_twins(devices, HUB_NAMES) == {}


def test_other_driver_type_no_twin() -> None:
    devices = [
        make_device("main:1", "Lamp", device_type="Generic Zigbee Bulb"),
        make_device("garage:2", "Lamp on Main Hub", device_type="Generic Z-Wave Switch"),
    ]
    assert find_twins(devices, HUB_NAMES) == {}


def test_suffix_of_own_hub_is_no_twin() -> None:
    devices = [
        make_device("main:1", "Lamp"),
        make_device("main:2", "Lamp on Main Hub"),
    ]
    assert find_twins(devices, HUB_NAMES) == {}


def test_unconfigured_hub_no_twin() -> None:
    devices = [make_device("main:1", "Lamp"), make_device("garage:2", "Lamp on Attic Hub")]
    assert find_twins(devices, HUB_NAMES) == {}


def test_suffix_must_name_source_hub() -> None:
    # The copy names Barn, but the only "Lamp" lives on Main Hub.
    devices = [make_device("main:1", "Lamp"), make_device("garage:2", "Lamp on Barn")]
    assert find_twins(devices, THREE_HUBS) == {}


def test_twin_suffix_in_label_or_name() -> None:
    devices = [
        make_device("main:1", "Lamp"),
        make_device("main:3", "Fan Driver", "Fan"),
        make_device("garage:2", "Lamp on Main Hub"),
        make_device("garage:4", "Whatever", "Fan on Main Hub"),
    ]
    assert find_twins(devices, HUB_NAMES) == {"garage:2": "main:1", "garage:4": "main:3"}


def test_twin_match_ignores_case_and_spacing() -> None:
    devices = [
        make_device("main:1", "Porch  Light"),
        make_device("garage:2", "porch light ON main hub"),
    ]
    assert find_twins(devices, HUB_NAMES) == {"garage:2": "main:1"}


def test_ambiguous_source_is_no_twin() -> None:
    devices = [
        make_device("main:1", "Lamp"),
        make_device("main:2", "Lamp"),
        make_device("garage:3", "Lamp on Main Hub"),
    ]
    assert find_twins(devices, HUB_NAMES) == {}


def test_copies_on_two_hubs_share_one_source() -> None:
    devices = [
        make_device("main:1", "Lamp"),
        make_device("garage:2", "Lamp on Main Hub"),
        make_device("barn:3", "Lamp on Main Hub"),
    ]
    twins = find_twins(devices, THREE_HUBS)
    assert twins == {"garage:2": "main:1", "barn:3": "main:1"}
    apply_twins(devices, twins)
    assert devices[0].twins == ["barn:3", "garage:2"]


def test_override_merges() -> None:
    devices = [make_device("main:1", "Lamp"), make_device("garage:2", "Workshop Lamp")]
    assert find_twins(devices, HUB_NAMES) == {}
    assert find_twins(devices, HUB_NAMES, {"garage:2": "main:1"}) == {"garage:2": "main:1"}


def test_override_splits() -> None:
    devices = [make_device("main:1", "Lamp"), make_device("garage:2", "Lamp on Main Hub")]
    assert find_twins(devices, HUB_NAMES, {"garage:2": None}) == {}


def test_override_to_missing_device_ignored() -> None:
    devices = [make_device("main:1", "Lamp"), make_device("garage:2", "Lamp on Main Hub")]
    overrides = {"garage:2": "main:99", "garage:77": "main:1", "main:1": "main:1"}
    assert find_twins(devices, HUB_NAMES, overrides) == {}


def test_twin_of_twin_resolves_to_first_source() -> None:
    devices = [
        make_device("main:1", "Lamp"),
        make_device("garage:2", "Lamp on Main Hub"),
        make_device("barn:3", "Barn Lamp"),
    ]
    twins = find_twins(devices, THREE_HUBS, {"barn:3": "garage:2"})
    assert twins == {"garage:2": "main:1", "barn:3": "main:1"}


def test_override_cycle_dropped() -> None:
    devices = [make_device("main:1", "A"), make_device("garage:2", "B")]
    assert find_twins(devices, HUB_NAMES, {"main:1": "garage:2", "garage:2": "main:1"}) == {}


def test_apply_twins_clears_stale_links() -> None:
    devices = [make_device("main:1", "Lamp"), make_device("garage:2", "Lamp on Main Hub")]
    apply_twins(devices, {"garage:2": "main:1"})
    assert devices[1].twin_of == "main:1"
    assert devices[0].twins == ["garage:2"]
    apply_twins(devices, {})
    assert devices[1].twin_of is None
    assert devices[0].twins == []


def test_apply_twins_skips_missing_devices() -> None:
    devices = [make_device("garage:2", "Lamp on Main Hub")]
    apply_twins(devices, {"garage:2": "main:1"})
    assert devices[0].twin_of is None


UIDS = st.sampled_from(["main:1", "main:2", "garage:1", "garage:2", "barn:1"])
NAMES = st.sampled_from(["Lamp", "Lamp on Main Hub", "Lamp on Garage Hub", "Lamp on Barn", "X"])


@settings(max_examples=200, deadline=None)
@given(
    entries=st.dictionaries(UIDS, st.tuples(NAMES, st.none() | NAMES, st.sampled_from("ab"))),
    overrides=st.dictionaries(UIDS, st.none() | UIDS),
)
def test_twin_map_invariants(
    entries: dict[str, tuple[str, str | None, str]], overrides: dict[str, str | None]
) -> None:
    devices = [make_device(uid, name, label, kind) for uid, (name, label, kind) in entries.items()]
    twins = find_twins(devices, THREE_HUBS, overrides)
    has_merges = any(target is not None for target in overrides.values())
    for twin_uid, source_uid in twins.items():
        assert twin_uid != source_uid
        assert twin_uid in entries
        assert source_uid in entries
        assert source_uid not in twins, "a source is never itself a twin"
        target = overrides.get(twin_uid, source_uid)
        assert target is not None, "a split device is never a twin"
        assert source_uid in (target, twins.get(target))
        if not has_merges:
            # Without merges by hand, every pair is a suffix match on another hub.
            assert twin_uid.split(":")[0] != source_uid.split(":")[0]
            assert entries[twin_uid][2] == entries[source_uid][2]
    apply_twins(devices, twins)
    assert sum(len(device.twins) for device in devices) == len(twins)
