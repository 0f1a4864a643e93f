"""Per-hub webhook URL tokens.

A hub's token is ``base64url(HMAC-SHA256(key, "webhook:<hubId>:<generation>"))``: 256 bits
that anyone holding the secret key (the server, ``tiles-edge hub list``) can re-derive, while
the database keeps only the token's SHA-256. Bumping the generation (kept in app state)
rotates the token. The key is 32 random bytes in ``<state_dir>/secret.key``, mode 0600.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret.key"  # noqa: S105 (a file name, not a secret)
SECRET_KEY_BYTES = 32
WEBHOOK_KINDS = ("event", "mode")


class WebhookSecretStore(Protocol):
    async def get_hub_webhook_secrets(self) -> dict[str, str]: ...

    async def set_hub_webhook_secret(self, hub_id: str, token_hash: str) -> None: ...

    async def get_app_state(self, key: str) -> Any: ...

    async def set_app_state(self, key: str, value: Any) -> None: ...


def load_secret_key(state_dir: Path) -> bytes:
    """Read the server's secret key, creating it (mode 0600) on first use.

    Creation uses ``O_EXCL``, so two processes starting at once end up with the same key.
    """
    path = state_dir / SECRET_KEY_FILE
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(SECRET_KEY_BYTES))
            file.flush()
            os.fsync(file.fileno())
        logger.info("created the secret key file %s", path)
    key = path.read_bytes()
    if len(key) < SECRET_KEY_BYTES:
        raise ValueError(
            f"secret key file {path} holds {len(key)} bytes, expected {SECRET_KEY_BYTES}; "
            "delete it to create a new one (webhook URLs will change)"
        )
    return key


def generation_key(hub_id: str) -> str:
    return f"webhook_generation:{hub_id}"


def webhook_path(token: str, kind: str = "event") -> str:
    if kind not in WEBHOOK_KINDS:
        raise ValueError(f"unknown webhook kind {kind!r}: use one of {', '.join(WEBHOOK_KINDS)}")
    return f"/api/webhook/{kind}/{token}"


class WebhookTokens:
    def __init__(self, key: bytes) -> None:
        if len(key) < SECRET_KEY_BYTES:
            raise ValueError(f"the webhook key must be at least {SECRET_KEY_BYTES} bytes")
        self._key = key

    def token_for(self, hub_id: str, generation: int) -> str:
        message = f"webhook:{hub_id}:{generation}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

    @classmethod
    def match(cls, token: str, token_hashes: Mapping[str, str]) -> str | None:
        """Return the hub whose stored hash matches ``token``, else ``None``.

        Every stored hash is compared in constant time, whether or not one matched earlier.
        """
        presented = cls.hash_token(token).encode("ascii")
        found: str | None = None
        for hub_id, stored in token_hashes.items():
            if hmac.compare_digest(presented, stored.encode("ascii", "replace")):
                found = hub_id
        return found


async def current_generation(storage: WebhookSecretStore, hub_id: str) -> int:
    """Read the hub's token generation: 1 when none is stored or the stored value is invalid."""
    stored = await storage.get_app_state(generation_key(hub_id))
    try:
        generation = int(stored)
    except (TypeError, ValueError):
        return 1
    return max(generation, 1)


async def current_token(storage: WebhookSecretStore, tokens: WebhookTokens, hub_id: str) -> str:
    return tokens.token_for(hub_id, await current_generation(storage, hub_id))


async def ensure_webhook_secrets(
    storage: WebhookSecretStore, tokens: WebhookTokens, hub_ids: Iterable[str]
) -> None:
    """Store the hash of each hub's current token where it is missing or stale."""
    stored = await storage.get_hub_webhook_secrets()
    for hub_id in hub_ids:
        token_hash = tokens.hash_token(await current_token(storage, tokens, hub_id))
        if stored.get(hub_id) != token_hash:
            await storage.set_hub_webhook_secret(hub_id, token_hash)


async def rotate_webhook_token(
    storage: WebhookSecretStore, tokens: WebhookTokens, hub_id: str
) -> str:
    """Move the hub to the next generation; the old token stops working at once."""
    generation = await current_generation(storage, hub_id) + 1
    await storage.set_app_state(generation_key(hub_id), str(generation))
    token = tokens.token_for(hub_id, generation)
    await storage.set_hub_webhook_secret(hub_id, tokens.hash_token(token))
    logger.info("rotated the webhook token of hub %s to generation %d", hub_id, generation)
    return token


async def webhook_url_for(
    settings: Any, storage: WebhookSecretStore, hub_id: str, kind: str = "event"
) -> str:
    """Build the full webhook URL to register on the hub's Maker API app.

    The base is ``settings.webhook_base_url``, else ``http://<host>:<port>`` from the
    settings. A wildcard listen address cannot be reached by a hub, so it is shown as
    ``<this-server-address>`` for the admin to replace.
    """
    tokens = WebhookTokens(load_secret_key(settings.state_dir))
    token = await current_token(storage, tokens, hub_id)
    base = str(settings.webhook_base_url or "").rstrip("/")
    if not base:
        host = str(settings.host)
        if host in ("0.0.0.0", "::", ""):  # noqa: S104
            host = "<this-server-address>"
        elif ":" in host:
            host = f"[{host}]"
        base = f"http://{host}:{settings.port}"
    return base + webhook_path(token, kind)
