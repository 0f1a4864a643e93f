"""Settings: one table feeds the CLI flags, the TOML config file, the environment and the docs.

Precedence, lowest first: the default in ``SETTINGS``, the TOML file given with ``--config``,
the ``TILES_*`` environment variable, the command-line flag.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiles_edge.errors import TilesError


class SettingsError(TilesError):
    """A setting has an invalid value; the message names the setting and where it came from."""


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    kind: type
    default: Any
    help: str
    secret: bool = False
    choices: tuple[str, ...] | None = None
    minimum: float | None = None

    @property
    def env(self) -> str:
        return "TILES_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


def _default_state_dir() -> Path:
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "tiles-edge"


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("host", str, "0.0.0.0", "Address the web server listens on."),  # noqa: S104
    SettingSpec("port", int, 8080, "TCP port the web server listens on.", minimum=1),
    SettingSpec(
        "state_dir",
        Path,
        None,
        "Directory for the database, uploads and the secret key "
        "(default: $XDG_STATE_HOME/tiles-edge or ~/.local/state/tiles-edge).",
    ),
    SettingSpec(
        "database_url",
        str,
        "",
        "Database to use: empty for the SQLite file tiles-edge.db in the state directory, "
        "sqlite:///PATH for another SQLite file, postgresql://... for PostgreSQL.",
        secret=True,
    ),
    SettingSpec(
        "log_level",
        str,
        "info",
        "Lowest level of log records written to stderr.",
        choices=("debug", "info", "warning", "error"),
    ),
    SettingSpec(
        "hub_timeout_s", float, 10.0, "Seconds to wait for a Maker API reply.", minimum=0.1
    ),
    SettingSpec(
        "hub_silence_s",
        float,
        130.0,
        "Seconds without an eventsocket frame after which the socket is declared dead "
        "and reconnected.",
        minimum=1.0,
    ),
    SettingSpec(
        "hub_backoff_max_s",
        float,
        32.0,
        "Longest wait in seconds between reconnect attempts to a hub (the wait doubles from "
        "1 s up to this value).",
        minimum=1.0,
    ),
    SettingSpec(
        "hub_resync_interval_s",
        float,
        900.0,
        "Seconds between safety snapshots of every hub, which repair any missed event.",
        minimum=10.0,
    ),
    SettingSpec(
        "hub_poll_interval_s",
        float,
        10.0,
        "Seconds between snapshots of a hub whose transport is 'poll'.",
        minimum=1.0,
    ),
    SettingSpec(
        "hub_webhook_silence_s",
        float,
        1800.0,
        "Seconds without a webhook from a reachable hub on the 'webhook' transport after "
        "which the hub is shown as degraded.",
        minimum=10.0,
    ),
    SettingSpec(
        "event_dedupe_window_ms",
        int,
        1500,
        "Milliseconds within which an identical event frame from a hub is dropped as a "
        "duplicate (button events are never dropped).",
        minimum=0,
    ),
    SettingSpec(
        "command_confirm_timeout_s",
        float,
        10.0,
        "Seconds the dashboard waits for a device event confirming a command before it "
        "rolls the tile back.",
        minimum=1.0,
    ),
    SettingSpec(
        "sse_heartbeat_s",
        float,
        15.0,
        "Seconds between heartbeat comments on open event streams.",
        minimum=1.0,
    ),
    SettingSpec(
        "sse_ring_size",
        int,
        2048,
        "Number of recent events kept so a reconnecting browser can resume with Last-Event-ID.",
        minimum=16,
    ),
    SettingSpec(
        "sse_queue_size",
        int,
        512,
        "Events queued per event stream before a slow client is told to re-fetch.",
        minimum=8,
    ),
    SettingSpec(
        "sse_max_streams",
        int,
        200,
        "Maximum number of open event streams in total.",
        minimum=1,
    ),
    SettingSpec(
        "max_body_bytes",
        int,
        65536,
        "Largest request body in bytes accepted by JSON routes and webhooks.",
        minimum=1024,
    ),
    SettingSpec(
        "max_upload_bytes",
        int,
        2 * 1024 * 1024,
        "Largest tile background image in bytes.",
        minimum=1024,
    ),
    SettingSpec(
        "temperature_scale",
        str,
        "F",
        "Temperature scale of the hubs, used where an event carries no unit.",
        choices=("F", "C"),
    ),
    SettingSpec(
        "webhook_base_url",
        str,
        "",
        "Base URL hubs use to reach this server for webhooks, such as "
        "http://192.168.1.20:8080 (empty: derived from the request).",
    ),
    SettingSpec(
        "discovery_enabled",
        bool,
        True,
        "Browse the LAN for hubs and MediaMTX servers and announce this server by mDNS.",
    ),
    SettingSpec(
        "api_token",
        str,
        "",
        "A single bearer token for scripts, accepted as the first admin's token (empty: none).",
        secret=True,
    ),
    SettingSpec(
        "allowed_hosts",
        str,
        "",
        "Extra Host header values accepted, comma-separated (this machine's addresses, "
        "its name, localhost and its mDNS name are always accepted).",
    ),
    SettingSpec(
        "trusted_proxies",
        str,
        "",
        "Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed, "
        "comma-separated (empty: none).",
    ),
    SettingSpec(
        "session_idle_minutes",
        int,
        1440,
        "Minutes of inactivity after which a sign-in session ends.",
        minimum=1,
    ),
    SettingSpec(
        "session_lifetime_hours",
        int,
        720,
        "Hours after sign-in at which a session ends regardless of activity.",
        minimum=1,
    ),
    SettingSpec(
        "password_min_length",
        int,
        10,
        "Minimum password length in characters.",
        minimum=8,
    ),
)

SETTINGS_BY_NAME: dict[str, SettingSpec] = {spec.name: spec for spec in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "0.0.0.0"  # noqa: S104
    port: int = 8080
    state_dir: Path = dataclasses.field(default_factory=_default_state_dir)
    database_url: str = ""
    log_level: str = "info"
    hub_timeout_s: float = 10.0
    hub_silence_s: float = 130.0
    hub_backoff_max_s: float = 32.0
    hub_resync_interval_s: float = 900.0
    hub_poll_interval_s: float = 10.0
    hub_webhook_silence_s: float = 1800.0
    event_dedupe_window_ms: int = 1500
    command_confirm_timeout_s: float = 10.0
    sse_heartbeat_s: float = 15.0
    sse_ring_size: int = 2048
    sse_queue_size: int = 512
    sse_max_streams: int = 200
    max_body_bytes: int = 65536
    max_upload_bytes: int = 2 * 1024 * 1024
    temperature_scale: str = "F"
    webhook_base_url: str = ""
    discovery_enabled: bool = True
    api_token: str = ""
    allowed_hosts: str = ""
    trusted_proxies: str = ""
    session_idle_minutes: int = 1440
    session_lifetime_hours: int = 720
    password_min_length: int = 10

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    @property
    def database_path(self) -> Path:
        """The SQLite file in use when ``database_url`` names no other backend."""
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.state_dir / "tiles-edge.db"


def _convert(spec: SettingSpec, value: Any, origin: str) -> Any:
    """Convert ``value`` from ``origin`` (a flag, variable or file key) to the setting's type."""
    try:
        if spec.kind is bool:
            converted: Any = _to_bool(value)
        elif spec.kind is Path:
            converted = Path(str(value)).expanduser()
        elif spec.kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            converted = int(value)
        elif spec.kind is float:
            if isinstance(value, bool):
                raise ValueError(value)
            converted = float(value)
        else:
            if not isinstance(value, str | int | float) or isinstance(value, bool):
                raise ValueError(value)
            converted = str(value)
    except (TypeError, ValueError) as err:
        raise SettingsError(
            f"invalid value {value!r} for {spec.name} from {origin}: "
            f"expected {_kind_name(spec.kind)}"
        ) from err
    if spec.choices is not None and converted not in spec.choices:
        raise SettingsError(
            f"invalid value {value!r} for {spec.name} from {origin}: "
            f"choose one of {', '.join(spec.choices)}"
        )
    if spec.minimum is not None and converted < spec.minimum:
        raise SettingsError(
            f"invalid value {value!r} for {spec.name} from {origin}: "
            f"must be at least {spec.minimum:g}"
        )
    return converted


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _kind_name(kind: type) -> str:
    names = {bool: "true or false", int: "a whole number", float: "a number", Path: "a path"}
    return names.get(kind, "text")


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML file of settings; keys are setting names, unknown keys are an error."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise SettingsError(f"cannot read config file {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise SettingsError(f"config file {path} is not valid TOML: {err}") from err
    unknown = sorted(set(data) - set(SETTINGS_BY_NAME))
    if unknown:
        raise SettingsError(
            f"config file {path} has unknown setting(s) {', '.join(unknown)}; "
            "run 'tiles-edge settings' to list the valid names"
        )
    return data


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults, the config file, ``TILES_*`` variables and ``overrides`` (CLI flags)."""
    env = os.environ if environ is None else environ
    file_values = read_config_file(config_file) if config_file is not None else {}
    values: dict[str, Any] = {}
    for spec in SETTINGS:
        if overrides is not None and overrides.get(spec.name) is not None:
            values[spec.name] = _convert(spec, overrides[spec.name], spec.flag)
        elif spec.env in env:
            values[spec.name] = _convert(spec, env[spec.env], f"${spec.env}")
        elif spec.name in file_values:
            values[spec.name] = _convert(spec, file_values[spec.name], str(config_file))
    return Settings(**values)


def describe_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """List ``(name, shown value, source hint)`` rows with secrets masked."""
    rows = []
    for spec in SETTINGS:
        value = getattr(settings, spec.name)
        if spec.name == "database_url":
            shown = _mask_url_password(value)
        elif spec.secret and value:
            shown = "********"
        else:
            shown = str(value)
        rows.append((spec.name, shown, spec.env))
    return rows


def _mask_url_password(url: str) -> str:
    """Hide the password of ``scheme://user:password@host/...``; other URLs are shown as is."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1********@", url)
