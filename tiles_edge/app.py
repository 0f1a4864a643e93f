"""The Starlette application: routes, exception handlers, and the services' lifespan.

Start-up order: storage, accounts (the auth service and its session purge), hub
configurations, webhook token hashes, the hub manager. Shutdown runs the other way round,
after the event bus has ended every open stream.

Every request passes the security middleware (``tiles_edge.auth.middleware``), which
enforces the role each route declares in ``tiles_edge.api.routes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from tiles_edge import __version__
from tiles_edge.api import backgrounds, preferences
from tiles_edge.api.errors import EXCEPTION_HANDLERS
from tiles_edge.api.middleware import UnreadBodyMiddleware
from tiles_edge.api.routes import build_routes
from tiles_edge.auth.middleware import SecuredStarlette, security_middleware
from tiles_edge.auth.passwords import PasswordHasher
from tiles_edge.auth.service import AuthOptions, AuthService
from tiles_edge.config import Settings
from tiles_edge.events.bus import EventBus
from tiles_edge.hubs.model import HubConfig
from tiles_edge.hubs.webhook_tokens import (
    WebhookTokens,
    current_token,
    ensure_webhook_secrets,
    load_secret_key,
)
from tiles_edge.logbuffer import LogBuffer

logger = logging.getLogger(__name__)

# Records kept for GET /api/logs.
LOG_BUFFER_SIZE = 100
WEBHOOK_PREFIX = "/api/webhook/"
WEBHOOK_BODY_SLACK = 16


@dataclass(eq=False)
class Services:
    """Everything a route needs, reachable as ``request.app.state.services``.

    ``storage`` and ``manager`` are ``None`` only between ``create_app`` and the end of
    start-up.
    """

    settings: Settings
    bus: EventBus
    logs: LogBuffer
    storage: Any = None
    manager: Any = None
    webhook_tokens: WebhookTokens | None = None
    discovery: Any = None
    version: str = __version__
    started_monotonic: float = field(default_factory=time.monotonic)
    started_at: float = field(default_factory=time.time)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started_monotonic

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coroutine`` as a named background task that shutdown cancels and awaits."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def cancel_tasks(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def create_app(
    settings: Settings | None = None,
    *,
    storage: Any = None,
    bus: EventBus | None = None,
    manager: Any = None,
    password_hasher: PasswordHasher | None = None,
) -> Starlette:
    """Build the app; services start in its lifespan.

    A ``storage`` or ``manager`` passed in belongs to the caller, who opens and closes or
    starts and stops it. Those the app makes itself it also ends. The bus is always closed
    at shutdown, because that is what ends the open event streams. ``password_hasher``
    replaces the default bcrypt cost 12 hasher; only tests pass a cheaper one.
    """
    settings = settings if settings is not None else Settings()
    # httpx logs every request URL at INFO, and Maker API URLs carry the access token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)

    services = Services(
        settings=settings,
        bus=bus
        if bus is not None
        else EventBus(ring_size=settings.sse_ring_size, queue_size=settings.sse_queue_size),
        logs=LogBuffer(LOG_BUFFER_SIZE),
        storage=storage,
        manager=manager,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with _run_services(
            services, auth, owns_storage=storage is None, owns_manager=manager is None
        ):
            yield

    auth = AuthService(
        AuthOptions.from_settings(settings), hasher=password_hasher, streams=services.bus
    )
    routes = build_routes(_web_root())
    app = SecuredStarlette(
        routes=routes,
        middleware=[
            Middleware(UnreadBodyMiddleware, max_drain_bytes=settings.max_body_bytes),
            *security_middleware(
                auth,
                max_body_bytes=settings.max_body_bytes,
                body_limits={
                    **preferences.BODY_LIMITS,
                    **backgrounds.body_limits(settings.max_upload_bytes),
                    # Webhooks cap their own body at max_body_bytes and reply to an oversize
                    # one as to any other rejection, so the middleware cap here only stops
                    # bodies far beyond that.
                    WEBHOOK_PREFIX: settings.max_body_bytes * WEBHOOK_BODY_SLACK,
                },
                media_types=backgrounds.MEDIA_TYPES,
                routes=routes,
            ),
        ],
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.auth = auth
    return app


def begin_shutdown(app: Any) -> None:
    """End every open event stream; servers call this before they wait for open responses."""
    services = getattr(getattr(app, "state", None), "services", None)
    if isinstance(services, Services):
        services.bus.close()


@contextlib.asynccontextmanager
async def _run_services(
    services: Services, auth: AuthService, *, owns_storage: bool, owns_manager: bool
) -> AsyncIterator[None]:
    settings = services.settings
    root_logger = logging.getLogger()
    root_logger.addHandler(services.logs)
    services.started_monotonic = time.monotonic()
    services.started_at = time.time()
    try:
        if services.storage is None:
            services.storage = _open_storage(settings)
        if owns_storage:
            await services.storage.open()
        try:
            await auth.start(services.storage)
            services.spawn(auth.purge_periodically(), "session-purge")
            hubs: list[HubConfig] = await services.storage.list_hub_configs()
            for hub in hubs:
                services.logs.masker.add(hub.token)
            services.webhook_tokens = WebhookTokens(load_secret_key(settings.state_dir))
            await ensure_webhook_secrets(
                services.storage, services.webhook_tokens, [hub.hub_id for hub in hubs]
            )
            for hub in hubs:
                token = await current_token(services.storage, services.webhook_tokens, hub.hub_id)
                services.logs.masker.add(token)

            if services.manager is None:
                services.manager = _make_manager(settings, hubs, services.bus)
            await _load_twin_overrides(services)
            if owns_manager:
                await _maybe_await(services.manager.start())
            logger.info(
                "tiles-edge %s started with %d hub(s): %s",
                services.version,
                len(hubs),
                ", ".join(hub.hub_id for hub in hubs) or "none",
            )
            if settings.discovery_enabled:
                services.discovery = await _start_discovery(services)
            try:
                yield
            finally:
                services.bus.close()
                if services.discovery is not None:
                    await services.discovery.stop()
                await services.cancel_tasks()
                if owns_manager:
                    await _maybe_await(services.manager.stop())
        finally:
            if owns_storage:
                await services.storage.close()
    finally:
        services.bus.close()
        root_logger.removeHandler(services.logs)
        logger.info("tiles-edge stopped")


def _open_storage(settings: Settings) -> Any:
    from tiles_edge.storage import open_storage

    return open_storage(settings.database_url, settings.state_dir)


async def _start_discovery(services: Services) -> Any:
    """Start mDNS browsing and advertising as a background task, without waiting on the network."""
    from tiles_edge.discovery.service import Discovery

    # The instance id names this appliance in its mDNS host name and TXT record, so it must
    # stay the same across restarts and upgrades.
    instance_id = await services.storage.ensure_app_state("instance_id", uuid.uuid4().hex)
    manager = services.manager

    def hub_hosts() -> list[str]:
        hosts = []
        for hub_id in manager.hub_names():
            hub = manager.hub_config(hub_id)
            if hub is not None:
                hosts.append(hub.host)
        return hosts

    discovery = Discovery.from_settings(
        services.settings, instance_id=str(instance_id), hub_hosts=hub_hosts
    )
    await discovery.start()
    return discovery


async def _load_twin_overrides(services: Services) -> None:
    """Hand the admin's stored Hub Mesh twin overrides to the manager before it starts."""
    from tiles_edge.api.hub_config import load_twin_overrides

    if hasattr(services.manager, "set_twin_overrides"):
        services.manager.set_twin_overrides(await load_twin_overrides(services.storage))


def _make_manager(settings: Settings, hubs: list[HubConfig], bus: EventBus) -> Any:
    from tiles_edge.hubs.manager import HubManager

    return HubManager(hubs, bus, settings=settings)


def _web_root() -> Path:
    from tiles_edge.webroot import web_root

    return web_root()


async def _maybe_await(result: Awaitable[Any] | Any) -> Any:
    if asyncio.iscoroutine(result) or isinstance(result, asyncio.Future):
        return await result
    return result
