"""The route table: every path, its methods, its handler and the role it needs.

Roles are ``anonymous`` (anyone), ``user`` (a signed-in user) and ``admin``. A route is
reachable only through this table, so a route without a role cannot exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles

from tiles_edge.api import (
    auth,
    backgrounds,
    devices,
    discovery,
    events,
    hub_config,
    hubs,
    modes,
    preferences,
    selections,
    settings,
    system,
    webhooks,
)
from tiles_edge.api.errors import error_response

Role = Literal["anonymous", "user", "admin"]
ROLES: tuple[Role, ...] = ("anonymous", "user", "admin")


@dataclass(frozen=True, slots=True)
class RouteSpec:
    path: str
    methods: tuple[str, ...]
    endpoint: Callable[[Request], Any]
    role: Role
    name: str


def _spec_from_row(row: tuple[str, tuple[str, ...], Any, str, str]) -> RouteSpec:
    path, methods, endpoint, role, name = row
    if role not in ROLES:
        raise ValueError(f"route {path} declares unknown role {role!r}; use one of {ROLES}")
    return RouteSpec(path, methods, endpoint, role, name)


ROUTE_TABLE: tuple[RouteSpec, ...] = (
    RouteSpec("/health", ("GET",), system.health, "anonymous", "health"),
    RouteSpec("/api/status", ("GET",), system.status, "user", "status"),
    RouteSpec("/api/logs", ("GET",), system.logs, "admin", "logs"),
    RouteSpec("/api/devices", ("GET",), devices.list_devices, "user", "devices"),
    RouteSpec(
        "/api/devices/native", ("GET",), devices.list_native_devices, "user", "devices_native"
    ),
    RouteSpec("/api/device/{uid}/info", ("GET",), devices.device_info, "user", "device_info"),
    RouteSpec(
        "/api/device/{uid}/command", ("POST",), devices.device_command, "user", "device_command"
    ),
    RouteSpec("/api/modes", ("GET",), modes.list_modes, "user", "modes"),
    RouteSpec("/api/modes/{hub_id}/{mode_id}", ("POST",), modes.set_mode, "user", "set_mode"),
    RouteSpec("/api/hsm", ("GET",), modes.get_hsm, "user", "hsm"),
    RouteSpec("/api/hsm/{hub_id}/{action}", ("POST",), modes.set_hsm, "user", "set_hsm"),
    RouteSpec("/api/hubs", ("GET",), hubs.list_hubs, "user", "hubs"),
    RouteSpec("/api/hub-names", ("GET",), hubs.hub_names, "user", "hub_names"),
    RouteSpec("/api/discovery", ("GET",), discovery.list_candidates, "admin", "discovery"),
    RouteSpec(
        "/api/webhook/event/{token}",
        ("POST",),
        webhooks.event_webhook,
        "anonymous",
        "webhook_event",
    ),
    RouteSpec(
        "/api/webhook/mode/{token}",
        ("POST",),
        webhooks.mode_webhook,
        "anonymous",
        "webhook_mode",
    ),
    RouteSpec("/api/events/stream", ("GET",), events.event_stream, "user", "event_stream"),
    *(_spec_from_row(row) for row in preferences.ROUTES + backgrounds.ROUTES + auth.ROUTES),
    *(_spec_from_row(row) for row in hub_config.ROUTES + settings.ROUTES + selections.ROUTES),
)

# The dashboard's static files are public so the sign-in page can load.
STATIC_ROLE: Role = "anonymous"
# Any other /api path is handled by this route rather than by the static files.
UNKNOWN_API_ROLE: Role = "anonymous"


class RoleRoute(Route):
    def __init__(self, spec: RouteSpec) -> None:
        super().__init__(spec.path, spec.endpoint, methods=list(spec.methods), name=spec.name)
        self.role: Role = spec.role


class RoleMount(Mount):
    def __init__(self, path: str, app: Any, name: str, role: Role) -> None:
        super().__init__(path, app=app, name=name)
        self.role: Role = role


async def unknown_api_route(request: Request) -> Response:
    """404 for an unknown API path, 405 with ``Allow`` for a known path and the wrong method."""
    allowed: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, RoleRoute):
            match, _ = route.matches(request.scope)
            if match is Match.PARTIAL and route.methods:
                allowed |= route.methods
    if allowed:
        response = error_response(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.url.path}; "
            f"use {', '.join(sorted(allowed))}",
        )
        response.headers["allow"] = ", ".join(sorted(allowed))
        return response
    return error_response(404, "not_found", f"no API route for {request.method} {request.url.path}")


_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def build_routes(web_root: Path) -> list[BaseRoute]:
    routes: list[BaseRoute] = [RoleRoute(spec) for spec in ROUTE_TABLE]
    routes.append(
        RoleRoute(
            RouteSpec(
                "/api/{rest:path}",
                tuple(_ALL_METHODS),
                unknown_api_route,
                UNKNOWN_API_ROLE,
                "api_not_found",
            )
        )
    )
    routes.append(
        RoleMount(
            "/",
            StaticFiles(directory=web_root, html=True, check_dir=False),
            name="web",
            role=STATIC_ROLE,
        )
    )
    return routes


def route_role(route: BaseRoute) -> Role | None:
    role = getattr(route, "role", None)
    return role if role in ROLES else None
