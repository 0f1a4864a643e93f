"""Start simulated hubs and the real app under Hypercorn on loopback, for tests.

    async with running_demo(tmp_path, hubs=("main", "garage")) as demo:
        reply = await demo.client.get("/api/devices")
        demo.sims["main"].command_log
        demo.services.bus

Each hub is the embedded simulator on its own port, stored in a fresh SQLite database under
``tmp_path``, and the server is a real Hypercorn on 127.0.0.1 with a free port. The database
holds an admin named ``admin`` (password ``ADMIN_PASSWORD``), and ``demo.client`` is signed
in as that admin with a session cookie and a same-origin ``Origin`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tiles_edge.app import Services, create_app
from tiles_edge.auth.passwords import PasswordHasher
from tiles_edge.config import Settings
from tiles_edge.hubs.model import HubConfig
from tiles_edge.hubs.webhook_tokens import current_token, webhook_path
from tiles_edge.server import ServerHandle

DEMO_HUB_NAMES: Mapping[str, str] = {"main": "Main Hub", "garage": "Garage Hub"}

# Generous bound for conditions that normally hold within milliseconds on loopback.
DEFAULT_WAIT_S = 30.0

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin password 12"
USER_PASSWORD = "user password 12"
# bcrypt at the lowest cost keeps sign-ins fast; the product never accepts this hasher.
TEST_HASHER = PasswordHasher.insecure_for_tests()


@dataclass
class Demo:
    url: str
    app: Any
    settings: Settings
    server: ServerHandle
    sims: dict[str, Any]
    hubs: dict[str, HubConfig]
    client: httpx.AsyncClient
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    async def webhook_url(self, hub_id: str, kind: str = "event") -> str:
        """The hub's webhook path (relative to ``url``) as the server derives it."""
        services = self.services
        assert services.webhook_tokens is not None
        token = await current_token(services.storage, services.webhook_tokens, hub_id)
        return webhook_path(token, kind)

    def anonymous_client(self, **options: Any) -> httpx.AsyncClient:
        """A client without credentials that sends a same-origin ``Origin`` header."""
        options.setdefault("timeout", DEFAULT_WAIT_S)
        headers = {"origin": self.url, **dict(options.pop("headers", {}))}
        return httpx.AsyncClient(base_url=self.url, headers=headers, **options)

    def admin_client(self, **options: Any) -> httpx.AsyncClient:
        """Another client with the admin session cookie of ``demo.client``."""
        return self.anonymous_client(cookies=self.client.cookies, **options)

    async def add_user(
        self, username: str, *, role: str = "user", password: str = USER_PASSWORD
    ) -> int:
        """Store an active user with ``password``; return its id."""
        hashed = await TEST_HASHER.hash(password)
        user = await self.services.storage.create_user(
            username=username, password_hash=hashed, role=role
        )
        return int(user.id)

    @contextlib.asynccontextmanager
    async def signed_in_client(
        self, username: str, password: str = USER_PASSWORD, **options: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        """``async with`` a client holding a session cookie of ``username``."""
        async with self.anonymous_client(**options) as client:
            await sign_in(client, username, password)
            yield client

    async def wait_hubs_online(self, timeout_s: float = DEFAULT_WAIT_S) -> None:
        def all_online() -> bool:
            health = self.services.manager.health()
            return bool(health) and all(hub.state == "online" for hub in health)

        await wait_until(all_online, timeout_s, "every hub online")


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout_s: float = DEFAULT_WAIT_S,
    what: str = "condition",
) -> None:
    """Poll ``condition`` until it is true, failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.01)


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> None:
    """Sign ``client`` in; its cookie jar then holds the session cookie."""
    reply = await client.post("/api/auth/login", json={"username": username, "password": password})
    if reply.status_code != 200:
        raise AssertionError(f"signing in as {username} failed: {reply.status_code} {reply.text}")


async def sign_in_browser(context: Any, url: str) -> None:
    """Sign a Playwright browser context in as the demo admin, so its pages carry the cookie."""
    reply = await context.request.post(
        url + "/api/auth/login",
        data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
        headers={"origin": url},
    )
    if reply.status != 200:
        raise AssertionError(f"signing the browser in failed: {reply.status} {await reply.text()}")


async def start_simulator(hub_id: str, name: str, **options: Any) -> tuple[Any, HubConfig]:
    """Start the demo catalog ``hub_id`` as a simulated hub; return it and its config."""
    from tiles_edge.simulator import SimulatedHub

    token = secrets.token_urlsafe(24)
    app_id = str(100 + len(hub_id))
    options.setdefault("generator", False)
    sim = SimulatedHub.from_demo(hub_id, token=token, app_id=app_id, name=name, **options)
    await sim.start()
    config = HubConfig(
        hub_id=hub_id, name=name, host=f"127.0.0.1:{sim.port}", app_id=app_id, token=token
    )
    return sim, config


async def store_hubs(settings: Settings, hubs: Sequence[HubConfig], *, admin: bool = True) -> None:
    """Store ``hubs`` and, with ``admin``, the demo admin account."""
    from tiles_edge.storage import open_storage

    storage = open_storage(settings.database_url, settings.state_dir)
    await storage.open()
    try:
        for order, hub in enumerate(hubs):
            hub.order = order
            await storage.save_hub_config(hub)
        if admin and await storage.get_user_by_username(ADMIN_USERNAME) is None:
            await storage.create_user(
                username=ADMIN_USERNAME,
                password_hash=await TEST_HASHER.hash(ADMIN_PASSWORD),
                role="admin",
            )
    finally:
        await storage.close()


async def _stop(sim: Any) -> None:
    result = sim.stop()
    if asyncio.iscoroutine(result):
        await result


@contextlib.asynccontextmanager
async def running_demo(
    tmp_path: Path,
    hubs: Sequence[str] = ("main", "garage"),
    *,
    wait_online: bool = True,
    graceful_timeout_s: float = 5.0,
    sim_options: Mapping[str, Any] | None = None,
    signed_in: bool = True,
    **settings: Any,
) -> AsyncIterator[Demo]:
    """Run simulators for ``hubs`` and the app in front of them; ``settings`` override defaults.

    With ``wait_online`` the block starts once every hub has been snapshotted and is online.
    With ``signed_in`` false no admin is stored and ``demo.client`` has no credentials, as on
    a fresh install.
    """
    state_dir = tmp_path / "state"
    state_dir.mkdir(parents=True, exist_ok=True)
    base = {
        "host": "127.0.0.1",
        "port": 0,
        "state_dir": state_dir,
        "discovery_enabled": False,
        "hub_timeout_s": 5.0,
    }
    base.update(settings)
    effective = Settings(**base)

    sims: dict[str, Any] = {}
    configs: dict[str, HubConfig] = {}
    try:
        for hub_id in hubs:
            name = DEMO_HUB_NAMES.get(hub_id, hub_id.title() + " Hub")
            sim, config = await start_simulator(hub_id, name, **dict(sim_options or {}))
            sims[hub_id] = sim
            configs[hub_id] = config
        await store_hubs(effective, list(configs.values()), admin=signed_in)

        app = create_app(effective, password_hasher=TEST_HASHER)
        server = ServerHandle(app, graceful_timeout_s=graceful_timeout_s)
        async with (
            server,
            httpx.AsyncClient(
                base_url=server.url, headers={"origin": server.url}, timeout=DEFAULT_WAIT_S
            ) as client,
        ):
            if signed_in:
                await sign_in(client, ADMIN_USERNAME, ADMIN_PASSWORD)
            demo = Demo(
                url=server.url,
                app=app,
                settings=effective,
                server=server,
                sims=sims,
                hubs=configs,
                client=client,
            )
            if wait_online and hubs:
                await demo.wait_hubs_online()
            yield demo
    finally:
        for sim in sims.values():
            await _stop(sim)
