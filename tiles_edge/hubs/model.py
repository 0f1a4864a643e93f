"""Normalised device and event records shared by the hub link, the API and the event bus.

Hub data arrives in three device shapes and two event shapes (see ``normalize``); everything
past the parser works on these records only. Ids are always strings, the uid is
``<hubId>:<deviceId>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal[
    "thermostat",
    "lock",
    "garage_door",
    "shade",
    "fan",
    "valve",
    "smoke_co",
    "media",
    "color_light",
    "dimmer",
    "button",
    "sensor",
    "power_meter",
    "switch",
    "light",
    "generic",
]

HealthState = Literal["online", "degraded", "offline"]

# The entry point of an event: the eventsocket, the webhook, a snapshot diff after a
# resync, a poll, or the reply to our own command.
EventSource = Literal["eventsocket", "webhook", "snapshot", "poll", "command"]


def make_uid(hub_id: str, device_id: str) -> str:
    return f"{hub_id}:{device_id}"


# Attributes whose raw text can carry secrets: Hubitat lock drivers put the user codes (PINs)
# in ``lockCodes``. Only the parsed value, which keeps the slot names, leaves the server.
SECRET_RAW_ATTRIBUTES: frozenset[str] = frozenset({"lockCodes"})


def public_raw(name: str, attribute: Attribute) -> Any:
    """Return the raw value of ``name`` that may be sent to a browser."""
    return None if name in SECRET_RAW_ATTRIBUTES else attribute.raw


@dataclass(slots=True)
class Attribute:
    """One attribute value: ``raw`` as the hub sent it, ``value`` typed when it parses."""

    value: Any
    raw: Any
    unit: str | None = None

    def to_json(self, name: str) -> dict[str, Any]:
        return {"value": self.value, "raw": public_raw(name, self), "unit": self.unit}


@dataclass(slots=True)
class CommandSpec:
    """A device command with its argument types (``[]`` when it takes none or is unknown)."""

    name: str
    arg_types: list[str] = field(default_factory=list)
    arg_types_known: bool = False


@dataclass(slots=True)
class Device:
    hub_id: str
    device_id: str
    name: str
    label: str
    """Display label: the hub label, else the name, minus a trailing ``" on <hub name>"``."""
    raw_label: str | None
    type: str
    room: str | None
    capabilities: list[str]
    attributes: dict[str, Attribute]
    commands: dict[str, CommandSpec]
    kind: Kind = "generic"
    sensor_type: str | None = None
    has_power_meter: bool = False
    outdoor: bool = False
    hue_scale: int | None = None
    fan_speeds: list[str] | None = None
    lock_codes_readable: bool | None = None
    last_activity: str | None = None
    twin_of: str | None = None
    twins: list[str] = field(default_factory=list)

    @property
    def uid(self) -> str:
        return make_uid(self.hub_id, self.device_id)


@dataclass(slots=True)
class HubEvent:
    """One normalised hub event, from the eventsocket or the webhook.

    ``device_id`` is ``None`` for location events (mode, HSM, systemStart, variables).
    ``value`` is the raw value as the hub sent it; typing happens when it is applied.
    """

    hub_id: str
    device_id: str | None
    name: str
    value: Any
    unit: str | None
    display_name: str | None
    description: str | None
    event_type: str | None
    origin: str
    """The hub's own ``source`` field (``DEVICE``, ``LOCATION``, ``APP``); ``DEVICE`` or
    ``LOCATION`` for webhooks, inferred from ``deviceId``."""
    source: EventSource
    data: str | None = None


@dataclass(slots=True)
class HubHealth:
    hub_id: str
    name: str
    state: HealthState = "offline"
    reason: str | None = None
    last_event_at: float | None = None
    last_snapshot_at: float | None = None
    last_webhook_at: float | None = None
    device_count: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "hubId": self.hub_id,
            "name": self.name,
            "state": self.state,
            "reason": self.reason,
            "lastEventAt": self.last_event_at,
            "lastSnapshotAt": self.last_snapshot_at,
            "lastWebhookAt": self.last_webhook_at,
            "deviceCount": self.device_count,
        }


Transport = Literal["eventsocket", "webhook", "poll"]
TRANSPORTS: tuple[Transport, ...] = ("eventsocket", "webhook", "poll")


@dataclass(slots=True)
class HubConfig:
    """A configured hub. ``host`` is ``name-or-address[:port]``, optionally with ``http://``."""

    hub_id: str
    name: str
    host: str
    app_id: str
    token: str = field(repr=False)
    transport: Transport = "eventsocket"
    order: int = 0
    active: bool = True

    @property
    def base_url(self) -> str:
        host = self.host.strip().rstrip("/")
        if not host.startswith(("http://", "https://")):
            host = "http://" + host
        return host

    @property
    def eventsocket_url(self) -> str:
        return "ws" + self.base_url.removeprefix("http") + "/eventsocket"
