"""The discovery service: advertise the appliance, browse for hubs and MediaMTX, probe each.

``start`` returns at once and everything runs in one background task, so discovery never
delays start-up. The mDNS sockets cannot be opened when another responder holds port 5353
without sharing it. Then the failure is logged once and ``available`` turns false with the
reason. The port-9997 sweep of known hosts still runs, because it needs no multicast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from zeroconf import IPVersion
from zeroconf.asyncio import AsyncZeroconf

from tiles_edge.discovery.advertise import Advertiser
from tiles_edge.discovery.browse import HUBITAT_HOSTNAME, Browser, Sighting
from tiles_edge.discovery.candidates import CandidateKey, CandidateTable
from tiles_edge.discovery.probes import (
    HUBITAT_HTTP_PORT,
    MEDIAMTX_API_PORT,
    ProbeResult,
    make_probe_client,
    probe_hubitat,
    probe_mediamtx,
)

logger = logging.getLogger(__name__)

# How often known hosts are probed on 9997, hubitat.local is resolved and candidates are
# probed again.
SWEEP_INTERVAL_S = 60.0
# How often the interface addresses are compared with those last announced.
WATCH_INTERVAL_S = 30.0
# A candidate seen again through mDNS is probed again only after this long.
REPROBE_INTERVAL_S = 30.0


def host_of(configured: str) -> str | None:
    """Return the host part of a configured hub host (``http://10.0.0.5:8080/`` → ``10.0.0.5``)."""
    text = configured.strip()
    if not text:
        return None
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname
    except ValueError:
        return None
    return host or None


class Discovery:
    """Zeroconf advertising and browsing plus HTTP probes, as one background service.

    ``interfaces`` restricts every mDNS socket to those IPv4 addresses; ``None`` uses every
    interface and follows interfaces that appear later. ``hub_hosts`` returns the hosts of
    the configured hubs and is read at every sweep, so hubs added at run time are probed for
    MediaMTX too. ``local_hosts`` are this machine's own names for the same sweep, and
    ``mediamtx_port`` is the port the sweep probes. ``mdns=False`` runs the sweep alone.
    """

    def __init__(
        self,
        *,
        instance_id: str,
        port: int,
        https: bool = False,
        hostname: str | None = None,
        interfaces: Sequence[str] | None = None,
        hub_hosts: Callable[[], Iterable[str]] = tuple,
        local_hosts: Sequence[str] = ("127.0.0.1",),
        advertise: bool = True,
        mdns: bool = True,
        mediamtx_port: int = MEDIAMTX_API_PORT,
        sweep_interval_s: float = SWEEP_INTERVAL_S,
        watch_interval_s: float = WATCH_INTERVAL_S,
        reprobe_interval_s: float = REPROBE_INTERVAL_S,
        hubitat_hostname: str = HUBITAT_HOSTNAME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.instance_id = instance_id
        self._port = port
        self._https = https
        self._hostname = hostname
        self._interfaces = list(interfaces) if interfaces is not None else None
        self._hub_hosts = hub_hosts
        self._local_hosts = tuple(local_hosts)
        self._advertise = advertise
        self._mdns = mdns
        self._mediamtx_port = mediamtx_port
        self._sweep_interval_s = sweep_interval_s
        self._watch_interval_s = watch_interval_s
        self._reprobe_interval_s = reprobe_interval_s
        self._hubitat_hostname = hubitat_hostname
        self._clock = clock

        self.table = CandidateTable(clock=clock)
        self.available = False
        self.reason: str | None = "not started"
        self.started = asyncio.Event()
        """Set once start-up finished, whether or not mDNS became available."""
        self.advertiser: Advertiser | None = None

        self._zeroconf: AsyncZeroconf | None = None
        self._browser: Browser | None = None
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._probes: dict[CandidateKey, asyncio.Task[None]] = {}
        self._probed_at: dict[CandidateKey, float] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        *,
        instance_id: str,
        hub_hosts: Callable[[], Iterable[str]] = tuple,
        https: bool = False,
    ) -> Discovery:
        return cls(instance_id=instance_id, port=settings.port, https=https, hub_hosts=hub_hosts)

    def candidates(self) -> list[dict[str, Any]]:
        return self.table.to_json()

    def status(self) -> dict[str, Any]:
        info = self.advertiser.info if self.advertiser is not None else None
        return {
            "available": self.available,
            "reason": self.reason,
            "advertisedAs": info.name if info is not None else None,
            "hostname": self.advertiser.server if self.advertiser is not None else None,
            "addresses": list(self.advertiser.addresses) if self.advertiser is not None else [],
        }

    async def start(self) -> None:
        """Start the background task and return without waiting for any network."""
        if self._task is not None:
            return
        self._client = make_probe_client()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="discovery")

    async def stop(self) -> None:
        """Send the goodbye packets, close every socket and end every task; idempotent."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        probes = list(self._probes.values())
        for probe in probes:
            probe.cancel()
        await asyncio.gather(*probes, return_exceptions=True)
        self._probes.clear()
        await self._close_mdns()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        self.available = False
        self.reason = "stopped"

    async def _run(self) -> None:
        try:
            if self._mdns:
                await self._open_mdns()
            else:
                self.reason = "mDNS is switched off; only known hosts are probed"
        finally:
            self.started.set()
        watcher = None
        if self.advertiser is not None:
            watcher = asyncio.get_running_loop().create_task(
                self._watch_addresses(), name="discovery address watch"
            )
        try:
            while True:
                await self.sweep()
                await asyncio.sleep(self._sweep_interval_s)
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _open_mdns(self) -> None:
        interfaces: Any = self._interfaces
        try:
            if interfaces is None:
                zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only)
            else:
                zeroconf = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        except (OSError, RuntimeError) as err:
            self.available = False
            self.reason = f"cannot open the mDNS sockets on port 5353: {err}"
            logger.error(
                "discovery is unavailable: %s; another mDNS responder may hold the port "
                "without sharing it (avahi-daemon needs disallow-other-stacks=no)",
                self.reason,
            )
            return
        self._zeroconf = zeroconf
        self.available = True
        self.reason = None

        if self._advertise:
            self.advertiser = Advertiser(
                zeroconf,
                instance_id=self.instance_id,
                port=self._port,
                https=self._https,
                hostname=self._hostname,
                interfaces=self._interfaces,
            )
            try:
                await self.advertiser.register()
            except Exception as err:  # zeroconf raises several unrelated types here
                logger.error("advertising the dashboard over mDNS failed: %s", err)
                self.advertiser = None

        self._browser = Browser(zeroconf, self._on_sighting, own_id=self.instance_id)
        self._browser.start()
        logger.info(
            "discovery started on %s", ", ".join(self._interfaces or []) or "every interface"
        )

    async def _close_mdns(self) -> None:
        browser, self._browser = self._browser, None
        if browser is not None:
            await browser.stop()
        advertiser, self.advertiser = self.advertiser, None
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is None:
            return
        if advertiser is not None:
            with contextlib.suppress(Exception):
                await advertiser.unregister()
        await zeroconf.async_close()

    async def _watch_addresses(self) -> None:
        while True:
            await asyncio.sleep(self._watch_interval_s)
            if self.advertiser is None:
                return
            try:
                await self.advertiser.refresh()
            except Exception as err:  # a failed re-announcement must not end the watch
                logger.warning("re-announcing after an address change failed: %s", err)

    async def sweep(self) -> None:
        """Probe known hosts on 9997, resolve ``hubitat.local`` and re-probe every candidate."""
        hosts: list[str] = []
        for configured in [*self._local_hosts, *self._hub_hosts()]:
            host = host_of(configured)
            if host is not None and host not in hosts:
                hosts.append(host)
        swept = await asyncio.gather(*(self._sweep_host(host) for host in hosts))
        swept_keys = {key for key in swept if key is not None}

        if self._browser is not None:
            try:
                addresses = await self._browser.resolve_hostname(self._hubitat_hostname)
            except Exception as err:  # a resolver failure must not end the sweep
                logger.debug("resolving %s failed: %s", self._hubitat_hostname, err)
                addresses = []
            if addresses:
                self.table.observe(
                    "hubitat",
                    name=self._hubitat_hostname.removesuffix("."),
                    host=addresses[0],
                    port=HUBITAT_HTTP_PORT,
                    source="mdns:" + self._hubitat_hostname.removesuffix("."),
                    addresses=addresses,
                    hostname=self._hubitat_hostname.removesuffix("."),
                )

        for entry in self.table.items():
            if entry.key not in swept_keys:
                self._schedule_probe(entry.key, force=True)
        if self._probes:
            await asyncio.gather(*list(self._probes.values()), return_exceptions=True)

    async def _sweep_host(self, host: str) -> CandidateKey | None:
        """Probe ``host`` on the MediaMTX port and list it only if the probe confirms it.

        Unlike an mDNS announcement, a swept host is a guess, so a failed probe adds nothing.
        A host listed earlier keeps its entry and shows the new probe result.
        """
        client = self._client
        if client is None:
            return None
        result = await probe_mediamtx(client, host, self._mediamtx_port)
        key: CandidateKey = ("mediamtx", host.lower(), self._mediamtx_port)
        if not result.confirmed and self.table.get(key) is None:
            return None
        source = "probe:local" if host in self._local_hosts else "probe:hub-host"
        self.table.observe(
            "mediamtx", name=host, host=host, port=self._mediamtx_port, source=source
        )
        self.table.confirm(key, result.confirmed, result.detail)
        self._probed_at[key] = self._clock()
        return key

    def _on_sighting(self, sighting: Sighting) -> None:
        entry = self.table.observe(
            sighting.kind,
            name=sighting.name,
            host=sighting.host,
            port=sighting.port,
            source=sighting.source,
            addresses=sighting.addresses,
            hostname=sighting.hostname,
        )
        self._schedule_probe(entry.key, force=False)

    def _schedule_probe(self, key: CandidateKey, *, force: bool) -> None:
        if key in self._probes or self._client is None:
            return
        last = self._probed_at.get(key)
        if not force and last is not None and self._clock() - last < self._reprobe_interval_s:
            return
        self._probed_at[key] = self._clock()
        task = asyncio.get_running_loop().create_task(
            self._probe(key), name=f"discovery probe {key[0]} {key[1]}:{key[2]}"
        )
        self._probes[key] = task
        task.add_done_callback(lambda _: self._probes.pop(key, None))

    async def _probe(self, key: CandidateKey) -> None:
        entry = self.table.get(key)
        client = self._client
        if entry is None or client is None:
            return
        result: ProbeResult
        if entry.kind == "hubitat":
            result = await probe_hubitat(client, entry.host, entry.port)
        else:
            result = await probe_mediamtx(client, entry.host, entry.port)
        self.table.confirm(key, result.confirmed, result.detail)
