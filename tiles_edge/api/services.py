"""Access to the app's services from a request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from tiles_edge.errors import ApiError

if TYPE_CHECKING:
    from tiles_edge.app import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def manager_of(request: Request) -> Any:
    """Return the hub manager, or raise 503 while the server is still starting."""
    manager = services_of(request).manager
    if manager is None:
        raise ApiError(503, "starting", "the server is starting; retry in a few seconds")
    return manager
