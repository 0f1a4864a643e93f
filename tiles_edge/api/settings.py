"""``GET /api/settings``: what a browser needs to start, and nothing secret.

No hub token, webhook token, password, database URL or file path is part of the reply;
the About tab reads paths and sizes from the admin's ``/api/status``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.services import services_of

# The appearance a user sees before changing anything; the browser stores changes under
# the "appearance" preference category.
APPEARANCE_DEFAULTS: dict[str, Any] = {
    "theme": "auto",
    "nightMode": "off",
    "nightStart": "22:00",
    "nightEnd": "06:30",
    "fontScale": 1,
    "tileOpacity": 1,
    "temperatureUnit": "",
}


async def get_settings(request: Request) -> Response:
    services = services_of(request)
    settings = services.settings
    manager = services.manager
    hub_names: dict[str, str] = manager.hub_names() if manager is not None else {}
    scale = str(getattr(settings, "temperature_scale", "F")).upper()
    return JSONResponse(
        {
            "version": services.version,
            "appearance": dict(APPEARANCE_DEFAULTS),
            "hubNames": hub_names,
            "temperatureScale": "C" if scale == "C" else "F",
            "sseHeartbeatS": float(getattr(settings, "sse_heartbeat_s", 15.0)),
            "commandConfirmTimeoutS": float(getattr(settings, "command_confirm_timeout_s", 10.0)),
            # NOTE: empty until a MediaMTX server can be configured.
            "nvrUrl": "",
            "features": {
                "discovery": bool(getattr(settings, "discovery_enabled", False)),
                "cameras": False,
                "kpi": False,
            },
        }
    )


ROUTES: tuple[tuple[str, tuple[str, ...], Any, str, str], ...] = (
    ("/api/settings", ("GET",), get_settings, "user", "settings"),
)
