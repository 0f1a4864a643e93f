"""Hub Mesh twins: the same physical device shared from one hub to another.

Hub Mesh names the copy ``"<source label> on <source hub name>"`` (often with a null label,
so the name carries the suffix) and keeps the source's driver type. A twin is therefore a
device whose label or name ends with the name of another configured hub, and whose rest
names exactly one device of that hub with the same type. A label alone never merges two
devices, because two hubs may each have their own "Desk Lamp".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from tiles_edge.hubs.model import Device
from tiles_edge.hubs.values import strip_hub_suffix

_SourceKey = tuple[str, str, str]


def find_twins(
    devices: Iterable[Device],
    hub_names: Mapping[str, str],
    overrides: Mapping[str, str | None] | None = None,
) -> dict[str, str]:
    """Return twin uid → source uid for every Hub Mesh copy among ``devices``.

    ``hub_names`` maps hub id to hub name. ``overrides`` comes from the user:
    ``{twin_uid: source_uid}`` merges two devices whatever their names, and
    ``{uid: None}`` keeps ``uid`` a device of its own. A merge whose devices are not in
    ``devices`` is ignored. A twin of a twin resolves to the first source, and a cycle of
    overrides is dropped.
    """
    by_uid = {device.uid: device for device in devices}
    overrides = overrides or {}
    index = _index_sources(by_uid.values())

    found: dict[str, str] = {}
    for device in by_uid.values():
        if device.uid in overrides:
            continue
        source = _match_source(device, hub_names, index)
        if source is not None:
            found[device.uid] = source.uid
    for twin_uid, source_uid in overrides.items():
        if source_uid is None or twin_uid == source_uid:
            continue
        if twin_uid in by_uid and source_uid in by_uid:
            found[twin_uid] = source_uid
    return _resolve_chains(found)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _index_sources(devices: Iterable[Device]) -> dict[_SourceKey, dict[str, Device]]:
    """Index devices by (hub id, folded label or name, driver type), then by uid."""
    index: dict[_SourceKey, dict[str, Device]] = defaultdict(dict)
    for device in devices:
        for text in (device.raw_label, device.name):
            if text and text.strip():
                index[(device.hub_id, _fold(text), device.type)][device.uid] = device
    return index


def _match_source(
    device: Device, hub_names: Mapping[str, str], index: Mapping[_SourceKey, dict[str, Device]]
) -> Device | None:
    """Return the single source ``device`` copies, or ``None`` when there is none or several."""
    matches: dict[str, Device] = {}
    for hub_id, hub_name in hub_names.items():
        if hub_id == device.hub_id:
            continue
        for text in (device.raw_label, device.name):
            if not text:
                continue
            base = strip_hub_suffix(text.strip(), [hub_name])
            if base is None:
                continue
            candidates = index.get((hub_id, _fold(base), device.type), {})
            matches.update(candidates)
    matches.pop(device.uid, None)
    return next(iter(matches.values())) if len(matches) == 1 else None


def _resolve_chains(found: Mapping[str, str]) -> dict[str, str]:
    resolved: dict[str, str] = {}
    for twin_uid, source_uid in found.items():
        seen = {twin_uid}
        while source_uid in found and source_uid not in seen:
            seen.add(source_uid)
            source_uid = found[source_uid]
        if source_uid not in seen:
            resolved[twin_uid] = source_uid
    return resolved


def apply_twins(devices: list[Device], twins: Mapping[str, str]) -> None:
    """Set ``twin_of`` on twins and the sorted ``twins`` list on sources, clearing old ones.

    A pair whose twin or source is not in ``devices`` is skipped.
    """
    by_uid = {device.uid: device for device in devices}
    for device in devices:
        device.twin_of = None
        device.twins = []
    for twin_uid, source_uid in twins.items():
        twin = by_uid.get(twin_uid)
        source = by_uid.get(source_uid)
        if twin is None or source is None or twin is source:
            continue
        twin.twin_of = source_uid
        source.twins.append(twin_uid)
    for device in devices:
        device.twins.sort()
