"""The hub manager: every configured hub's link, the live device state, routing and health.

It owns one ``HubLink`` per active hub and the ``DeviceState`` cache. Every update, whatever
the transport, goes through ``apply_hub_snapshot`` or ``apply_event`` here, and changes are
published on the event bus as ``device``, ``hub``, ``mode``, ``hsm`` and ``resync`` events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Protocol

from tiles_edge.config import Settings
from tiles_edge.errors import ApiError, HubError, HubTimeoutError
from tiles_edge.hubs.classify import enrich
from tiles_edge.hubs.commands import check_command
from tiles_edge.hubs.link import HubLink, HubSnapshot, LinkOptions
from tiles_edge.hubs.maker_api import HSM_ACTIONS
from tiles_edge.hubs.mesh import apply_twins, find_twins
from tiles_edge.hubs.model import Device, EventSource, HubConfig, HubEvent, HubHealth
from tiles_edge.hubs.normalize import normalize_event
from tiles_edge.hubs.state import DeviceState

logger = logging.getLogger(__name__)


class EventPublisher(Protocol):
    """The event bus as the manager uses it. ``publish`` must be synchronous and not block."""

    def publish(self, event_type: str, data: Any) -> int: ...


class HubManager:
    """Connects to every active hub and keeps the live state of all their devices.

    Timing options are taken from ``settings``, each overridable by its keyword argument
    (``None`` keeps the setting or the default).
    """

    def __init__(
        self,
        hubs: list[HubConfig],
        bus: EventPublisher,
        settings: Settings | None = None,
        *,
        hub_timeout_s: float | None = None,
        hub_silence_s: float | None = None,
        hub_backoff_max_s: float | None = None,
        hub_resync_interval_s: float | None = None,
        hub_poll_interval_s: float | None = None,
        hub_webhook_silence_s: float | None = None,
        event_dedupe_window_ms: int | None = None,
        temperature_scale: str | None = None,
        command_confirm_timeout_s: float | None = None,
    ) -> None:
        self.options = LinkOptions.build(
            settings,
            hub_timeout_s=hub_timeout_s,
            hub_silence_s=hub_silence_s,
            hub_backoff_max_s=hub_backoff_max_s,
            hub_resync_interval_s=hub_resync_interval_s,
            hub_poll_interval_s=hub_poll_interval_s,
            hub_webhook_silence_s=hub_webhook_silence_s,
            event_dedupe_window_ms=event_dedupe_window_ms,
            temperature_scale=temperature_scale,
            command_confirm_timeout_s=command_confirm_timeout_s,
        )
        self._bus = bus
        self._hubs = _ordered(hubs)
        self._links: dict[str, HubLink] = {}
        self._state = DeviceState(
            temperature_scale=self.options.temperature_scale,
            dedupe_window_ms=self.options.event_dedupe_window_ms,
        )
        self._modes: dict[str, list[dict[str, Any]]] = {}
        self._hsm: dict[str, str | None] = {}
        self._hsm_alert: dict[str, str | None] = {}
        self._twin_overrides: dict[str, str | None] = {}
        self._twins: dict[str, str] = {}
        self._started = False

    # Lifecycle.

    async def start(self) -> None:
        """Start one link per active hub. Returns at once: hubs connect in the background."""
        if self._started:
            return
        self._started = True
        for hub in self._hubs.values():
            if hub.active:
                self._start_link(hub)

    async def stop(self) -> None:
        """Cancel and await every hub task and close every HTTP client. Idempotent."""
        self._started = False
        links = list(self._links.values())
        self._links.clear()
        await asyncio.gather(*(link.stop() for link in links))

    async def replace_hubs(self, hubs: list[HubConfig]) -> None:
        """Apply a new hub list live: start added hubs, restart changed ones, drop removed ones."""
        new = _ordered(hubs)
        old = self._hubs
        self._hubs = new
        dropped = False
        for hub_id, hub in old.items():
            if hub_id not in new or not new[hub_id].active:
                dropped = dropped or self._state.has_snapshot(hub_id)
                await self._drop_hub(hub_id)
            elif new[hub_id] != hub:
                await self._stop_link(hub_id)
        if self._started:
            for hub in new.values():
                if hub.active and hub.hub_id not in self._links:
                    self._start_link(hub)
        # Added hubs publish their own resync with their first snapshot.
        if self._relink_twins() or dropped:
            self._publish_resync("hubs_changed")

    # Reading state.

    def devices(self) -> list[Device]:
        """Return one device per physical device, with Hub Mesh twins folded into their source."""
        return [device for device in self.native_devices() if device.twin_of is None]

    def native_devices(self) -> list[Device]:
        """Return every device of every active hub in hub order, twins included."""
        devices: list[Device] = []
        for hub_id in self._hubs:
            devices.extend(self._state.hub_devices(hub_id))
        return devices

    def get_device(self, uid: str) -> Device:
        """Return the device ``<hubId>:<deviceId>``, or by bare device id when unambiguous."""
        if ":" in uid:
            hub_id, _, device_id = uid.partition(":")
            device = self._state.get(hub_id, device_id)
            if device is None:
                raise ApiError(404, "device_not_found", f"no device {uid!r} on any hub")
            return device
        matches = self._state.find(uid)
        if not matches:
            raise ApiError(404, "device_not_found", f"no device {uid!r} on any hub")
        if len(matches) > 1:
            uids = ", ".join(device.uid for device in matches)
            raise ApiError(
                400,
                "device_id_ambiguous",
                f"device id {uid!r} exists on several hubs ({uids}): use the uid",
            )
        return matches[0]

    def device_online(self, device: Device) -> bool:
        """Return whether the device can take a command because its hub or a twin's hub is up."""
        if self._hub_reachable(device.hub_id):
            return True
        return any(self._hub_reachable(twin.split(":", 1)[0]) for twin in device.twins)

    def health(self) -> list[HubHealth]:
        return [link.tracker.health for link in self._links.values()]

    def hub_names(self) -> dict[str, str]:
        return {hub_id: hub.name for hub_id, hub in self._hubs.items()}

    def hub_config(self, hub_id: str) -> HubConfig | None:
        return self._hubs.get(hub_id)

    def modes(self) -> dict[str, list[dict[str, Any]]]:
        return {hub_id: [dict(mode) for mode in modes] for hub_id, modes in self._modes.items()}

    def hsm(self) -> dict[str, str | None]:
        return dict(self._hsm)

    def set_twin_overrides(self, overrides: Mapping[str, str | None]) -> None:
        """Set the admin's twin choices: ``{twin: source}`` merges, ``{uid: None}`` splits."""
        self._twin_overrides = dict(overrides)
        if self._relink_twins():
            self._publish_resync("twins_changed")

    # Actions.

    async def send_command(self, uid: str, command: str, args: list[Any]) -> dict[str, Any]:
        """Check and send a command, and return once the hub has replied.

        A command goes to the device's own hub. A twin's command goes to its source hub, or to
        the twin's hub when the source hub is offline.
        """
        device = self.get_device(uid)
        link = self._links.get(device.hub_id)
        if link is not None:
            await link.ensure_command_specs(device)
        args = check_command(device, command, args)

        target = self._route(device, command)
        target_link = self._links.get(target.hub_id)
        if target_link is None:
            raise ApiError(
                503, "hub_inactive", f"hub '{target.hub_id}' of device {uid} is not active"
            )
        try:
            await target_link.client.send_command(target.device_id, command, args)
        except HubError as err:
            raise _api_error(err) from err
        logger.debug("command %s sent to %s", command, target.uid)
        return {
            "uid": device.uid,
            "hubId": target.hub_id,
            "deviceId": target.device_id,
            "command": command,
            "args": args,
        }

    async def set_mode(self, hub_id: str, mode_id: int | str) -> dict[str, Any]:
        """Set the location mode of ``hub_id`` to the mode with id ``mode_id``."""
        link = self._link(hub_id)
        modes = self._modes.get(hub_id)
        if modes is None:
            modes = await self._call(link, link.client.modes())
            self._update_modes(hub_id, modes)
            modes = self._modes[hub_id]
        wanted = str(mode_id).strip()
        if not any(str(mode["id"]) == wanted for mode in modes):
            known = ", ".join(f"{mode['id']} ({mode['name']})" for mode in modes) or "none"
            raise ApiError(
                400, "unknown_mode", f"hub '{hub_id}' has no mode {wanted!r}; its modes: {known}"
            )
        reply = await self._call(link, link.client.set_mode(wanted))
        self._update_modes(hub_id, reply)
        return self._mode_payload(hub_id)

    async def set_hsm(self, hub_id: str, action: str) -> dict[str, Any]:
        """Send an HSM action (``armAway``, ``disarm``, …) to ``hub_id``."""
        link = self._link(hub_id)
        if action not in HSM_ACTIONS:
            allowed = ", ".join(sorted(HSM_ACTIONS))
            raise ApiError(
                400, "unknown_hsm_action", f"unknown HSM action {action!r}: use one of {allowed}"
            )
        status = await self._call(link, link.client.set_hsm(action))
        if status is not None:
            self._update_hsm(hub_id, status=status)
        return {"hubId": hub_id, "status": self._hsm.get(hub_id), "action": action}

    async def handle_webhook(self, hub_id: str, body: Any) -> None:
        """Apply one webhook body (the route has already checked the token)."""
        link = self._links.get(hub_id)
        if link is None:
            logger.debug("webhook for inactive or unknown hub %r ignored", hub_id)
            return
        link.webhook_received()
        event = normalize_event(hub_id, body, "webhook")
        if event is not None:
            self.apply_event(event)

    # The one update path (LinkOwner).

    def current_devices(self, hub_id: str) -> list[Device]:
        return self._state.hub_devices(hub_id)

    def apply_hub_snapshot(self, hub_id: str, snapshot: HubSnapshot, source: EventSource) -> None:
        if hub_id not in self._links:
            return  # The hub was removed while its snapshot was in flight.
        diff = self._state.apply_snapshot(hub_id, snapshot.devices, source=source)
        twins_changed = self._relink_twins()
        for change in diff.changes:
            self._bus.publish("device", change)
        if snapshot.modes is not None:
            self._update_modes(hub_id, snapshot.modes)
        if snapshot.hsm is not None:
            self._update_hsm(hub_id, status=snapshot.hsm)
        if diff.needs_resync or twins_changed:
            self._publish_resync("devices_changed", hub_id)
        logger.debug(
            "hub %r: %s applied, %d devices, %d changes",
            hub_id,
            source,
            len(snapshot.devices),
            len(diff.changes),
        )

    def apply_event(self, event: HubEvent) -> None:
        link = self._links.get(event.hub_id)
        if link is None or event.origin == "APP":
            return
        if event.device_id is not None:
            payload = self._state.apply_event(event)
            if payload is None:
                return
            device = self._state.get(event.hub_id, event.device_id)
            if device is not None:
                enrich(device, self.hub_names())
            self._bus.publish("device", payload)
            return
        if event.name == "mode":
            self._activate_mode(event.hub_id, event.value)
        elif event.name == "hsmStatus":
            self._update_hsm(event.hub_id, status=_text(event.value))
        elif event.name == "hsmAlert":
            self._update_hsm(event.hub_id, alert=_text(event.value))
        elif event.name == "systemStart":
            logger.info("hub %r restarted: taking a fresh snapshot", event.hub_id)
            link.request_snapshot()

    def publish_health(self, health: HubHealth) -> None:
        self._bus.publish("hub", health.to_json())

    # Helpers.

    def _start_link(self, hub: HubConfig) -> None:
        link = HubLink(hub, self, self.options)
        self._links[hub.hub_id] = link
        link.start()

    async def _stop_link(self, hub_id: str) -> None:
        link = self._links.pop(hub_id, None)
        if link is not None:
            await link.stop()

    async def _drop_hub(self, hub_id: str) -> None:
        await self._stop_link(hub_id)
        self._state.drop_hub(hub_id)
        self._modes.pop(hub_id, None)
        self._hsm.pop(hub_id, None)
        self._hsm_alert.pop(hub_id, None)

    def _link(self, hub_id: str) -> HubLink:
        link = self._links.get(hub_id)
        if link is None:
            if hub_id in self._hubs:
                raise ApiError(503, "hub_inactive", f"hub '{hub_id}' is not active")
            raise ApiError(404, "hub_not_found", f"no hub with id {hub_id!r}")
        return link

    async def _call(self, link: HubLink, call: Any) -> Any:
        try:
            return await call
        except HubError as err:
            raise _api_error(err) from err

    def _hub_reachable(self, hub_id: str) -> bool:
        link = self._links.get(hub_id)
        return link is not None and link.tracker.health.state != "offline"

    def _route(self, device: Device, command: str) -> Device:
        """Pick where a command goes: the source device, else a twin on a reachable hub."""
        source = device
        if device.twin_of is not None:
            source = self._state_device(device.twin_of) or device
        if self._hub_reachable(source.hub_id):
            return source
        for twin_uid in source.twins:
            twin = self._state_device(twin_uid)
            if twin is not None and command in twin.commands and self._hub_reachable(twin.hub_id):
                logger.info(
                    "hub %r is offline: command %s for %s goes to twin %s",
                    source.hub_id,
                    command,
                    source.uid,
                    twin.uid,
                )
                return twin
        return source

    def _state_device(self, uid: str) -> Device | None:
        hub_id, _, device_id = uid.partition(":")
        return self._state.get(hub_id, device_id)

    def _relink_twins(self) -> bool:
        """Recompute Hub Mesh twins across hubs and return whether the pairing changed."""
        devices = self.native_devices()
        twins = find_twins(devices, self.hub_names(), self._twin_overrides)
        apply_twins(devices, twins)
        changed = twins != self._twins
        self._twins = twins
        return changed

    def _update_modes(self, hub_id: str, raw_modes: Any) -> None:
        modes = _parse_modes(raw_modes)
        if modes == self._modes.get(hub_id):
            return
        self._modes[hub_id] = modes
        self._bus.publish("mode", self._mode_payload(hub_id))

    def _activate_mode(self, hub_id: str, name: Any) -> None:
        active = _text(name)
        if active is None:
            return
        modes = [dict(mode) for mode in self._modes.get(hub_id, [])]
        if modes and not any(mode["name"] == active for mode in modes):
            # A mode added on the hub since the last snapshot: the next snapshot lists it.
            link = self._links.get(hub_id)
            if link is not None:
                link.request_snapshot()
        for mode in modes:
            mode["active"] = mode["name"] == active
        self._modes[hub_id] = modes
        payload = self._mode_payload(hub_id)
        payload["active"] = active
        self._bus.publish("mode", payload)

    def _mode_payload(self, hub_id: str) -> dict[str, Any]:
        modes = self._modes.get(hub_id, [])
        active = next((mode["name"] for mode in modes if mode["active"]), None)
        return {"hubId": hub_id, "modes": [dict(mode) for mode in modes], "active": active}

    def _update_hsm(
        self, hub_id: str, *, status: str | None = None, alert: str | None = None
    ) -> None:
        changed = False
        if status is not None and (hub_id not in self._hsm or self._hsm[hub_id] != status):
            self._hsm[hub_id] = status
            changed = True
        payload: dict[str, Any] = {"hubId": hub_id}
        if alert is not None:
            # "cancel" ends the alert, while intrusion*, smoke, water and others start one.
            self._hsm_alert[hub_id] = None if alert == "cancel" else alert
            payload["alert"] = alert
            changed = True
        if not changed:
            return
        payload["status"] = self._hsm.get(hub_id)
        self._bus.publish("hsm", payload)

    def _publish_resync(self, reason: str, hub_id: str | None = None) -> None:
        self._bus.publish("resync", {"reason": reason, "hubId": hub_id})


def _ordered(hubs: list[HubConfig]) -> dict[str, HubConfig]:
    return {hub.hub_id: hub for hub in sorted(hubs, key=lambda hub: hub.order)}


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text if text and text != "null" else None


def _parse_modes(raw: Any) -> list[dict[str, Any]]:
    """Keep ``{"id", "name", "active"}`` of every well-formed entry of a ``/modes`` reply."""
    modes: list[dict[str, Any]] = []
    if not isinstance(raw, list):
        return modes
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        name = _text(entry.get("name"))
        mode_id = entry.get("id")
        if name is None or mode_id is None or isinstance(mode_id, (bool, dict, list)):
            continue
        modes.append({"id": mode_id, "name": name, "active": entry.get("active") is True})
    return modes


def _api_error(err: HubError) -> ApiError:
    status = 504 if isinstance(err, HubTimeoutError) else 502
    return ApiError(status, err.code, err.message)
