"""Security settings an admin changes from the dashboard, stored as one app-state value.

Trusted networks are off (an empty list) and self-registration is closed until an admin
changes them. ``session_idle_minutes`` of None means the server setting of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tiles_edge.auth.networks import NetworkSpecError, TrustedNetwork, trusted_networks_from_json
from tiles_edge.errors import ApiError

APP_STATE_KEY = "auth.security_settings"
MAX_TRUSTED_NETWORKS = 64
MAX_IDLE_MINUTES = 60 * 24 * 365


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    trusted_networks: tuple[TrustedNetwork, ...] = ()
    registration_enabled: bool = False
    # New self-registered users are active at once instead of waiting for an admin.
    registration_auto_approve: bool = False
    session_idle_minutes: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "trustedNetworks": [entry.to_json() for entry in self.trusted_networks],
            "registrationEnabled": self.registration_enabled,
            "registrationAutoApprove": self.registration_auto_approve,
            "sessionIdleMinutes": self.session_idle_minutes,
        }

    def updated(self, changes: dict[str, Any]) -> SecuritySettings:
        """Return a copy with ``changes`` applied; raise ApiError 400 naming a bad field."""
        unknown = sorted(set(changes) - set(self.to_json()))
        if unknown:
            raise ApiError(
                400,
                "invalid_field",
                f"unknown field {unknown[0]!r}: use trustedNetworks, registrationEnabled, "
                "registrationAutoApprove or sessionIdleMinutes",
            )
        result = self
        if "trustedNetworks" in changes:
            result = replace(result, trusted_networks=_parse_networks(changes["trustedNetworks"]))
        if "registrationEnabled" in changes:
            value = _parse_bool(changes, "registrationEnabled")
            result = replace(result, registration_enabled=value)
        if "registrationAutoApprove" in changes:
            value = _parse_bool(changes, "registrationAutoApprove")
            result = replace(result, registration_auto_approve=value)
        if "sessionIdleMinutes" in changes:
            result = replace(
                result, session_idle_minutes=_parse_idle_minutes(changes["sessionIdleMinutes"])
            )
        return result


def _parse_bool(changes: dict[str, Any], name: str) -> bool:
    value = changes[name]
    if not isinstance(value, bool):
        raise ApiError(400, "invalid_field", f"{name!r} must be true or false")
    return value


def _parse_networks(value: Any) -> tuple[TrustedNetwork, ...]:
    if isinstance(value, list) and len(value) > MAX_TRUSTED_NETWORKS:
        raise ApiError(
            400,
            "invalid_field",
            f"'trustedNetworks' has {len(value)} entries: use at most {MAX_TRUSTED_NETWORKS}",
        )
    try:
        return trusted_networks_from_json(value)
    except NetworkSpecError as err:
        raise ApiError(400, "invalid_field", f"'trustedNetworks': {err}") from err


def _parse_idle_minutes(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_IDLE_MINUTES:
        raise ApiError(
            400,
            "invalid_field",
            f"'sessionIdleMinutes' must be null or a whole number from 1 to {MAX_IDLE_MINUTES}",
        )
    return value


def security_settings_from_json(value: Any) -> SecuritySettings:
    """Build settings from the stored value; a missing or unreadable value gives the defaults.

    Raises ApiError when a stored field is invalid, which only a hand-edited database causes.
    """
    if not isinstance(value, dict):
        return SecuritySettings()
    known = {key: value[key] for key in SecuritySettings().to_json() if key in value}
    return SecuritySettings().updated(known)


async def load_security_settings(storage: Any) -> SecuritySettings:
    return security_settings_from_json(await storage.get_app_state(APP_STATE_KEY))


async def save_security_settings(storage: Any, settings: SecuritySettings) -> None:
    await storage.set_app_state(APP_STATE_KEY, settings.to_json())
