"""The bounded hub connection test and every other fetch of an address an admin typed in.

A fetch here follows no redirect, stops after ``FETCH_TIMEOUT_S`` in total (connect, headers
and body together, so a hub that drips one byte a second is cut off too) and reads at most
``FETCH_MAX_BYTES`` of the body before it closes the connection. Callers get a summary:
the status, whether the body was JSON of the Maker API shape, and counts; never the body,
because the address may point at any server on the LAN.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx

from tiles_edge.hubs.model import HubConfig

logger = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 5.0
FETCH_MAX_BYTES = 64 * 1024

Diagnosis = Literal[
    "ok",
    "token_rejected",
    "not_found",
    "unreachable",
    "timeout",
    "redirect",
    "not_hubitat",
    "hub_error",
]

# A /devices reply cut off at the byte limit still shows its shape: count the objects seen.
_DEVICE_ID_KEY = re.compile(rb'"id"\s*:')
_SETTINGS_HINT = "under Settings → Hubs"
# The body is read raw so that the byte limit counts what crossed the network.
_HEADERS = {"accept-encoding": "identity", "accept": "application/json"}


@dataclass(slots=True)
class FetchResult:
    """What a bounded fetch learned. ``body`` is for the caller to parse, never to return."""

    status: int | None = None
    content_type: str = ""
    body: bytes = b""
    truncated: bool = False
    failure: Literal["unreachable", "timeout"] | None = None
    failure_detail: str = ""

    def json(self) -> Any:
        """Parse the body as JSON whatever the content type; ``None`` when it is not JSON."""
        if self.truncated or not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None

    @property
    def looks_like_html(self) -> bool:
        start = self.body.lstrip()[:64].lower()
        return start.startswith((b"<!doctype", b"<html", b"<head", b"<body"))


async def bounded_get(
    url: str,
    *,
    params: dict[str, str] | None = None,
    timeout_s: float = FETCH_TIMEOUT_S,
    max_bytes: int = FETCH_MAX_BYTES,
) -> FetchResult:
    """GET ``url`` without redirects, within ``timeout_s`` in total and ``max_bytes`` of body."""
    result = FetchResult()
    try:
        async with (
            asyncio.timeout(timeout_s),
            httpx.AsyncClient(trust_env=False, follow_redirects=False) as client,
            client.stream(
                "GET", url, params=params, headers=_HEADERS, timeout=timeout_s
            ) as response,
        ):
            result.status = response.status_code
            result.content_type = response.headers.get("content-type", "")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():
                room = max_bytes - size
                chunks.append(chunk[:room])
                size += min(len(chunk), room)
                if len(chunk) > room:
                    # Leaving the block closes the connection without reading the rest.
                    result.truncated = True
                    break
            result.body = b"".join(chunks)
    except (TimeoutError, httpx.TimeoutException):
        result.failure = "timeout"
        result.failure_detail = f"no complete answer within {timeout_s:g} s"
    except (httpx.TransportError, httpx.InvalidURL) as err:
        result.failure = "unreachable"
        # The exception's class names the failure; its text may carry the URL and its token.
        result.failure_detail = type(err).__name__
    return result


def maker_api_url(host: str, app_id: str, path: str) -> str:
    base = HubConfig(hub_id="-", name="-", host=host, app_id=app_id, token="").base_url
    return f"{base}/apps/api/{quote(app_id.strip(), safe='')}{path}"


@dataclass(slots=True)
class HubTestResult:
    """The summary of a connection test that the API returns as JSON."""

    diagnosis: Diagnosis
    message: str
    http_status: int | None = None
    device_count: int | None = None
    device_count_partial: bool = False
    modes: dict[str, Any] = field(default_factory=lambda: {"ok": False, "count": None})
    hsm: dict[str, Any] = field(default_factory=lambda: {"ok": False, "status": None})
    elapsed_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.diagnosis == "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "diagnosis": self.diagnosis,
            "message": self.message,
            "httpStatus": self.http_status,
            "deviceCount": self.device_count,
            "deviceCountPartial": self.device_count_partial,
            "modes": self.modes,
            "hsm": self.hsm,
            "elapsedMs": self.elapsed_ms,
        }


async def check_hub_connection(
    host: str,
    app_id: str,
    token: str,
    *,
    timeout_s: float = FETCH_TIMEOUT_S,
    max_bytes: int = FETCH_MAX_BYTES,
) -> HubTestResult:
    """Check ``host``, ``app_id`` and ``token`` against ``/devices``, then ``/modes`` and ``/hsm``.

    The whole test, all three calls included, ends within ``timeout_s``.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    params = {"access_token": token}

    def remaining() -> float:
        return max(deadline - time.monotonic(), 0.001)

    devices = await bounded_get(
        maker_api_url(host, app_id, "/devices"),
        params=params,
        timeout_s=remaining(),
        max_bytes=max_bytes,
    )
    result = _diagnose_devices(devices, host, app_id, timeout_s, max_bytes)
    if result.diagnosis == "not_found":
        result = await _confirm_hubitat_on_404(result, host, remaining())
    if result.ok:
        modes, hsm = await asyncio.gather(
            bounded_get(
                maker_api_url(host, app_id, "/modes"),
                params=params,
                timeout_s=remaining(),
                max_bytes=max_bytes,
            ),
            bounded_get(
                maker_api_url(host, app_id, "/hsm"),
                params=params,
                timeout_s=remaining(),
                max_bytes=max_bytes,
            ),
        )
        result.modes = _modes_summary(modes)
        result.hsm = _hsm_summary(hsm)
    result.elapsed_ms = round((time.monotonic() - started) * 1000)
    logger.info("hub connection test of %s (app %s): %s", host, app_id, result.diagnosis)
    return result


