"""A simulated Hubitat hub that serves the Maker API and the eventsocket on loopback.

It is a Starlette app served by Hypercorn in the caller's event loop. Tests change its state
with ``set_attribute``, ``emit_location`` and the device methods, flip ``faults`` at runtime,
and read ``command_log`` to see which commands reached the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from tiles_edge.simulator.commands import Change, plan_command
from tiles_edge.simulator.eventsocket import EventsocketHub
from tiles_edge.simulator.generator import DemoGenerator
from tiles_edge.simulator.rest import MakerApi, html_page
from tiles_edge.simulator.state import (
    SimDevice,
    SimEvent,
    parse_device,
    parse_devices,
    unit_for,
)
from tiles_edge.simulator.webhook import WebhookSender

logger = logging.getLogger(__name__)

# A device the hub has but this Maker API instance does not expose: it shows up only on the
# eventsocket, which streams every event of the hub.
HIDDEN_DEVICE = {
    "id": "999",
    "name": "Virtual Switch",
    "label": "Hidden Closet Light",
    "type": "Virtual Switch",
    "room": "Closet",
    "capabilities": ["Switch", "Actuator"],
    "attributes": {"switch": "off"},
    "commands": [{"command": "on"}, {"command": "off"}],
}

HSM_ACTIONS = {
    "armAway": "armedAway",
    "armHome": "armedHome",
    "armNight": "armedNight",
    "disarm": "disarmed",
    "disarmAll": "allDisarmed",
    # NOTE: the status a real hub reports after armAll is unverified; armedAway is a guess.
    "armAll": "armedAway",
}

DEMO_HUBS = {"main": "Main Hub", "garage": "Garage Hub"}
DEMO_LOCATION = "Maple Street"

# How long Hypercorn lets open requests finish after stop() before it cancels them.
SHUTDOWN_GRACE_S = 1.0


@dataclass
class Faults:
    """Failure switches, all off by default, that tests flip while the hub runs."""

    latency_s: float = 0.0
    """Seconds added before every HTTP reply."""
    error_status: int | None = None
    """Every REST call returns this HTTP status."""
    hang: bool = False
    """REST calls get no reply until this is turned off again or the hub stops."""
    duplicate_frames: bool = False
    """Every eventsocket frame is sent twice."""
    refuse_eventsocket: bool = False
    """New eventsocket connections are rejected with HTTP 403."""
    mute_eventsocket: bool = False
    """Eventsocket clients stay connected but receive no frames (a silent hub)."""


def _normalise_modes(modes: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for index, entry in enumerate(modes or [], start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        try:
            mode_id = int(entry.get("id", index))
        except (TypeError, ValueError):
            mode_id = index
        result.append({"active": bool(entry.get("active")), "id": mode_id, "name": entry["name"]})
    return result


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class SimulatedHub:
    """One simulated hub with one Maker API instance (``app_id`` and ``token``)."""

    def __init__(
        self,
        devices_all: list[dict[str, Any]],
        *,
        name: str = "Hubitat",
        app_id: str = "1",
        token: str = "demo-token",  # noqa: S107 - the simulator's published demo token
        modes: list[dict[str, Any]] | None = None,
        hsm: str | None = "disarmed",
        command_types: dict[str, list[dict[str, Any]]] | None = None,
        seed: int | None = None,
        generator: bool = False,
        generator_interval_s: float = 3.0,
        location_name: str = "Home",
        temperature_scale: str = "F",
        travel_s: float = 0.5,
        modes_enabled: bool = True,
        hsm_enabled: bool = True,
    ) -> None:
        self.name = name
        self.app_id = app_id
        self.token = token
        self.location_name = location_name
        self.temperature_scale = temperature_scale
        self.travel_s = travel_s
        self.modes_enabled = modes_enabled
        self.hsm_enabled = hsm_enabled
        self.hsm = hsm
        self.modes = _normalise_modes(modes)
        if modes is None:
            self.modes = _normalise_modes(
                [{"id": 1, "name": "Day", "active": True}, {"id": 2, "name": "Night"}]
            )

        self._devices: dict[str, SimDevice] = {}
        for device in parse_devices(devices_all):
            self._devices[device.device_id] = device
        if HIDDEN_DEVICE["id"] not in self._devices:
            hidden = parse_device(HIDDEN_DEVICE)
            assert hidden is not None
            hidden.hidden = True
            self._devices[hidden.device_id] = hidden
        for device_id, entries in (command_types or {}).items():
            if str(device_id) in self._devices:
                self._devices[str(device_id)].command_types = entries
        # Seed each device's event history with its current values, dated as in the dump.
        for device in self._devices.values():
            loaded_date = device.date
            for attribute, value in device.attributes.items():
                event = self._device_event(device, attribute, value, None)
                if loaded_date:
                    event.date = loaded_date
                device.record(event)

        self.faults = Faults()
        self.command_log: list[tuple[str, str, list[str]]] = []
        self.request_log: list[str] = []
        """Raw request paths (without query strings, so without tokens) in arrival order."""
        self.post_url: str | None = None
        self.host = "127.0.0.1"
        self.port = 0
        self.stopping = False

        self._api = MakerApi(self)
        self._sockets = EventsocketHub()
        self.webhook = WebhookSender(name)
        self._app = Starlette(
            routes=self._api.routes(),
            exception_handlers={404: self._not_found, 405: self._not_allowed},
        )
        self._shutdown: asyncio.Event | None = None
        self._serve_task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.TimerHandle] = {}
        self._pending_keys = 0
        self.generator: DemoGenerator | None = None
        if generator:
            self.generator = DemoGenerator(self, seed=seed, interval_s=generator_interval_s)

    @classmethod
    def from_catalog(cls, catalog_dir: Path, **kw: Any) -> SimulatedHub:
        """Load a hub from a catalog folder or from a single ``/devices/all`` dump file.

        A folder contains ``devices_all.json`` and optionally ``modes.json``, ``hsm.json`` and
        ``device_commands/<id>.json``. Keyword arguments override what the files say.
        """
        path = Path(catalog_dir)
        if path.is_file():
            return cls(_read_json(path), **kw)
        devices = _read_json(path / "devices_all.json")
        modes_file = path / "modes.json"
        if "modes" not in kw and modes_file.is_file():
            kw["modes"] = _read_json(modes_file)
        hsm_file = path / "hsm.json"
        if "hsm" not in kw and hsm_file.is_file():
            hsm = _read_json(hsm_file)
            if isinstance(hsm, dict) and isinstance(hsm.get("hsm"), str):
                kw["hsm"] = hsm["hsm"]
        commands_dir = path / "device_commands"
        if "command_types" not in kw and commands_dir.is_dir():
            kw["command_types"] = {
                file.stem: _read_json(file) for file in sorted(commands_dir.glob("*.json"))
            }
        return cls(devices, **kw)

    @classmethod
    def from_demo(cls, hub: str, **kw: Any) -> SimulatedHub:
        """Load ``main`` (Main Hub) or ``garage`` (Garage Hub) of the demo home."""
        if hub not in DEMO_HUBS:
            raise ValueError(f"unknown demo hub {hub!r}: expected one of {sorted(DEMO_HUBS)}")
        kw.setdefault("name", DEMO_HUBS[hub])
        kw.setdefault("location_name", DEMO_LOCATION)
        catalog = resources.files("tiles_edge.simulator") / "catalogs" / hub
        with resources.as_file(catalog) as folder:
            return cls.from_catalog(folder, **kw)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def eventsocket_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http") + "/eventsocket"

    @property
    def running(self) -> bool:
        return self._serve_task is not None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port`` (0 picks a free port, stored in ``.port``) and serve."""
        if self._serve_task is not None:
            raise RuntimeError(f"simulated hub {self.name!r} is already running on {self.port}")
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            # Listening now queues early connections until Hypercorn starts accepting.
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self.host = host
        self.port = sock.getsockname()[1]

        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.graceful_timeout = SHUTDOWN_GRACE_S
        config.accesslog = None
        config.errorlog = logger
        self.stopping = False
        self._shutdown = asyncio.Event()
        self._serve_task = asyncio.create_task(
            serve(self._app, config, shutdown_trigger=self._shutdown.wait),  # type: ignore[arg-type]
            name=f"simulated hub {self.name}",
        )
        self.webhook.start()
        if self.generator is not None:
            self.generator.start()
        logger.info("simulated hub %r listening on %s", self.name, self.base_url)

    async def stop(self) -> None:
        """Close every socket and stop the generator. Calling it again does nothing."""
        task = self._serve_task
        if task is None:
            return
        self.stopping = True
        if self.generator is not None:
            await self.generator.stop()
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
        await self.drop_eventsockets()
        assert self._shutdown is not None
        self._shutdown.set()
        try:
            await task
        finally:
            self._serve_task = None
            await self.webhook.stop()
            self.stopping = False
            logger.info("simulated hub %r stopped", self.name)

    async def serve_eventsocket(self, websocket: WebSocket) -> None:
        reject = self.faults.refuse_eventsocket or self.stopping
        await self._sockets.serve(websocket, reject=reject)

    @property
    def eventsocket_clients(self) -> int:
        return self._sockets.count

    async def wait_for_clients(self, n: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until at least ``n`` eventsocket clients are connected, else raise TimeoutError."""
        await self._sockets.wait_for_count(n, at_least=True, timeout_s=timeout)

    async def drop_eventsockets(self) -> None:
        """Close every eventsocket client with an abnormal close code (1011)."""
        self._sockets.drop_all()
        with contextlib.suppress(TimeoutError):
            await self._sockets.wait_for_count(0, at_least=False, timeout_s=SHUTDOWN_GRACE_S)

    def exposed_devices(self) -> list[SimDevice]:
        return [device for device in self._devices.values() if not device.hidden]

    def exposed_device(self, device_id: str) -> SimDevice | None:
        device = self._devices.get(device_id)
        return None if device is None or device.hidden else device

    def all_devices(self) -> list[SimDevice]:
        """Return every device including hidden ones, in load order."""
        return list(self._devices.values())

    def device(self, device_id: str) -> dict[str, Any]:
        """Return the current /devices/all entry of a device (hidden devices included)."""
        return self._devices[str(device_id)].to_full()

    def add_device(self, device: dict[str, Any]) -> None:
        """Add a device from a /devices/all entry, replacing one with the same id."""
        parsed = parse_device(device)
        if parsed is None:
            raise ValueError(f"not a device entry (it needs an 'id'): {device!r}")
        self._devices[parsed.device_id] = parsed

    def remove_device(self, device_id: str) -> None:
        del self._devices[str(device_id)]

    def set_attribute(
        self,
        device_id: str,
        name: str,
        value: Any,
        unit: str | None = None,
        event_type: str | None = "physical",
    ) -> None:
        """Set an attribute and emit its event, even when the value is unchanged.

        ``unit=None`` uses the attribute's usual unit (``W`` for power, ``°F`` or ``°C`` for
        temperatures, …), or none.
        """
        device = self._devices[str(device_id)]
        device.attributes[name] = value
        event = self._device_event(device, name, value, event_type, unit)
        device.record(event)
        self.emit_event(event)

    def emit_location(self, name: str, value: str) -> None:
        """Emit a location event (``mode``, ``hsmStatus``, ``hsmAlert``, ``systemStart`` …).

        ``mode`` and ``hsmStatus`` also change the hub's active mode and HSM state.
        """
        if name == "mode":
            for mode in self.modes:
                mode["active"] = mode["name"] == value
        elif name == "hsmStatus":
            self.hsm = value
        description = f"{self.location_name} is now in {value} mode" if name == "mode" else None
        self.emit_event(
            SimEvent(
                source="LOCATION",
                name=name,
                value=value,
                display_name=self.location_name,
                device_id=0,
                description=description,
            )
        )

    def emit_app_event(self, name: str, value: str, app_id: int, display_name: str) -> None:
        self.emit_event(
            SimEvent(
                source="APP",
                name=name,
                value=value,
                display_name=display_name,
                device_id=0,
                installed_app_id=app_id,
            )
        )

    def emit_event(self, event: SimEvent) -> None:
        """Send an event to every eventsocket client and to the registered postURL."""
        if not self.faults.mute_eventsocket:
            frame = json.dumps(event.to_eventsocket())
            self._sockets.broadcast(frame, copies=2 if self.faults.duplicate_frames else 1)
        if self.post_url:
            self.webhook.offer(self.post_url, event.to_webhook())

    def _device_event(
        self,
        device: SimDevice,
        name: str,
        value: Any,
        event_type: str | None,
        unit: str | None = None,
    ) -> SimEvent:
        unit = unit or unit_for(name, self.temperature_scale)
        label = device.display_name
        if name == "switch":
            description = f"{label} was turned {value}"
        elif name in ("pushed", "held", "doubleTapped", "released"):
            description = f"{label} button {value} was {name.lower()}"
        else:
            description = f"{label} {name} is {value}{unit or ''}"
        return SimEvent(
            source="DEVICE",
            name=name,
            value=value,
            display_name=label,
            device_id=device.numeric_id,
            unit=unit,
            event_type=event_type,
            description=description,
        )

    def run_command(self, device: SimDevice, command: str, args: list[str]) -> None:
        """Apply a command: immediate changes now, travel (garage door, shade) later.

        Raises ``CommandArgumentError`` before anything changes when an argument is bad.
        """
        changes = plan_command(device, command, args, travel_s=self.travel_s)
        self.command_log.append((device.device_id, command, list(args)))
        loop = asyncio.get_running_loop()
        for change in changes:
            if change.delay_s > 0:
                self._pending_keys += 1
                key = self._pending_keys
                self._pending[key] = loop.call_later(
                    change.delay_s, self._apply_later, key, device, change
                )
            else:
                self.apply_change(device, change, "digital")

    def _apply_later(self, key: int, device: SimDevice, change: Change) -> None:
        self._pending.pop(key, None)
        if self._devices.get(device.device_id) is device:
            self.apply_change(device, change, "digital")

    def apply_change(self, device: SimDevice, change: Change, event_type: str | None) -> bool:
        """Store one change and emit its event. An unchanged value emits only when forced."""
        if not change.force and device.attributes.get(change.name) == change.value:
            return False
        device.attributes[change.name] = change.value
        event = self._device_event(device, change.name, change.value, event_type)
        device.record(event)
        self.emit_event(event)
        return True

    def set_mode(self, mode_id: str) -> bool:
        """Activate a mode by id and emit the ``mode`` location event with its name."""
        target = next((mode for mode in self.modes if str(mode["id"]) == mode_id), None)
        if target is None:
            return False
        self.emit_location("mode", target["name"])
        return True

    def run_hsm_action(self, action: str) -> bool:
        if action == "cancelAlerts":
            self.emit_location("hsmAlert", "cancel")
            return True
        status = HSM_ACTIONS.get(action)
        if status is None:
            return False
        self.emit_location("hsmStatus", status)
        return True

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return html_page(404, "Not Found")

    async def _not_allowed(self, request: Request, exc: Exception) -> Response:
        return html_page(405, "Method Not Allowed")
