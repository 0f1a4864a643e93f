"""The Maker API route table of a simulated hub.

Replies copy real hubs. JSON bodies are served as ``text/html``. A wrong token gets 401 with
a small XML body, and a wrong app id a 404 HTML page. Modes or HSM calls get 400 when the
instance may not use them. An unknown command, mode or HSM action gets a 200 JSON object with
a truthy ``error`` key.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from tiles_edge.simulator.commands import CommandArgumentError

if TYPE_CHECKING:
    from tiles_edge.simulator.hub import SimulatedHub

logger = logging.getLogger(__name__)

_UNAUTHORIZED_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<error>\n  <message>Unauthorized</message>\n</error>\n'
)
_HANG_POLL_S = 0.05

# The hub's UPnP device description, served without a token. Discovery reads it to confirm
# that an mDNS candidate is a Hubitat hub, so only the fields its probe reads are filled in.
_DESCRIPTION = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
    <friendlyName>{name}</friendlyName>
    <manufacturer>Hubitat Inc.</manufacturer>
    <modelName>Hubitat Elevation C-8</modelName>
  </device>
</root>
"""

Endpoint = Callable[[Request], Awaitable[Response]]


def json_reply(body: Any, status: int = 200) -> Response:
    # Real hubs label JSON as text/html; clients must parse the body regardless.
    return Response(json.dumps(body), status_code=status, media_type="text/html")


def error_reply(message: str, status: int = 200) -> Response:
    return json_reply({"error": True, "type": "AppException", "message": message}, status)


def html_page(status: int, reason: str) -> Response:
    body = (
        f"<html>\n<head><title>Error {status} {reason}</title></head>\n"
        f"<body><h2>HTTP ERROR {status}</h2>\n<p>{reason}</p>\n</body>\n</html>\n"
    )
    return Response(body, status_code=status, media_type="text/html")