async def _confirm_hubitat_on_404(
    result: HubTestResult, host: str, budget_s: float
) -> HubTestResult:
    """Tell a hub without that Maker API app from a server that is no hub at all.

    A hub returns 404 for an unknown app id, and so does any other web server. The
    discovery probe looks for a page naming Hubitat, within the same limits (no redirects,
    64 KiB, the remaining time).
    """
    from tiles_edge.discovery.probes import make_probe_client, probe_hubitat

    target = urlsplit(host if "://" in host else "http://" + host)
    if target.hostname is None:
        return result
    try:
        async with make_probe_client() as client, asyncio.timeout(budget_s):
            probe = await probe_hubitat(client, target.hostname, target.port or 80)
    except TimeoutError:
        return result
    if probe.confirmed:
        return result
    return HubTestResult(
        "not_hubitat",
        f"{host} answered HTTP 404 and no page there names Hubitat: this does not look like a "
        "Hubitat hub; check the host and the port",
        http_status=result.http_status,
    )


def _diagnose_devices(
    fetch: FetchResult, host: str, app_id: str, timeout_s: float, max_bytes: int
) -> HubTestResult:
    if fetch.failure == "timeout":
        return HubTestResult(
            "timeout",
            f"{host} did not answer within {timeout_s:g} s: check that the hub is powered, "
            "on the network, and that the address is the hub's",
        )
    if fetch.failure == "unreachable":
        return HubTestResult(
            "unreachable",
            f"cannot connect to {host} ({fetch.failure_detail}): check the host name or "
            "address and the port, and that the hub is powered and on the network",
        )
    status = fetch.status
    if status == 401:
        return HubTestResult(
            "token_rejected",
            f"the hub rejected the access token (HTTP 401): copy the token again from the "
            f"Maker API app {app_id} on the hub",
            http_status=status,
        )
    if status == 404:
        return HubTestResult(
            "not_found",
            f"{host} has no Maker API app {app_id} (HTTP 404): check the app id in the Maker "
            "API app's URLs, and that the host is the hub's",
            http_status=status,
        )
    if status is not None and 300 <= status < 400:
        return HubTestResult(
            "redirect",
            f"{host} answered with a redirect (HTTP {status}), which is not followed: enter "
            "the hub's own address, with http:// and no path",
            http_status=status,
        )
    if status != 200:
        return HubTestResult(
            "hub_error",
            f"{host} answered /devices with HTTP {status}: check the Maker API app {app_id} "
            "on the hub",
            http_status=status,
        )
    count, partial = _count_devices(fetch)
    if count is None:
        shown = "an HTML page" if fetch.looks_like_html else "a reply of another shape"
        if fetch.truncated:
            shown = f"a reply larger than {max_bytes // 1024} KiB that is not a device list"
        return HubTestResult(
            "not_hubitat",
            f"{host} answered with {shown}, not a Maker API device list: this does not look "
            "like a Hubitat hub; check the host and the port",
            http_status=status,
        )
    more = "at least " if partial else ""
    return HubTestResult(
        "ok",
        f"connected: the Maker API app {app_id} exposes {more}{count} device(s)",
        http_status=status,
        device_count=count,
        device_count_partial=partial,
    )


