"""``tiles-edge demo``: simulated hubs on loopback and the real server in front of them."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiles_edge.config import Settings
from tiles_edge.errors import TilesError
from tiles_edge.hubs.model import HubConfig

log = logging.getLogger(__name__)

DEMO_ADMIN_USERNAME = "admin"
# Random bytes of a generated admin password (16 characters of URL-safe base64).
GENERATED_PASSWORD_BYTES = 12


@dataclass(frozen=True, slots=True)
class DemoHubSpec:
    """One simulated hub: the shipped demo catalog named ``hub_id``, or a saved dump file."""

    hub_id: str
    name: str
    catalog_file: Path | None = None


def _load_dump(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TilesError(f"cannot read hub catalog {path}: {err}") from err
    if not isinstance(data, list):
        raise TilesError(
            f"hub catalog {path} is not a GET /devices/all reply: expected a JSON list"
        )
    return [item for item in data if isinstance(item, dict)]


async def start_simulators(
    specs: list[DemoHubSpec], *, generator: bool, seed: int | None
) -> list[tuple[DemoHubSpec, Any, HubConfig]]:
    """Start one simulated hub per spec on loopback; return each with its hub configuration."""
    from tiles_edge.simulator import SimulatedHub

    started: list[tuple[DemoHubSpec, Any, HubConfig]] = []
    try:
        for index, spec in enumerate(specs):
            token = secrets.token_urlsafe(24)
            app_id = str(100 + index)
            options: dict[str, Any] = {
                "name": spec.name,
                "token": token,
                "app_id": app_id,
                "generator": generator,
                "seed": None if seed is None else seed + index,
            }
            if spec.catalog_file is None:
                sim = SimulatedHub.from_demo(spec.hub_id, **options)
            else:
                sim = SimulatedHub(_load_dump(spec.catalog_file), **options)
            await sim.start()
            hub = HubConfig(
                hub_id=spec.hub_id,
                name=spec.name,
                host=f"127.0.0.1:{sim.port}",
                app_id=app_id,
                token=token,
                order=index,
            )
            started.append((spec, sim, hub))
    except BaseException:
        for _, sim, _ in started:
            await sim.stop()
        raise
    return started


async def store_demo_hubs(settings: Settings, hubs: list[HubConfig]) -> None:
    """Make the database list exactly the simulated hubs."""
    from tiles_edge.storage import open_storage

    storage = open_storage(settings.database_url, settings.state_dir)
    await storage.open()
    try:
        wanted = {hub.hub_id for hub in hubs}
        for existing in await storage.list_hub_configs():
            if existing.hub_id not in wanted:
                await storage.delete_hub_config(existing.hub_id)
        for hub in hubs:
            await storage.save_hub_config(hub)
    finally:
        await storage.close()


def demo_admin_password(given: str | None) -> str:
    """Return ``given``, or a new random password when none was given."""
    return given if given else secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


async def store_demo_admin(settings: Settings, password: str, hasher: Any = None) -> None:
    """Make the database hold an active admin named ``admin`` whose password is ``password``.

    An existing ``admin`` (a reused state directory) gets the password and the admin role.
    """
    from tiles_edge.api.auth import SETUP_DONE_KEY
    from tiles_edge.auth.passwords import PasswordHasher
    from tiles_edge.storage import open_storage

    hasher = (
        hasher if hasher is not None else PasswordHasher(min_length=settings.password_min_length)
    )
    try:
        hasher.validate(password)
    except TilesError as err:
        raise TilesError(f"--admin-password: {err}") from err
    password_hash = await hasher.hash(password)
    storage = open_storage(settings.database_url, settings.state_dir)
    await storage.open()
    try:
        existing = await storage.get_user_by_username(DEMO_ADMIN_USERNAME)
        if existing is None:
            await storage.create_user(
                username=DEMO_ADMIN_USERNAME, password_hash=password_hash, role="admin"
            )
        else:
            await storage.update_user(
                existing.id,
                password_hash=password_hash,
                role="admin",
                active=True,
                auth_enabled=True,
            )
            await storage.delete_user_sessions(existing.id)
        await storage.set_app_state(SETUP_DONE_KEY, True)
    finally:
        await storage.close()


async def run_demo(
    settings: Settings,
    specs: list[DemoHubSpec],
    *,
    generator: bool,
    seed: int | None,
    shutdown_trigger: asyncio.Event,
    admin_password: str | None = None,
) -> None:
    """Serve the dashboard in front of simulated hubs until ``shutdown_trigger`` is set.

    The database gets an admin named ``admin`` with ``admin_password``, or with a generated
    password; either is printed next to the URL once the server listens.
    """
    from tiles_edge.app import create_app
    from tiles_edge.server import serve

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    password = demo_admin_password(admin_password)
    await store_demo_admin(settings, password)
    started = await start_simulators(specs, generator=generator, seed=seed)
    try:
        await store_demo_hubs(settings, [hub for _, _, hub in started])
        for spec, sim, _ in started:
            log.info("simulated hub '%s' (%s) listens on %s", spec.hub_id, spec.name, sim.base_url)
        app = create_app(settings)
        host = settings.host
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        ready = asyncio.Event()

        async def announce() -> None:
            await ready.wait()
            sys.stdout.write(
                f"MOBIUS.TILES Edge demo is running: http://{shown_host}:{settings.port}/\n"
                f"Sign in as '{DEMO_ADMIN_USERNAME}' with the password: {password}\n"
                f"State directory: {settings.state_dir}\n"
                "Press Ctrl+C to stop.\n"
            )
            sys.stdout.flush()

        announcer = asyncio.create_task(announce(), name="demo-announce")
        try:
            await serve(app, host, settings.port, shutdown_trigger=shutdown_trigger, ready=ready)
        finally:
            announcer.cancel()
    finally:
        for _, sim, _ in started:
            await sim.stop()
