"""Running the app under Hypercorn, for the CLI and for tests.

The listening socket is bound here and handed to Hypercorn as ``fd://N``, so port 0 works
and the bound port is known before the server starts. When shutdown begins, the app's event
bus is closed first: Hypercorn waits for open responses before it runs the lifespan
shutdown, and an open event stream would otherwise hold it for the whole graceful timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from tiles_edge.app import begin_shutdown

logger = logging.getLogger(__name__)

# Seconds Hypercorn waits for open requests to finish once shutdown begins.
GRACEFUL_TIMEOUT_S = 3.0

ShutdownTrigger = asyncio.Event | Callable[[], Awaitable[Any]]


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port`` (port 0 picks a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _hypercorn_config(sock: socket.socket, graceful_timeout_s: float) -> Config:
    config = Config()
    # Hypercorn takes ownership of the descriptor and closes it at shutdown.
    config.bind = [f"fd://{sock.detach()}"]
    config.graceful_timeout = graceful_timeout_s
    # The access log would write webhook URLs, whose path carries the hub's secret token.
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    return config


def _ready_signalling_app(app: Any, ready: asyncio.Event) -> Any:
    """Wrap ``app`` so ``ready`` is set once its lifespan start-up has completed."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def send_and_signal(message: Any) -> None:
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                ready.set()

        await app(scope, receive, send_and_signal)

    return wrapped


async def _wait_for_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await stop.wait()
        logger.info("stop signal received, shutting down")
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def serve(
    app: Any,
    host: str,
    port: int,
    *,
    shutdown_trigger: ShutdownTrigger | None = None,
    ready: asyncio.Event | None = None,
    sock: socket.socket | None = None,
    graceful_timeout_s: float = GRACEFUL_TIMEOUT_S,
) -> None:
    """Serve ``app`` until ``shutdown_trigger`` fires (an Event or a coroutine function).

    Without a trigger, SIGINT and SIGTERM stop the server. ``ready`` is set once the app
    has started and the socket listens. ``sock``, when given, is used instead of binding
    ``host:port`` and is taken over.
    """
    listening = sock if sock is not None else bind_socket(host, port)
    address = listening.getsockname()
    config = _hypercorn_config(listening, graceful_timeout_s)

    async def trigger() -> None:
        if shutdown_trigger is None:
            await _wait_for_signal()
        elif isinstance(shutdown_trigger, asyncio.Event):
            await shutdown_trigger.wait()
        else:
            await shutdown_trigger()
        begin_shutdown(app)

    served = app if ready is None else _ready_signalling_app(app, ready)
    logger.info("serving on http://%s:%d", address[0], address[1])
    await hypercorn_serve(served, config, shutdown_trigger=trigger)


class ServerHandle:
    """A server on loopback for tests: ``async with ServerHandle(app) as server: server.url``."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        graceful_timeout_s: float = GRACEFUL_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self.port = 0
        self.graceful_timeout_s = graceful_timeout_s
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        sock = bind_socket(self.host, self._requested_port)
        self.port = sock.getsockname()[1]
        ready = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(
            serve(
                self.app,
                self.host,
                self.port,
                shutdown_trigger=self._stop,
                ready=ready,
                sock=sock,
                graceful_timeout_s=self.graceful_timeout_s,
            ),
            name=f"hypercorn-{self.port}",
        )
        ready_wait = asyncio.ensure_future(ready.wait())
        done, _ = await asyncio.wait({ready_wait, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if ready_wait not in done:
            ready_wait.cancel()
            # The server ended before start-up completed: surface its error.
            await self._task
            raise RuntimeError("the server stopped during start-up")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        task, self._task = self._task, None
        await task

    async def __aenter__(self) -> ServerHandle:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self.stop()
