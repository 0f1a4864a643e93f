"""``GET /api/discovery``: the Hubitat hubs and MediaMTX servers found on the LAN (admin)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.services import services_of


async def list_candidates(request: Request) -> Response:
    """List the discovery candidates with the service's state.

    ``enabled`` is false when discovery is switched off or not wired into the app, and
    ``available`` is false while the mDNS sockets are not open (see ``reason``).
    """
    services = services_of(request)
    discovery: Any = getattr(services, "discovery", None)
    if discovery is None:
        return JSONResponse(
            {
                "enabled": False,
                "available": False,
                "reason": "discovery is disabled (discovery_enabled = false)",
                "advertisedAs": None,
                "candidates": [],
            }
        )
    status: dict[str, Any] = discovery.status()
    return JSONResponse({"enabled": True, **status, "candidates": discovery.candidates()})
