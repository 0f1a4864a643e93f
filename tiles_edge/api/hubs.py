"""Hub routes: per-hub status and the names used to strip ``" on <hub name>"`` from labels."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.services import manager_of


async def list_hubs(request: Request) -> Response:
    manager = manager_of(request)
    hubs: list[dict[str, Any]] = []
    for health in manager.health():
        entry = health.to_json()
        config = manager.hub_config(health.hub_id)
        if config is not None:
            # Host and transport only: the access token never leaves the server.
            entry["host"] = config.host
            entry["transport"] = config.transport
        hubs.append(entry)
    return JSONResponse({"hubs": hubs})


async def hub_names(request: Request) -> Response:
    names: dict[str, str] = manager_of(request).hub_names()
    return JSONResponse({"names": list(names.values()), "hubs": names})
