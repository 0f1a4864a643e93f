"""Two network namespaces joined by a veth pair, for tests that need real multicast.

    with namespace_pair() as pair:
        subprocess.run(pair.command_in(pair.a, ["python", "-c", "..."]))

Namespace A has ``10.231.0.1/24`` and namespace B ``10.231.0.2/24``. These addresses exist
only inside the two namespaces, which have no route to the host or any other network, so
mDNS packets sent there never reach a real interface. Both namespaces are deleted on exit,
also when the test fails, which removes the veth pair with them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

ADDRESS_A = "10.231.0.1"
ADDRESS_B = "10.231.0.2"
PREFIX_LENGTH = 24


def unavailable_reason() -> str | None:
    """Return why namespaces cannot be made here, or ``None`` when they can."""
    if os.geteuid() != 0:
        return "network namespace tests need root (CI runs as root)"
    if shutil.which("ip") is None:
        return "network namespace tests need the ip command (apt-get install iproute2)"
    probe = f"tiles-probe-{secrets.token_hex(3)}"
    created = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if created.returncode != 0:
        return f"ip netns add failed here: {created.stderr.strip() or created.returncode}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


@dataclass(frozen=True)
class NamespacePair:
    a: str
    b: str
    veth_a: str
    veth_b: str
    address_a: str = ADDRESS_A
    address_b: str = ADDRESS_B

    def command_in(self, namespace: str, command: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", namespace, *command]


def ip(*arguments: str) -> None:
    """Run ``ip ARGUMENTS``, raising with its error output when it fails."""
    result = subprocess.run(["ip", *arguments], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(arguments)} failed: {result.stderr.strip()}")


@contextlib.contextmanager
def namespace_pair() -> Iterator[NamespacePair]:
    """Create namespaces A and B joined by a veth pair; delete both on exit."""
    suffix = secrets.token_hex(3)
    # Interface names are limited to 15 characters.
    veth_a, veth_b = f"tva{suffix}", f"tvb{suffix}"
    pair = NamespacePair(a=f"tiles-a-{suffix}", b=f"tiles-b-{suffix}", veth_a=veth_a, veth_b=veth_b)
    created: list[str] = []
    try:
        for namespace in (pair.a, pair.b):
            ip("netns", "add", namespace)
            created.append(namespace)
        # Both ends are created inside A and one is moved to B, so neither end ever exists
        # in the host's namespace.
        ip("-n", pair.a, "link", "add", veth_a, "type", "veth", "peer", "name", veth_b)
        ip("-n", pair.a, "link", "set", veth_b, "netns", pair.b)
        for namespace, veth, address in (
            (pair.a, veth_a, pair.address_a),
            (pair.b, veth_b, pair.address_b),
        ):
            ip("-n", namespace, "addr", "add", f"{address}/{PREFIX_LENGTH}", "dev", veth)
            ip("-n", namespace, "link", "set", veth, "up")
            ip("-n", namespace, "link", "set", "lo", "up")
        yield pair
    finally:
        for namespace in reversed(created):
            _delete(namespace)


def _delete(namespace: str) -> None:
    """Delete ``namespace`` after ending any process still inside it (all started by tests)."""
    pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True)
    for pid in pids.stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    result = subprocess.run(["ip", "netns", "del", namespace], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"ip netns del {namespace} failed: {result.stderr.strip()}")