def raw_path(request: Request) -> str:
    """Return the undecoded request path without its query string (which carries the token)."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    # Strip a query string in case the ASGI server left one in raw_path.
    return path.split("?", 1)[0]


def raw_path_segments(request: Request) -> list[str]:
    """Split the undecoded request path, so an encoded ``%2C`` or ``%2F`` stays inside its part."""
    return raw_path(request).split("/")


def decode_arguments(raw: str) -> list[str]:
    """Split a raw argument segment at its literal commas and percent-decode each part."""
    if raw == "":
        return []
    return [unquote(part) for part in raw.split(",")]


class MakerApi:
    """The REST side of one simulated hub."""

    def __init__(self, hub: SimulatedHub) -> None:
        self._hub = hub

    def routes(self) -> list[BaseRoute]:
        api = "/apps/api/{app_id}"
        table: list[tuple[str, Endpoint]] = [
            (f"{api}/devices", self._devices),
            (f"{api}/devices/all", self._devices_all),
            (f"{api}/devices/{{device_id}}", self._device_detail),
            (f"{api}/devices/{{device_id}}/commands", self._device_commands),
            (f"{api}/devices/{{device_id}}/events", self._device_events),
            (f"{api}/devices/{{device_id}}/{{command}}", self._command),
            (f"{api}/devices/{{device_id}}/{{command}}/{{args:path}}", self._command),
            (f"{api}/modes", self._modes),
            (f"{api}/modes/{{mode_id}}", self._set_mode),
            (f"{api}/hsm", self._hsm),
            (f"{api}/hsm/{{action}}", self._hsm_action),
            (f"{api}/postURL", self._clear_post_url),
            (f"{api}/postURL/{{url:path}}", self._set_post_url),
            (f"{api}/{{rest:path}}", self._unknown_endpoint),
        ]
        routes: list[BaseRoute] = [
            Route(path, self._guard(endpoint), methods=["GET"]) for path, endpoint in table
        ]
        routes.append(WebSocketRoute("/eventsocket", self._hub.serve_eventsocket))
        routes.append(Route("/api/hubitat.xml", self._description, methods=["GET"]))
        return routes

    def _guard(self, endpoint: Endpoint) -> Endpoint:
        """Apply the fault knobs, then the app id and token checks, before ``endpoint``."""

        async def guarded(request: Request) -> Response:
            hub = self._hub
            hub.request_log.append(raw_path(request))
            # Faults is a plain dataclass that tests flip, so the hang is polled.
            while hub.faults.hang and not hub.stopping:  # noqa: ASYNC110
                await asyncio.sleep(_HANG_POLL_S)
            if hub.faults.latency_s > 0:
                await asyncio.sleep(hub.faults.latency_s)
            if hub.faults.error_status is not None:
                return html_page(hub.faults.error_status, "Simulated error")
            if request.path_params.get("app_id") != hub.app_id:
                return html_page(404, "Not Found")
            if not self._token_ok(request):
                return Response(_UNAUTHORIZED_BODY, status_code=401, media_type="text/html")
            try:
                return await endpoint(request)
            except Exception:
                logger.exception("simulated hub %r failed on %s", hub.name, request.url.path)
                return html_page(500, "Server Error")

        return guarded

    def _token_ok(self, request: Request) -> bool:
        token = request.query_params.get("access_token")
        if token is None:
            header = request.headers.get("authorization", "")
            token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        if token is None:
            return False
        return secrets.compare_digest(token.encode(), self._hub.token.encode())

    async def _devices(self, request: Request) -> Response:
        return json_reply([device.to_summary() for device in self._hub.exposed_devices()])

    async def _devices_all(self, request: Request) -> Response:
        return json_reply([device.to_full() for device in self._hub.exposed_devices()])

    async def _device_detail(self, request: Request) -> Response:
        device = self._hub.exposed_device(request.path_params["device_id"])
        if device is None:
            return self._device_not_found(request)
        return json_reply(device.to_detail())

    async def _device_commands(self, request: Request) -> Response:
        device = self._hub.exposed_device(request.path_params["device_id"])
        if device is None:
            return self._device_not_found(request)
        return json_reply(device.to_commands())

    async def _device_events(self, request: Request) -> Response:
        device = self._hub.exposed_device(request.path_params["device_id"])
        if device is None:
            return self._device_not_found(request)
        return json_reply(list(device.history))

    async def _command(self, request: Request) -> Response:
        device_id = request.path_params["device_id"]
        command = request.path_params["command"]
        device = self._hub.exposed_device(device_id)
        if device is None:
            return self._device_not_found(request)
        if command not in device.commands:
            return error_reply(f"Command {command} not found on device {device_id}")
        segments = raw_path_segments(request)
        args = decode_arguments("/".join(segments[7:]))
        before = device.to_detail()
        try:
            self._hub.run_command(device, command, args)
        except CommandArgumentError as err:
            return error_reply(str(err), status=500)
        return json_reply(before)

    def _device_not_found(self, request: Request) -> Response:
        device_id = request.path_params["device_id"]
        return error_reply(f"Device {device_id} not found", status=404)

    async def _modes(self, request: Request) -> Response:
        if not self._hub.modes_enabled:
            return error_reply("Modes access is not enabled in this Maker API instance", 400)
        return json_reply(self._hub.modes)

    async def _set_mode(self, request: Request) -> Response:
        if not self._hub.modes_enabled:
            return error_reply("Modes access is not enabled in this Maker API instance", 400)
        mode_id = request.path_params["mode_id"]
        if not self._hub.set_mode(mode_id):
            return error_reply(f"Mode {mode_id} not found")
        return json_reply(self._hub.modes)

    async def _hsm(self, request: Request) -> Response:
        if not self._hub.hsm_enabled or self._hub.hsm is None:
            return error_reply("HSM access is not enabled in this Maker API instance", 400)
        return json_reply({"hsm": self._hub.hsm})

    async def _hsm_action(self, request: Request) -> Response:
        if not self._hub.hsm_enabled or self._hub.hsm is None:
            return error_reply("HSM access is not enabled in this Maker API instance", 400)
        action = request.path_params["action"]
        if not self._hub.run_hsm_action(action):
            return error_reply(f"HSM action {action} is not supported")
        return json_reply({"hsm": self._hub.hsm})

    async def _set_post_url(self, request: Request) -> Response:
        segments = raw_path_segments(request)
        url = unquote("/".join(segments[5:]))
        self._hub.post_url = url or None
        # NOTE: the reply body of /postURL on real hubs is unverified; clients should only
        # check the status.
        return json_reply({"url": self._hub.post_url})

    async def _clear_post_url(self, request: Request) -> Response:
        self._hub.post_url = None
        return json_reply({"url": None})

    async def _description(self, request: Request) -> Response:
        name = html.escape(self._hub.name)
        return Response(_DESCRIPTION.format(name=name), media_type="text/xml")

    async def _unknown_endpoint(self, request: Request) -> Response:
        return html_page(404, "Not Found")
