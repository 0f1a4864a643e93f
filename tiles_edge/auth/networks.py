"""Client addresses and trusted networks.

The client address is the TCP peer. ``Forwarded``, ``X-Forwarded-For`` and ``X-Real-IP`` are
read only when the peer is a configured proxy. Then the client is the right-most hop that is
not itself a configured proxy, because any hop left of it may have been written by the client.
IPv4-mapped IPv6 addresses (``::ffff:192.0.2.1``) are turned into plain IPv4 everywhere, so
one address has one form in every comparison.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# One element of a Forwarded header (RFC 7239 section 4), such as for=192.0.2.60 or
# for="[2001:db8::1]:4711".
_FORWARDED_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]+)', re.IGNORECASE)


class NetworkSpecError(ValueError):
    """An address or CIDR in the settings is invalid; the message quotes it."""


def parse_address(text: str | None) -> IPAddress | None:
    """Parse an address as it appears in a peer tuple or a forwarding header.

    Accepts ``192.0.2.1``, ``192.0.2.1:8080``, ``[2001:db8::1]:443``, ``fe80::1%eth0`` and
    IPv4-mapped forms; returns None for anything else (``unknown``, obfuscated names).
    """
    if not text:
        return None
    value = text.strip().strip('"')
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        value = value[1:end]
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    value = value.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return normalize_address(address)


def normalize_address(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def parse_network(text: str) -> IPNetwork:
    """Parse an address or CIDR from the settings; raise NetworkSpecError when invalid.

    A prefix of length zero (``0.0.0.0/0``, ``::/0``) is rejected because it would trust
    every address. An IPv4-mapped IPv6 network becomes the IPv4 network it maps.
    """
    value = text.strip()
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as err:
        raise NetworkSpecError(
            f"invalid address or CIDR {value!r}: use a form such as 192.168.1.20 or 192.168.1.0/24"
        ) from err
    if isinstance(network, ipaddress.IPv6Network):
        mapped = network.network_address.ipv4_mapped
        if mapped is not None and network.prefixlen >= 96:
            network = ipaddress.IPv4Network(f"{mapped}/{network.prefixlen - 96}", strict=False)
    if network.prefixlen == 0:
        raise NetworkSpecError(
            f"network {value!r} would match every address: list the local networks instead"
        )
    return network


def parse_network_list(text: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """Parse a comma-separated string or a list of addresses and CIDRs."""
    items = text.split(",") if isinstance(text, str) else list(text)
    return tuple(parse_network(item) for item in items if item.strip())


def _in_any(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


@dataclass(frozen=True, slots=True)
class ClientAddress:
    """The address a request came from.

    ``ip`` is None when a proxy forwarded a hop that is not an address. ``via_proxy`` is
    True when the address came from a forwarding header rather than the TCP peer.
    """

    ip: IPAddress | None
    peer: IPAddress | None
    via_proxy: bool

    def __str__(self) -> str:
        if self.ip is not None:
            return str(self.ip)
        return "unknown" if self.peer is None else f"unknown via {self.peer}"


class ClientAddressResolver:
    """Work out the client address of a request from its peer and, behind a proxy, headers."""

    def __init__(self, trusted_proxies: str | Iterable[str] = ()) -> None:
        self._proxies = parse_network_list(trusted_proxies)

    def resolve(self, peer_host: str | None, headers: Mapping[str, str]) -> ClientAddress:
        """Return the client address. ``headers`` is looked up by lower-case name."""
        peer = parse_address(peer_host)
        if peer is None or not _in_any(peer, self._proxies):
            return ClientAddress(ip=peer, peer=peer, via_proxy=False)

        hops = _forwarded_hops(headers)
        if not hops:
            return ClientAddress(ip=peer, peer=peer, via_proxy=True)
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                return ClientAddress(ip=None, peer=peer, via_proxy=True)
            if not _in_any(address, self._proxies):
                return ClientAddress(ip=address, peer=peer, via_proxy=True)
        return ClientAddress(ip=parse_address(hops[0]), peer=peer, via_proxy=True)


def _forwarded_hops(headers: Mapping[str, str]) -> list[str]:
    """Return the forwarded client hops, left-most first, from the most specific header."""
    forwarded = headers.get("forwarded")
    if forwarded:
        hops: list[str] = []
        for element in forwarded.split(","):
            match = _FORWARDED_FOR.search(element)
            # An element without for= is still a hop whose address we do not know.
            hops.append(match.group(1) if match else "unknown")
        return hops
    forwarded_for = headers.get("x-forwarded-for")
    if forwarded_for:
        return [hop.strip() for hop in forwarded_for.split(",")]
    real_ip = headers.get("x-real-ip")
    if real_ip:
        return [real_ip.strip()]
    return []


@dataclass(frozen=True, slots=True)
class TrustedNetwork:
    """An address range whose devices may sign in without a password, as ``username``.

    ``allow_admin`` must be True for the entry to sign anyone in as an admin.
    """

    network: IPNetwork
    username: str
    allow_admin: bool = False

    @classmethod
    def parse(cls, cidr: str, username: str, *, allow_admin: bool = False) -> TrustedNetwork:
        if not username.strip():
            raise NetworkSpecError(f"trusted network {cidr!r} names no user to sign in as")
        return cls(parse_network(cidr), username.strip(), allow_admin)

    def to_json(self) -> dict[str, object]:
        return {
            "cidr": str(self.network),
            "username": self.username,
            "allowAdmin": self.allow_admin,
        }


def trusted_networks_from_json(items: object) -> tuple[TrustedNetwork, ...]:
    """Build trusted networks from JSON: a list of {cidr, username, allowAdmin}."""
    if not isinstance(items, list):
        raise NetworkSpecError("trusted networks must be a list of {cidr, username} objects")
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise NetworkSpecError(f"trusted network #{index + 1} must be an object")
        cidr = item.get("cidr")
        username = item.get("username")
        allow_admin = item.get("allowAdmin", False)
        if not isinstance(cidr, str) or not isinstance(username, str):
            raise NetworkSpecError(
                f"trusted network #{index + 1} needs a string 'cidr' and a string 'username'"
            )
        if not isinstance(allow_admin, bool):
            raise NetworkSpecError(f"trusted network #{index + 1}: 'allowAdmin' must be a boolean")
        result.append(TrustedNetwork.parse(cidr, username, allow_admin=allow_admin))
    return tuple(result)


def match_trusted_network(
    client: ClientAddress, networks: Sequence[TrustedNetwork]
) -> TrustedNetwork | None:
    """Return the first trusted network containing the client, or None.

    A loopback address that arrived through a proxy never matches: the proxy runs on this
    machine, so every forwarded request would otherwise look local.
    """
    if client.ip is None:
        return None
    if client.via_proxy and client.ip.is_loopback:
        return None
    for entry in networks:
        if client.ip.version == entry.network.version and client.ip in entry.network:
            return entry
    return None
