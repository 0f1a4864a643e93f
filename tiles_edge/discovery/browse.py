"""Browse DNS-SD for Hubitat hubs and MediaMTX servers, and resolve ``hubitat.local``.

Hubitat documents no DNS-SD service type, so hubs are looked for under ``_hubitat._tcp``
(a type that third-party scanners publish) and among ``_http._tcp`` instances whose name,
host name or TXT record mentions Hubitat. MediaMTX publishes nothing by itself: ``_rtsp._tcp``
comes from whatever publishes the RTSP server, and ``_mediamtx._tcp`` from the avahi service
file in firmware-notes/. Each resolved instance becomes a ``Sighting`` for the caller to probe.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zeroconf import ServiceInfo, ServiceStateChange, Zeroconf

# The package re-exports AddressResolverIPv4 but leaves it out of __all__, so mypy --strict
# accepts only the defining module.
from zeroconf._services.info import AddressResolverIPv4
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from tiles_edge.discovery.candidates import CandidateKind
from tiles_edge.discovery.probes import HUBITAT_HTTP_PORT, MEDIAMTX_API_PORT

logger = logging.getLogger(__name__)

HUBITAT_TYPE = "_hubitat._tcp.local."
HTTP_TYPE = "_http._tcp.local."
RTSP_TYPE = "_rtsp._tcp.local."
MEDIAMTX_TYPE = "_mediamtx._tcp.local."
BROWSED_TYPES = (HUBITAT_TYPE, HTTP_TYPE, RTSP_TYPE, MEDIAMTX_TYPE)
HUBITAT_HOSTNAME = "hubitat.local."

RESOLVE_TIMEOUT_MS = 3000
# TXT values longer than this are ignored when looking for the word Hubitat.
_MAX_TXT_TEXT = 4096


@dataclass(frozen=True, slots=True)
class Sighting:
    """One candidate as mDNS reported it, before any probe."""

    kind: CandidateKind
    name: str
    host: str
    port: int
    source: str
    addresses: tuple[str, ...] = ()
    hostname: str | None = None
    txt: dict[str, str] = field(default_factory=dict)


def source_label(service_type: str) -> str:
    """``_hubitat._tcp.local.`` → ``mdns:_hubitat._tcp``."""
    return "mdns:" + service_type.removesuffix(".").removesuffix(".local")


def instance_label(service_type: str, name: str) -> str:
    """Return the instance part of a full DNS-SD name (``Hub._hubitat._tcp.local.`` → ``Hub``)."""
    suffix = "." + service_type
    return name[: -len(suffix)] if name.endswith(suffix) else name.removesuffix(".")


def pick_host(addresses: list[str], hostname: str | None) -> str | None:
    """Prefer an IPv4 address, then a global IPv6 address, then the host name."""
    ipv6: list[str] = []
    for text in addresses:
        try:
            parsed = ipaddress.ip_address(text.split("%", 1)[0])
        except ValueError:
            continue
        if parsed.version == 4 and not parsed.is_unspecified:
            return text
        if parsed.version == 6 and not parsed.is_link_local:
            ipv6.append(text)
    if ipv6:
        return ipv6[0]
    if hostname:
        return hostname.removesuffix(".")
    return None


def _decoded_txt(info: ServiceInfo) -> dict[str, str]:
    txt: dict[str, str] = {}
    try:
        properties = info.decoded_properties
    except (UnicodeDecodeError, ValueError):
        return txt
    for key, value in properties.items():
        if isinstance(key, str):
            txt[key] = value[:_MAX_TXT_TEXT] if isinstance(value, str) else ""
    return txt


def _mentions_hubitat(*texts: str | None) -> bool:
    return any(text is not None and "hubitat" in text.lower() for text in texts)


def sighting_from_info(
    service_type: str, info: ServiceInfo, own_id: str | None = None
) -> Sighting | None:
    """Turn a resolved instance into a sighting, or ``None`` when it is not a candidate.

    ``own_id`` is the appliance's instance id, so that its own ``_http._tcp`` service is
    skipped.
    """
    name = instance_label(service_type, info.name)
    hostname = info.server
    addresses = info.parsed_addresses()
    txt = _decoded_txt(info)
    host = pick_host(addresses, hostname)
    if host is None:
        return None
    source = source_label(service_type)
    port = info.port

    if service_type == HUBITAT_TYPE:
        kind: CandidateKind = "hubitat"
    elif service_type == HTTP_TYPE:
        if own_id is not None and txt.get("id") == own_id:
            return None
        txt_text = " ".join(f"{key}={value}" for key, value in txt.items())
        if not _mentions_hubitat(name, hostname, txt_text):
            return None
        kind = "hubitat"
    elif service_type == MEDIAMTX_TYPE:
        kind = "mediamtx"
    elif service_type == RTSP_TYPE:
        # The RTSP port is not the API port: MediaMTX serves its control API on 9997.
        kind = "mediamtx"
        port = MEDIAMTX_API_PORT
    else:
        return None

    if port is None or not 0 < port < 65536:
        port = HUBITAT_HTTP_PORT if kind == "hubitat" else MEDIAMTX_API_PORT
    return Sighting(
        kind=kind,
        name=name,
        host=host,
        port=port,
        source=source,
        addresses=tuple(addresses),
        hostname=hostname.removesuffix(".") if hostname else None,
        txt=txt,
    )


class Browser:
    """Browses ``BROWSED_TYPES`` and calls ``on_sighting`` for each resolved candidate."""

    def __init__(
        self,
        zeroconf: AsyncZeroconf,
        on_sighting: Callable[[Sighting], None],
        *,
        own_id: str | None = None,
        resolve_timeout_ms: int = RESOLVE_TIMEOUT_MS,
    ) -> None:
        self._zeroconf = zeroconf
        self._on_sighting = on_sighting
        self._own_id = own_id
        self._resolve_timeout_ms = resolve_timeout_ms
        self._browser: AsyncServiceBrowser | None = None
        self._pending: dict[tuple[str, str], asyncio.Task[None]] = {}

    def start(self) -> None:
        self._browser = AsyncServiceBrowser(
            self._zeroconf.zeroconf, list(BROWSED_TYPES), handlers=[self._on_change]
        )

    async def stop(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            await browser.async_cancel()
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._pending.clear()

    def _on_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        # A removed instance stays listed with its last-seen time; an admin may still want it.
        if state_change is ServiceStateChange.Removed:
            return
        key = (service_type, name)
        if key in self._pending:
            return
        task = asyncio.get_running_loop().create_task(
            self._resolve(service_type, name), name=f"discovery resolve {name}"
        )
        self._pending[key] = task
        task.add_done_callback(lambda done: self._resolved(key, done))

    def _resolved(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        self._pending.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("resolving %s failed", key[1], exc_info=task.exception())

    async def _resolve(self, service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(self._zeroconf.zeroconf, self._resolve_timeout_ms):
            logger.debug("no SRV/TXT response for %s within %d ms", name, self._resolve_timeout_ms)
            return
        sighting = sighting_from_info(service_type, info, self._own_id)
        if sighting is not None:
            self._on_sighting(sighting)

    async def resolve_hostname(self, hostname: str = HUBITAT_HOSTNAME) -> list[str]:
        """Resolve ``hostname`` with an mDNS A query; return ``[]`` when no host responds."""
        resolver = AddressResolverIPv4(hostname)
        found: Any = await resolver.async_request(self._zeroconf.zeroconf, self._resolve_timeout_ms)
        if not found:
            return []
        return list(resolver.parsed_addresses())
