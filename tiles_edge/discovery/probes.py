"""HTTP probes that confirm a discovered Hubitat hub or MediaMTX server.

Every probe targets an address found on the LAN, so it follows the rules for fetching a
user-given address. It follows no redirects and stops after ``PROBE_TIMEOUT_S`` for the whole
exchange and ``PROBE_MAX_BYTES`` of body. Only a one-line summary leaves this module, never
the body.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from dataclasses import dataclass

import httpx

PROBE_TIMEOUT_S = 5.0
PROBE_MAX_BYTES = 64 * 1024
MEDIAMTX_API_PORT = 9997
HUBITAT_HTTP_PORT = 80

# Paths that identify a Hubitat hub, in the order they are tried. ``/api/hubitat.xml`` is the
# hub's UPnP device description and ``/`` and ``/login`` serve the hub's web UI, whose page
# names the product. None of them needs a token. See firmware-notes/hubitat-mdns.md for what
# is verified about each.
HUBITAT_PROBE_PATHS = ("/api/hubitat.xml", "/", "/login")

_HUBITAT_MARKER = re.compile(rb"hubitat", re.IGNORECASE)
_MODEL_NAME = re.compile(rb"<modelName>\s*([^<]{1,80}?)\s*</modelName>", re.IGNORECASE)
_VERSION_TEXT = re.compile(r"^v?\d+(\.\d+){0,3}([-+.][0-9A-Za-z.-]{1,40})?$")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The summary of one probe: whether the host is what it claims, and a one-line detail."""

    confirmed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    body: bytes
    truncated: bool


def probe_url(host: str, port: int, path: str) -> str:
    """Build ``http://host:port/path``, bracketing IPv6 literals."""
    try:
        literal = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        literal = None
    netloc_host = f"[{host}]" if literal is not None and literal.version == 6 else host
    return f"http://{netloc_host}:{port}{path}"


def make_probe_client() -> httpx.AsyncClient:
    """Return a client for probes: no redirects, no proxies from the environment."""
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(PROBE_TIMEOUT_S),
        trust_env=False,
        headers={"Accept": "*/*", "User-Agent": "tiles-edge-discovery"},
    )


async def _fetch(client: httpx.AsyncClient, url: str) -> _Reply:
    """GET ``url`` and read at most ``PROBE_MAX_BYTES`` of its body within the time limit."""
    async with asyncio.timeout(PROBE_TIMEOUT_S):
        async with client.stream("GET", url) as response:
            body = bytearray()
            truncated = False
            async for chunk in response.aiter_bytes():
                body.extend(chunk)
                if len(body) >= PROBE_MAX_BYTES:
                    del body[PROBE_MAX_BYTES:]
                    truncated = True
                    break
            return _Reply(response.status_code, bytes(body), truncated)


def _failure_detail(err: BaseException) -> str:
    if isinstance(err, TimeoutError | httpx.TimeoutException):
        return f"unconfirmed: no answer within {PROBE_TIMEOUT_S:g} s"
    if isinstance(err, httpx.ConnectError):
        return "unconfirmed: connection refused or host unreachable"
    return f"unconfirmed: HTTP request failed ({type(err).__name__})"


async def probe_hubitat(
    client: httpx.AsyncClient, host: str, port: int = HUBITAT_HTTP_PORT
) -> ProbeResult:
    """Check whether ``host:port`` serves a Hubitat hub's description or web UI.

    A path counts when it returns 200 and its body names Hubitat. Redirects are not followed,
    because a hub with hub security enabled redirects ``/`` to ``/login``, which is tried
    next anyway.
    """
    last = "unconfirmed: no Hubitat page found"
    for path in HUBITAT_PROBE_PATHS:
        try:
            reply = await _fetch(client, probe_url(host, port, path))
        except (httpx.HTTPError, TimeoutError, OSError) as err:
            # An unreachable host fails the same way on every path.
            return ProbeResult(False, _failure_detail(err))
        if reply.status == 200 and _HUBITAT_MARKER.search(reply.body):
            model = _MODEL_NAME.search(reply.body)
            if model is not None:
                name = model.group(1).decode("utf-8", "replace").strip()
                if name:
                    return ProbeResult(True, f"Hubitat hub ({name})")
            return ProbeResult(True, "Hubitat hub")
        last = f"unconfirmed: HTTP {reply.status} without a Hubitat page"
    return ProbeResult(False, last)


async def probe_mediamtx(
    client: httpx.AsyncClient, host: str, port: int = MEDIAMTX_API_PORT
) -> ProbeResult:
    """Check whether ``host:port`` serves the MediaMTX control API (``GET /v3/info``).

    Confirmed when the reply is JSON with a string ``version``, as MediaMTX 1.x sends it.
    """
    try:
        reply = await _fetch(client, probe_url(host, port, "/v3/info"))
    except (httpx.HTTPError, TimeoutError, OSError) as err:
        return ProbeResult(False, _failure_detail(err))
    if reply.status in (401, 403):
        # MediaMTX grants the API action only to loopback clients unless its
        # authInternalUsers setting allows more.
        return ProbeResult(
            False,
            f"unconfirmed: HTTP {reply.status}; the MediaMTX API needs credentials or must "
            "allow this address",
        )
    if reply.status != 200:
        return ProbeResult(False, f"unconfirmed: HTTP {reply.status} from /v3/info")
    if reply.truncated:
        return ProbeResult(False, f"unconfirmed: /v3/info is larger than {PROBE_MAX_BYTES} bytes")
    try:
        info = json.loads(reply.body)
    except ValueError:
        return ProbeResult(False, "unconfirmed: /v3/info is not JSON")
    version = info.get("version") if isinstance(info, dict) else None
    if not isinstance(version, str) or not _VERSION_TEXT.match(version.strip()):
        return ProbeResult(False, "unconfirmed: /v3/info has no version")
    version = version.strip()
    if not version.startswith("v"):
        version = "v" + version
    return ProbeResult(True, f"MediaMTX {version}")
