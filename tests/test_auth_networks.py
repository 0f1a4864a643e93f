"""Client address resolution and trusted-network matching: peers x settings."""

from __future__ import annotations

import ipaddress

import pytest

from tiles_edge.auth.networks import (
    ClientAddressResolver,
    NetworkSpecError,
    TrustedNetwork,
    match_trusted_network,
    parse_address,
    parse_network,
    trusted_networks_from_json,
)

LAN = (TrustedNetwork.parse("192.168.1.0/24", "kiosk"),)
LAN_AND_LOOPBACK = (*LAN, TrustedNetwork.parse("127.0.0.1", "local"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.168.1.5", "192.168.1.5"),
        ("192.168.1.5:51234", "192.168.1.5"),
        ("::ffff:192.168.1.5", "192.168.1.5"),
        ("[::ffff:192.168.1.5]:80", "192.168.1.5"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ('"[2001:db8::1]"', "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
        ("unknown", None),
        ("_hidden", None),
        ("", None),
        (None, None),
        ("[::1", None),
    ],
)
def test_parse_address(text: str | None, expected: str | None) -> None:
    parsed = parse_address(text)
    assert (str(parsed) if parsed else None) == expected


def test_parse_network_rejects_everything_prefix() -> None:
    with pytest.raises(NetworkSpecError, match="every address"):
        parse_network("0.0.0.0/0")
    with pytest.raises(NetworkSpecError, match="every address"):
        parse_network("::/0")
    with pytest.raises(NetworkSpecError, match="invalid address or CIDR 'lan'"):
        parse_network("lan")


def test_parse_network_maps_ipv4_mapped() -> None:
    assert parse_network("::ffff:192.168.1.0/120") == ipaddress.ip_network("192.168.1.0/24")


# Each row: trusted proxies setting, peer, forwarding headers, trusted networks,
# expected client address, expected user or None.
TABLE = [
    # No proxy configured: only the TCP peer counts, whatever the headers claim.
    ("", "203.0.113.7", {"x-forwarded-for": "192.168.1.5"}, LAN, "203.0.113.7", None),
    ("", "203.0.113.7", {"forwarded": "for=192.168.1.5"}, LAN, "203.0.113.7", None),
    ("", "203.0.113.7", {"x-real-ip": "192.168.1.5"}, LAN, "203.0.113.7", None),
    ("", "192.168.1.20", {}, LAN, "192.168.1.20", "kiosk"),
    ("", "192.168.2.20", {}, LAN, "192.168.2.20", None),
    ("", "::ffff:192.168.1.20", {}, LAN, "192.168.1.20", "kiosk"),
    ("", "::ffff:10.0.0.1", {}, LAN, "10.0.0.1", None),
    ("", "2001:db8::5", {}, LAN, "2001:db8::5", None),
    # Trusted networks are off unless listed.
    ("", "192.168.1.20", {}, (), "192.168.1.20", None),
    # Loopback directly is trusted only when listed.
    ("", "127.0.0.1", {}, LAN, "127.0.0.1", None),
    ("", "127.0.0.1", {}, LAN_AND_LOOPBACK, "127.0.0.1", "local"),
    # A peer that is not a configured proxy cannot forward.
    ("10.0.0.2", "10.0.0.3", {"x-forwarded-for": "192.168.1.5"}, LAN, "10.0.0.3", None),
    # A configured proxy forwards the right-most hop that is not a proxy.
    ("10.0.0.2", "10.0.0.2", {"x-forwarded-for": "192.168.1.5"}, LAN, "192.168.1.5", "kiosk"),
    (
        "10.0.0.2",
        "10.0.0.2",
        {"x-forwarded-for": "192.168.1.5, 203.0.113.9"},
        LAN,
        "203.0.113.9",
        None,
    ),
    (
        "10.0.0.0/29",
        "10.0.0.2",
        {"x-forwarded-for": "203.0.113.9, 192.168.1.5, 10.0.0.3"},
        LAN,
        "192.168.1.5",
        "kiosk",
    ),
    (
        "10.0.0.2",
        "10.0.0.2",
        {"forwarded": 'for=203.0.113.9, for="[::ffff:192.168.1.6]:1234";proto=http'},
        LAN,
        "192.168.1.6",
        "kiosk",
    ),
    ("10.0.0.2", "10.0.0.2", {"x-real-ip": "192.168.1.7"}, LAN, "192.168.1.7", "kiosk"),
    # Forwarded takes precedence over X-Forwarded-For.
    (
        "10.0.0.2",
        "10.0.0.2",
        {"forwarded": "for=203.0.113.1", "x-forwarded-for": "192.168.1.5"},
        LAN,
        "203.0.113.1",
        None,
    ),
    # An unparseable hop stops the walk: the client is unknown and never trusted.
    ("10.0.0.2", "10.0.0.2", {"forwarded": "for=unknown"}, LAN, None, None),
    ("10.0.0.2", "10.0.0.2", {"x-forwarded-for": "192.168.1.5, junk"}, LAN, None, None),
    # The proxy without forwarding headers is the client, but marked as proxied.
    ("127.0.0.1", "127.0.0.1", {}, LAN_AND_LOOPBACK, "127.0.0.1", None),
    # Loopback never matches through a proxy, in any form.
    (
        "127.0.0.1",
        "127.0.0.1",
        {"x-forwarded-for": "127.0.0.1"},
        LAN_AND_LOOPBACK,
        "127.0.0.1",
        None,
    ),
    (
        "127.0.0.1",
        "127.0.0.1",
        {"x-forwarded-for": "::ffff:127.0.0.1"},
        LAN_AND_LOOPBACK,
        "127.0.0.1",
        None,
    ),
    ("127.0.0.1", "::1", {"x-forwarded-for": "::1"}, LAN_AND_LOOPBACK, "::1", None),
    # A configured proxy given as an IPv4-mapped peer is still recognised.
    (
        "127.0.0.1",
        "::ffff:127.0.0.1",
        {"x-forwarded-for": "192.168.1.9"},
        LAN,
        "192.168.1.9",
        "kiosk",
    ),
]


@pytest.mark.parametrize(
    ("proxies", "peer", "headers", "networks", "expected_ip", "expected_user"), TABLE
)
def test_peer_and_settings_table(
    proxies: str,
    peer: str,
    headers: dict[str, str],
    networks: tuple[TrustedNetwork, ...],
    expected_ip: str | None,
    expected_user: str | None,
) -> None:
    client = ClientAddressResolver(proxies).resolve(peer, headers)
    assert (str(client.ip) if client.ip else None) == expected_ip
    match = match_trusted_network(client, networks)
    assert (match.username if match else None) == expected_user


def test_unparseable_peer_is_unknown() -> None:
    client = ClientAddressResolver("").resolve(None, {"x-forwarded-for": "192.168.1.5"})
    assert client.ip is None
    assert str(client) == "unknown"
    assert match_trusted_network(client, LAN) is None


def test_trusted_networks_from_json() -> None:
    parsed = trusted_networks_from_json(
        [
            {"cidr": "192.168.1.0/24", "username": "kiosk"},
            {"cidr": "10.1.1.1", "username": "admin", "allowAdmin": True},
        ]
    )
    assert [entry.to_json() for entry in parsed] == [
        {"cidr": "192.168.1.0/24", "username": "kiosk", "allowAdmin": False},
        {"cidr": "10.1.1.1/32", "username": "admin", "allowAdmin": True},
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"cidr": "1.2.3.4"}, "must be a list"),
        (["1.2.3.4"], "#1 must be an object"),
        ([{"cidr": "1.2.3.4"}], "needs a string 'cidr' and a string 'username'"),
        ([{"cidr": "1.2.3.4", "username": " "}], "names no user"),
        ([{"cidr": "1.2.3.4", "username": "a", "allowAdmin": "yes"}], "must be a boolean"),
        ([{"cidr": "1.2.3.400", "username": "a"}], "invalid address or CIDR"),
    ],
)
def test_trusted_networks_from_json_errors(items: object, message: str) -> None:
    with pytest.raises(NetworkSpecError, match=message):
        trusted_networks_from_json(items)
