"""Fake Hubitat hub and MediaMTX HTTP servers for the discovery probes.

The fake hub serves what the Hubitat probe reads: a UPnP description at ``/api/hubitat.xml``
and a sign-in page at ``/login``, with ``/`` redirecting there as a hub with hub security
does. The fake MediaMTX serves ``/v3/info`` as MediaMTX 1.x does. Both run on a real
Hypercorn server bound to the address given, which is 127.0.0.1 or a namespace address.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

from hypercorn.asyncio import serve
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

HUB_DESCRIPTION = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
    <friendlyName>Hubitat Elevation</friendlyName>
    <manufacturer>Hubitat Inc.</manufacturer>
    <modelName>Hubitat Elevation C-8</modelName>
  </device>
</root>
"""

LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Hubitat Elevation</title></head><body></body></html>"
)


@dataclass
class FakeServer:
    app: Starlette
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[str] = field(default_factory=list)
    _shutdown: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]
        config.accesslog = None
        config.graceful_timeout = 1.0
        self._task = asyncio.create_task(
            serve(self.app, config, shutdown_trigger=self._shutdown.wait),  # type: ignore[arg-type]
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._shutdown.set()
            await self._task
            self._task = None


def _logged(server: FakeServer, handler):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        server.requests.append(request.url.path)
        return await handler(request)

    return endpoint


def fake_hubitat(host: str = "127.0.0.1", port: int = 0, *, security: bool = True) -> FakeServer:
    """A hub web server; with ``security`` the UI at ``/`` redirects to ``/login``."""
    server = FakeServer(Starlette(), host=host, port=port)

    async def description(request: Request) -> Response:
        return Response(HUB_DESCRIPTION, media_type="text/xml")

    async def root(request: Request) -> Response:
        if security:
            return RedirectResponse("/login", status_code=302)
        return Response(LOGIN_PAGE, media_type="text/html")

    async def login(request: Request) -> Response:
        return Response(LOGIN_PAGE, media_type="text/html")

    server.app = Starlette(
        routes=[
            Route("/api/hubitat.xml", _logged(server, description)),
            Route("/", _logged(server, root)),
            Route("/login", _logged(server, login)),
        ]
    )
    return server


def fake_mediamtx(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    version: str = "v1.17.0",
    status: int = 200,
    body: bytes | None = None,
) -> FakeServer:
    """A MediaMTX control API that returns ``version`` from ``/v3/info`` (or a fixed reply)."""
    server = FakeServer(Starlette(), host=host, port=port)

    async def info(request: Request) -> Response:
        if body is not None:
            return Response(body, status_code=status, media_type="application/json")
        if status != 200:
            return JSONResponse({"error": "authentication error"}, status_code=status)
        return JSONResponse({"version": version, "started": "2026-12-04T10:00:00Z"})

    server.app = Starlette(routes=[Route("/v3/info", _logged(server, info))])
    return server