def _count_devices(fetch: FetchResult) -> tuple[int | None, bool]:
    """Count the devices of a ``/devices`` reply: ``[{id, name, label, ...}]``."""
    if fetch.truncated:
        # A large home can pass the limit: accept a list of objects that carry ids.
        head = fetch.body.lstrip()
        if head.startswith(b"[") and head[1:].lstrip().startswith(b"{"):
            seen = len(_DEVICE_ID_KEY.findall(head))
            if seen:
                return seen, True
        return None, False
    payload = fetch.json()
    if not isinstance(payload, list):
        return None, False
    if not all(isinstance(item, dict) and "id" in item and "name" in item for item in payload):
        return None, False
    return len(payload), False


def _modes_summary(fetch: FetchResult) -> dict[str, Any]:
    payload = fetch.json() if fetch.status == 200 else None
    if isinstance(payload, list) and all(isinstance(item, dict) for item in payload):
        return {"ok": True, "count": len(payload)}
    return {"ok": False, "count": None, "reason": _access_reason(fetch, "modes")}


def _hsm_summary(fetch: FetchResult) -> dict[str, Any]:
    payload = fetch.json() if fetch.status == 200 else None
    if isinstance(payload, dict) and isinstance(payload.get("hsm"), str):
        return {"ok": True, "status": payload["hsm"][:40]}
    return {"ok": False, "status": None, "reason": _access_reason(fetch, "HSM")}


def _access_reason(fetch: FetchResult, what: str) -> str:
    if fetch.failure is not None:
        return f"{what} could not be read: {fetch.failure_detail}"
    if fetch.status == 400:
        return f"the Maker API app does not allow {what}: enable it in the app's settings"
    return f"{what} could not be read (HTTP {fetch.status})"


async def register_post_url(hub: HubConfig, url: str) -> FetchResult:
    """Ask the hub's Maker API app to POST every event to ``url`` (its ``/postURL``)."""
    return await bounded_get(
        maker_api_url(hub.host, hub.app_id, f"/postURL/{quote(url, safe='')}"),
        params={"access_token": hub.token},
    )


def describe_failure(fetch: FetchResult, hub: HubConfig) -> str | None:
    """Return why a Maker API call to ``hub`` failed, or ``None`` when it returned 2xx."""
    if fetch.failure == "timeout":
        return f"hub '{hub.hub_id}' did not answer within {FETCH_TIMEOUT_S:g} s"
    if fetch.failure == "unreachable":
        return f"hub '{hub.hub_id}' is unreachable ({fetch.failure_detail}): check its host"
    status = fetch.status or 0
    if status == 401:
        return (
            f"hub '{hub.hub_id}' rejected the access token (HTTP 401): save a new token "
            f"{_SETTINGS_HINT}"
        )
    if status == 404:
        return f"hub '{hub.hub_id}' has no Maker API app {hub.app_id} (HTTP 404)"
    if not 200 <= status < 300:
        return f"hub '{hub.hub_id}' answered HTTP {status}"
    return None
