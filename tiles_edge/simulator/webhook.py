"""Delivery of hub events to the URL registered through ``/postURL``, as a real hub does it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import httpx

logger = logging.getLogger(__name__)

WEBHOOK_QUEUE_SIZE = 1000
WEBHOOK_TIMEOUT_S = 5.0


def describe_target(url: str) -> str:
    """Name a webhook target by host and port only: its path carries a secret token."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "an invalid URL"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host}{port}"


class WebhookSender:
    """POST events one at a time from a bounded queue, so the event loop never waits on them.

    A full queue drops the newest event, as a hub that cannot reach the target loses events.
    Only the first failure of a run of failures is logged, and the recovery once after it.
    """

    def __init__(self, hub_name: str) -> None:
        self._hub_name = hub_name
        self._queue: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(
            maxsize=WEBHOOK_QUEUE_SIZE
        )
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"webhook {self._hub_name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def offer(self, url: str, body: dict[str, Any]) -> None:
        if self._task is None:
            return
        try:
            self._queue.put_nowait((url, body))
        except asyncio.QueueFull:
            self.dropped += 1

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_S, follow_redirects=False) as client:
            while True:
                url, body = await self._queue.get()
                await self._post(client, url, body)

    async def _post(self, client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
        try:
            response = await client.post(url, json=body)
            response.raise_for_status()
        except (httpx.HTTPError, ValueError) as err:
            self.failed += 1
            if not self._failing:
                self._failing = True
                logger.warning(
                    "hub %r could not deliver an event to the webhook at %s: %s",
                    self._hub_name,
                    describe_target(url),
                    type(err).__name__,
                )
            return
        self.delivered += 1
        if self._failing:
            self._failing = False
            logger.info(
                "hub %r delivers events to the webhook at %s again",
                self._hub_name,
                describe_target(url),
            )
