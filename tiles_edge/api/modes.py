"""Location mode and HSM routes, per hub."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tiles_edge.api.services import manager_of


async def list_modes(request: Request) -> Response:
    return JSONResponse({"modes": manager_of(request).modes()})


async def set_mode(request: Request) -> Response:
    hub_id = request.path_params["hub_id"]
    mode_id = request.path_params["mode_id"]
    result = await manager_of(request).set_mode(hub_id, mode_id)
    return JSONResponse(result if isinstance(result, dict) else {"ok": True})


async def get_hsm(request: Request) -> Response:
    return JSONResponse({"hsm": manager_of(request).hsm()})


async def set_hsm(request: Request) -> Response:
    hub_id = request.path_params["hub_id"]
    action = request.path_params["action"]
    result = await manager_of(request).set_hsm(hub_id, action)
    return JSONResponse(result if isinstance(result, dict) else {"ok": True})
