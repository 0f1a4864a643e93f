"""``tiles-edge hub add|list|remove|test``: hubs stored in the database."""

from __future__ import annotations

import sys
from typing import Any

from tiles_edge.config import Settings
from tiles_edge.errors import HubError, HubReplyError
from tiles_edge.hubs.model import HubConfig, Transport


def _out(line: str = "") -> None:
    sys.stdout.write(line + "\n")


async def _open(settings: Settings) -> Any:
    from tiles_edge.storage import open_storage

    storage = open_storage(settings.database_url, settings.state_dir)
    await storage.open()
    return storage


def mask_token(token: str) -> str:
    """Show only the last four characters of a secret, as hub lists do."""
    return "…" + token[-4:] if len(token) > 4 else "****"


async def add_hub(
    settings: Settings,
    *,
    hub_id: str,
    name: str,
    host: str,
    app_id: str,
    token: str,
    transport: Transport,
    order: int,
) -> int:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    storage = await _open(settings)
    try:
        existed = await storage.get_hub_config(hub_id) is not None
        await storage.save_hub_config(
            HubConfig(
                hub_id=hub_id,
                name=name,
                host=host,
                app_id=app_id,
                token=token,
                transport=transport,
                order=order,
            )
        )
    finally:
        await storage.close()
    _out(f"{'updated' if existed else 'added'} hub '{hub_id}' ({name}) at {host}")
    _out(f"check it with: tiles-edge hub test {hub_id}")
    return 0


async def list_hubs(settings: Settings) -> int:
    from tiles_edge.hubs.webhook_tokens import webhook_url_for

    storage = await _open(settings)
    try:
        hubs = await storage.list_hub_configs()
        if not hubs:
            _out("no hubs configured: add one with 'tiles-edge hub add'")
            return 0
        for hub in hubs:
            state = "active" if hub.active else "inactive"
            _out(f"{hub.hub_id}: {hub.name}")
            _out(f"  host {hub.host}, app id {hub.app_id}, token {mask_token(hub.token)}")
            _out(f"  transport {hub.transport}, order {hub.order}, {state}")
            url = await webhook_url_for(settings, storage, hub.hub_id)
            _out(f"  webhook URL (paste into the Maker API app): {url}")
    finally:
        await storage.close()
    return 0


async def remove_hub(settings: Settings, hub_id: str) -> int:
    storage = await _open(settings)
    try:
        removed = await storage.delete_hub_config(hub_id)
    finally:
        await storage.close()
    if not removed:
        _out(f"no hub with id '{hub_id}': 'tiles-edge hub list' shows the configured ids")
        return 1
    _out(f"removed hub '{hub_id}'")
    return 0


async def test_hub(settings: Settings, hub_id: str) -> int:
    from tiles_edge.hubs.maker_api import MakerApiClient

    storage = await _open(settings)
    try:
        hub = await storage.get_hub_config(hub_id)
    finally:
        await storage.close()
    if hub is None:
        _out(f"no hub with id '{hub_id}': 'tiles-edge hub list' shows the configured ids")
        return 1
    client = MakerApiClient(hub, timeout_s=min(settings.hub_timeout_s, 5.0))
    try:
        try:
            devices = await client.devices()
        except HubError as err:
            _out(f"FAILED: {err.message}")
            return 1
        _out(f"OK: hub '{hub_id}' at {hub.host} exposes {len(devices)} devices to this app")
        for label, call in (("modes", client.modes), ("HSM", client.hsm)):
            try:
                await call()
            except HubReplyError:
                _out(f"  {label}: not allowed in this Maker API app (enable it to control it)")
            except HubError as err:
                _out(f"  {label}: failed: {err.message}")
            else:
                _out(f"  {label}: readable")
    finally:
        await client.aclose()
    return 0
