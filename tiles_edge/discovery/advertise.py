"""Advertise the appliance as an ``_http._tcp`` DNS-SD service.

The service is ``MOBIUS.TILES on <hostname>._http._tcp.local.`` on the host name
``tiles-<first 8 characters of the instance id>.local.``, with TXT ``path=/``, ``version``,
``id`` and ``https=0|1``. The address records list the machine's interface addresses, and
``refresh`` re-announces them when they change, so an appliance that booted before its Wi-Fi
connected becomes visible once the interface comes up.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Sequence

import ifaddr
from zeroconf import ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from tiles_edge import __version__

logger = logging.getLogger(__name__)

HTTP_SERVICE_TYPE = "_http._tcp.local."
INSTANCE_PREFIX = "MOBIUS.TILES on "
# RFC 6763 section 4.1.1: an instance name is at most 63 bytes of UTF-8.
MAX_INSTANCE_BYTES = 63

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]")


def short_id(instance_id: str) -> str:
    """Return the first 8 letters and digits of ``instance_id`` (``tiles-<this>``)."""
    cleaned = _NOT_ALPHANUMERIC.sub("", instance_id.lower())
    if not cleaned:
        raise ValueError(f"instance id {instance_id!r} has no letters or digits")
    return cleaned[:8]


def instance_name(hostname: str) -> str:
    """Return ``MOBIUS.TILES on <hostname>`` cut to the 63-byte DNS-SD limit."""
    short_host = hostname.split(".", 1)[0] or "tiles-edge"
    name = INSTANCE_PREFIX + short_host
    encoded = name.encode("utf-8")[:MAX_INSTANCE_BYTES]
    return encoded.decode("utf-8", "ignore")


def local_addresses(interfaces: Sequence[str] | None = None) -> list[str]:
    """List the addresses to publish: those of ``interfaces``, else every usable address.

    Usable means not loopback, and for IPv6 not link-local, because a link-local address
    needs a scope that an A/AAAA record cannot carry. With ``interfaces`` given, only those
    addresses that are currently configured on the machine are returned.
    """
    present: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            text = ip.ip if isinstance(ip.ip, str) else ip.ip[0]
            try:
                parsed = ipaddress.ip_address(text)
            except ValueError:
                continue
            if parsed.is_loopback or (parsed.version == 6 and parsed.is_link_local):
                continue
            if text not in present:
                present.append(text)
    if interfaces is not None:
        wanted = [str(ipaddress.ip_address(address)) for address in interfaces]
        return [address for address in wanted if address in present]
    # IPv4 first, because the zeroconf sockets are IPv4 only.
    return sorted(present, key=lambda text: (ipaddress.ip_address(text).version, text))


class Advertiser:
    """Registers the appliance's service on an ``AsyncZeroconf`` owned by the caller."""

    def __init__(
        self,
        zeroconf: AsyncZeroconf,
        *,
        instance_id: str,
        port: int,
        https: bool = False,
        hostname: str | None = None,
        interfaces: Sequence[str] | None = None,
        version: str = __version__,
    ) -> None:
        self._zeroconf = zeroconf
        self._interfaces = list(interfaces) if interfaces is not None else None
        self.instance_id = instance_id
        self.server = f"tiles-{short_id(instance_id)}.local."
        self.name = instance_name(hostname or socket.gethostname())
        self.port = port
        self.https = https
        self.version = version
        self.addresses: list[str] = []
        self._info: ServiceInfo | None = None

    @property
    def info(self) -> ServiceInfo | None:
        """The registered service, with the name zeroconf settled on after conflicts."""
        return self._info

    def _build_info(self, addresses: list[str]) -> ServiceInfo:
        return ServiceInfo(
            HTTP_SERVICE_TYPE,
            f"{self.name}.{HTTP_SERVICE_TYPE}",
            port=self.port,
            properties={
                "path": "/",
                "version": self.version,
                "id": self.instance_id,
                "https": "1" if self.https else "0",
            },
            server=self.server,
            parsed_addresses=addresses,
        )

    async def register(self) -> None:
        """Register the service, renaming it ``<name>-2`` if another appliance has the name."""
        self.addresses = local_addresses(self._interfaces)
        info = self._build_info(self.addresses)
        await self._zeroconf.async_register_service(info, allow_name_change=True)
        self._info = info
        logger.info(
            "advertising %r on %s port %d at %s",
            info.name,
            self.server,
            self.port,
            ", ".join(self.addresses) or "no address yet",
        )

    async def refresh(self) -> bool:
        """Re-announce the service if the address set changed; return whether it did."""
        if self._info is None:
            return False
        addresses = local_addresses(self._interfaces)
        if addresses == self.addresses:
            return False
        logger.info(
            "interface addresses changed from %s to %s; re-announcing %r",
            ", ".join(self.addresses) or "none",
            ", ".join(addresses) or "none",
            self._info.name,
        )
        self.addresses = addresses
        if self._interfaces is None:
            # Opens sockets on interfaces that appeared since start-up, closes those gone.
            update_interfaces = getattr(self._zeroconf, "async_update_interfaces", None)
            if update_interfaces is not None:
                await update_interfaces()
            else:
                # NOTE: zeroconf releases before async_update_interfaces keep the sockets
                # opened at start-up, so queries on a new interface get no response until a restart.
                logger.warning(
                    "this zeroconf version cannot open sockets on new interfaces; "
                    "restart tiles-edge or upgrade zeroconf to answer on them"
                )
        self._info.addresses = [socket.inet_pton(_family(text), text) for text in addresses]
        await self._zeroconf.async_update_service(self._info)
        return True

    async def unregister(self) -> None:
        """Send the goodbye packets; calling it again does nothing."""
        info, self._info = self._info, None
        if info is not None:
            goodbyes = await self._zeroconf.async_unregister_service(info)
            await goodbyes


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET
