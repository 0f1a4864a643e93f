"""Both sides of the namespace discovery tests, run as ``python -m tests.discovery_peer``.

``lan ADDRESS`` plays the LAN: a fake Hubitat hub and a fake MediaMTX, advertised over
mDNS, and a DNS-SD browser that reports the appliance when it appears. ``appliance ADDRESS``
runs our ``Discovery`` service and reports its candidates. Every zeroconf instance is bound
to the one namespace address given. Each side writes JSON lines to stdout and stops when
its stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import sys
import time
from typing import Any

from zeroconf import IPVersion, ServiceInfo, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from tests.discovery_fakes import fake_hubitat, fake_mediamtx
from tiles_edge.discovery.service import Discovery

HUB_PORT = 80
SECOND_HUB_PORT = 8080
MEDIAMTX_PORT = 9997
# Registration probes the name for about a second before the service counts as started.
STARTED_TIMEOUT_S = 30.0


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


async def wait_for_stdin_eof() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


def lan_services(address: str) -> list[ServiceInfo]:
    def info(service_type: str, name: str, port: int, server: str, **txt: str) -> ServiceInfo:
        return ServiceInfo(
            service_type,
            f"{name}.{service_type}",
            port=port,
            properties=txt,
            server=server,
            parsed_addresses=[address],
        )

    return [
        info("_hubitat._tcp.local.", "Hubitat Elevation", HUB_PORT, "hubitat.local."),
        info("_http._tcp.local.", "Garage Hubitat", SECOND_HUB_PORT, "garage-hub.local.", path="/"),
        info("_http._tcp.local.", "Office Printer", 631, "printer.local.", path="/"),
        info("_mediamtx._tcp.local.", "MediaMTX on cams", MEDIAMTX_PORT, "cams.local.", api="/v3"),
        info("_rtsp._tcp.local.", "Cameras", 8554, "cams.local."),
    ]


async def run_lan(address: str, watch_id: str) -> None:
    hubs = [fake_hubitat(address, HUB_PORT), fake_hubitat(address, SECOND_HUB_PORT)]
    mediamtx = fake_mediamtx(address, MEDIAMTX_PORT, version="v1.17.0")
    for server in [*hubs, mediamtx]:
        await server.start()

    zeroconf = AsyncZeroconf(interfaces=[address], ip_version=IPVersion.V4Only)
    for info in lan_services(address):
        await zeroconf.async_register_service(info)

    reported: set[str] = set()

    async def report(service_type: str, name: str, change: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        resolved = await info.async_request(zeroconf.zeroconf, 3000)
        txt = info.decoded_properties if resolved else {}
        if txt.get("id") != watch_id:
            return
        emit(
            "browsed",
            change=change,
            name=name,
            server=info.server,
            port=info.port,
            addresses=info.parsed_addresses(),
            txt=txt,
        )

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            if name in reported:
                emit("removed", name=name)
            return
        if name not in reported or state_change is ServiceStateChange.Updated:
            reported.add(name)
            asyncio.get_running_loop().create_task(report(service_type, name, state_change.name))

    browser = AsyncServiceBrowser(zeroconf.zeroconf, ["_http._tcp.local."], handlers=[on_change])
    emit("ready", address=address)
    await wait_for_stdin_eof()
    await browser.async_cancel()
    await zeroconf.async_close()
    for server in [*hubs, mediamtx]:
        await server.stop()
    emit("stopped")


def hold_mdns_port(shared: bool) -> socket.socket:
    """Bind 0.0.0.0:5353 as another responder would, sharing the port or not."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if shared:
        # avahi-daemon with disallow-other-stacks=no sets both options, as zeroconf does.
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # Runs only inside a test namespace, whose only interfaces are lo and one veth end.
    holder.bind(("0.0.0.0", 5353))
    return holder


async def run_appliance(
    address: str,
    instance_id: str,
    *,
    expect_hubitat: int,
    expect_mediamtx: int,
    expect_sources: int,
    timeout_s: float,
    hold: str,
    all_interfaces: bool,
) -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    holder = hold_mdns_port(hold == "shared") if hold != "none" else None
    discovery = Discovery(
        instance_id=instance_id,
        port=8080,
        hostname="pi-kitchen",
        # Every interface of this namespace: its loopback and its end of the veth pair.
        interfaces=None if all_interfaces else [address],
        local_hosts=(),
        sweep_interval_s=2.0,
        watch_interval_s=2.0,
    )
    await discovery.start()
    await asyncio.wait_for(discovery.started.wait(), STARTED_TIMEOUT_S)
    emit("started", status=discovery.status())

    deadline = time.monotonic() + timeout_s
    while discovery.available:
        confirmed = [entry for entry in discovery.table.items() if entry.confirmed]
        hubs = sum(1 for entry in confirmed if entry.kind == "hubitat")
        servers = sum(1 for entry in confirmed if entry.kind == "mediamtx")
        # Sightings of one host by several service types arrive in any order; a test that
        # checks every source waits for all of them.
        sources = sum(len(entry.sources) for entry in confirmed)
        if hubs >= expect_hubitat and servers >= expect_mediamtx and sources >= expect_sources:
            break
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    emit("candidates", candidates=discovery.candidates(), status=discovery.status())

    await wait_for_stdin_eof()
    await discovery.stop()
    if holder is not None:
        holder.close()
    emit("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    lan = sub.add_parser("lan")
    lan.add_argument("address")
    lan.add_argument("--watch-id", required=True)
    appliance = sub.add_parser("appliance")
    appliance.add_argument("address")
    appliance.add_argument("--instance-id", required=True)
    appliance.add_argument("--expect-hubitat", type=int, default=0)
    appliance.add_argument("--expect-mediamtx", type=int, default=0)
    appliance.add_argument("--expect-sources", type=int, default=0)
    appliance.add_argument("--timeout", type=float, default=60.0)
    appliance.add_argument("--all-interfaces", action="store_true")
    appliance.add_argument("--hold-5353", choices=("none", "shared", "exclusive"), default="none")
    arguments = parser.parse_args()
    if arguments.role == "lan":
        asyncio.run(run_lan(arguments.address, arguments.watch_id))
    else:
        asyncio.run(
            run_appliance(
                arguments.address,
                arguments.instance_id,
                expect_hubitat=arguments.expect_hubitat,
                expect_mediamtx=arguments.expect_mediamtx,
                expect_sources=arguments.expect_sources,
                timeout_s=arguments.timeout,
                hold=arguments.hold_5353,
                all_interfaces=arguments.all_interfaces,
            )
        )


if __name__ == "__main__":
    main()
