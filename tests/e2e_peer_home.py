"""Both sides of the end-to-end discovery test, run as ``python -m tests.e2e_peer_home``.

``lan ADDRESS`` plays the home network: the two simulated hubs of the demo home and a fake
MediaMTX, each advertised over mDNS, and a DNS-SD browser that reports every
``MOBIUS.TILES on …`` service it resolves. ``admin BASE_URL`` plays the admin's browser
against a fresh install: it creates the admin, signs in, waits for the discovered hubs and
MediaMTX, adds each hub with its token (over the API, or with ``--browser`` through "Add" on
Settings → Hubs in Chromium) and waits for the devices. Every zeroconf instance is
bound to the one namespace address given. Each side writes JSON lines to stdout; ``lan``
stops when its stdin closes, ``admin`` when it is done.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx
from zeroconf import IPVersion, ServiceInfo, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from tests.discovery_fakes import fake_mediamtx
from tiles_edge.simulator.hub import SimulatedHub

MAIN_PORT = 80
GARAGE_PORT = 8080
MEDIAMTX_PORT = 9997
# A port of the home address that nothing listens on.
CLOSED_PORT = 81
APPLIANCE_PREFIX = "MOBIUS.TILES on "
# Bound on each wait of the admin side; each normally ends within a few seconds.
WAIT_S = 40.0
POLL_S = 0.2
BROWSER_WAIT_MS = 20_000
HUB_NAMES = {"main": "Main Hub", "garage": "Garage Hub"}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


async def wait_for_stdin_eof() -> None:
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


# The home network.


def home_services(address: str) -> list[ServiceInfo]:
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
        info("_hubitat._tcp.local.", "Main Hub", MAIN_PORT, "hubitat.local."),
        info("_hubitat._tcp.local.", "Garage Hub", GARAGE_PORT, "garage-hub.local."),
        info("_mediamtx._tcp.local.", "MediaMTX on cams", MEDIAMTX_PORT, "cams.local.", api="/v3"),
    ]


async def run_lan(address: str, hubs: dict[str, tuple[str, str]]) -> None:
    """Serve and advertise the home. ``hubs`` maps ``main`` and ``garage`` to (app id, token)."""
    simulated = {
        hub_id: SimulatedHub.from_demo(hub_id, app_id=app_id, token=token)
        for hub_id, (app_id, token) in hubs.items()
    }
    await simulated["main"].start(address, MAIN_PORT)
    await simulated["garage"].start(address, GARAGE_PORT)
    mediamtx = fake_mediamtx(address, MEDIAMTX_PORT, version="v1.17.0")
    await mediamtx.start()

    zeroconf = AsyncZeroconf(interfaces=[address], ip_version=IPVersion.V4Only)
    for service in home_services(address):
        await zeroconf.async_register_service(service)

    async def report(service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        resolved = await info.async_request(zeroconf.zeroconf, 3000)
        emit(
            "browsed",
            resolved=bool(resolved),
            name=name,
            server=info.server,
            port=info.port,
            addresses=info.parsed_addresses(),
            txt=info.decoded_properties if resolved else {},
        )

    tasks: set[asyncio.Task[None]] = set()

    def on_change(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if not name.startswith(APPLIANCE_PREFIX) or state_change is ServiceStateChange.Removed:
            return
        task = asyncio.get_running_loop().create_task(report(service_type, name))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    browser = AsyncServiceBrowser(zeroconf.zeroconf, ["_http._tcp.local."], handlers=[on_change])
    emit("ready", address=address)
    await wait_for_stdin_eof()
    await browser.async_cancel()
    for task in list(tasks):
        task.cancel()
    await zeroconf.async_close()
    await mediamtx.stop()
    for hub in simulated.values():
        await hub.stop()
    emit("stopped", requests={hub_id: hub.request_log for hub_id, hub in simulated.items()})


# The admin's browser.


def hub_id_of(port: int) -> str:
    return "main" if port == MAIN_PORT else "garage"


async def add_hubs_in_browser(
    base: str,
    username: str,
    password: str,
    candidates: list[dict[str, Any]],
    hubs: dict[int, tuple[str, str]],
) -> None:
    """Add each candidate with "Add" on Settings → Hubs in Chromium, as an admin would."""
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            context = await chromium.new_context()
            reply = await context.request.post(
                base + "/api/auth/login",
                data={"username": username, "password": password},
                headers={"origin": base},
            )
            emit("browser_signed_in", status=reply.status)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(base + "/#/settings/hubs")
            rows = page.locator(".candidate-list li")
            await expect(rows).to_have_count(len(candidates), timeout=BROWSER_WAIT_MS)
            emit("browser_candidates", rows=await rows.all_inner_texts())
            for candidate in candidates:
                hub_id = hub_id_of(candidate["port"])
                app_id, token = hubs[candidate["port"]]
                shown = candidate["host"]
                if candidate["port"] != MAIN_PORT:
                    shown = f"{shown}:{candidate['port']}"
                row = rows.filter(has=page.get_by_text(shown, exact=True))
                await row.get_by_role("button", name="Add").click()
                form = page.locator("form.hub-form")
                host = await form.locator("[name=host]").input_value()
                await form.locator("[name=hubId]").fill(hub_id)
                await form.locator("[name=name]").fill(HUB_NAMES[hub_id])
                await form.locator("[name=appId]").fill(app_id)
                await form.locator("[name=token]").fill(token)
                await form.get_by_role("button", name="Save").click()
                state = page.locator(f".hub-row[data-hub-id={hub_id}] .hub-state")
                await expect(state).to_have_text("online", timeout=BROWSER_WAIT_MS)
                emit("hub_added", hub_id=hub_id, prefilled_host=host, candidate=candidate)
            emit("browser_errors", errors=errors)
        finally:
            await chromium.close()


async def poll(
    client: httpx.AsyncClient, path: str, accept: Callable[[Any], bool]
) -> tuple[bool, Any]:
    """Poll ``path`` until ``accept`` takes its JSON or ``WAIT_S`` ends; return the last body."""
    deadline = time.monotonic() + WAIT_S
    body: Any = None
    while True:
        try:
            reply = await client.get(path)
            body = reply.json()
            if reply.status_code == 200 and isinstance(body, dict) and accept(body):
                return True, body
        except (httpx.HTTPError, ValueError) as err:
            body = {"error": repr(err)}
        if time.monotonic() > deadline:
            return False, body
        await asyncio.sleep(POLL_S)


def confirmed(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in body.get("candidates", []) if c["kind"] == kind and c["confirmed"]]


async def read_stream(client: httpx.AsyncClient, events: list[dict[str, Any]]) -> None:
    """Collect the server-sent events of ``/api/events/stream`` (event name and data)."""
    async with client.stream("GET", "/api/events/stream", timeout=None) as stream:
        events.append({"event": "open", "status": stream.status_code})
        name = "message"
        async for line in stream.aiter_lines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                with contextlib.suppress(ValueError):
                    events.append({"event": name, "data": json.loads(line[5:])})
            elif line == "":
                name = "message"


async def run_admin(
    base: str,
    username: str,
    password: str,
    hubs: dict[int, tuple[str, str]],
    *,
    browser: bool,
) -> None:
    """Set up and drive a fresh install. ``hubs`` maps a hub's port to (app id, token)."""

    def client() -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base, headers={"origin": base}, timeout=10.0, trust_env=False
        )

    async with client() as anonymous:
        up, health = await poll(anonymous, "/health", lambda _: True)
        emit("health", up=up, body=health)
        if not up:
            return
        setup = await anonymous.post(
            "/api/auth/setup", json={"username": username, "password": password}
        )
        emit("setup", status=setup.status_code)

    async with client() as admin:
        login = await admin.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        emit("signed_in", status=login.status_code, body=login.json())
        if login.status_code != 200:
            return

        before = (await admin.get("/api/devices")).json()
        emit("devices_before", count=len(before["devices"]))

        events: list[dict[str, Any]] = []
        stream = asyncio.get_running_loop().create_task(read_stream(admin, events))

        found, discovery = await poll(
            admin,
            "/api/discovery",
            lambda body: (
                len(confirmed(body, "hubitat")) >= 2 and len(confirmed(body, "mediamtx")) >= 1
            ),
        )
        emit("discovery", found=found, body=discovery)
        if not found:
            stream.cancel()
            return

        hub_candidates = sorted(confirmed(discovery, "hubitat"), key=lambda c: c["port"])
        # A wrong token, a wrong app id and a port nothing listens on, against the first hub.
        first = hub_candidates[0]
        app_id, token = hubs[first["port"]]
        wrong = {
            "token": {"host": first["host"], "appId": app_id, "token": "not-the-token-0000"},
            "app_id": {"host": first["host"], "appId": "9999", "token": token},
            "host": {"host": f"{first['host']}:{CLOSED_PORT}", "appId": app_id, "token": token},
        }
        for mistake, body in wrong.items():
            check = await admin.post("/api/hub-config/test", json=body)
            emit("wrong_test", mistake=mistake, status=check.status_code, body=check.json())

        if browser:
            await add_hubs_in_browser(base, username, password, hub_candidates, hubs)
        else:
            for candidate in hub_candidates:
                app_id, token = hubs[candidate["port"]]
                host = candidate["host"]
                if candidate["port"] != MAIN_PORT:
                    host = f"{host}:{candidate['port']}"
                check = await admin.post(
                    "/api/hub-config/test", json={"host": host, "appId": app_id, "token": token}
                )
                hub_id = hub_id_of(candidate["port"])
                saved = await admin.post(
                    "/api/hub-config",
                    json={
                        "hubId": hub_id,
                        "name": HUB_NAMES[hub_id],
                        "host": host,
                        "appId": app_id,
                        "token": token,
                    },
                )
                emit(
                    "hub_added",
                    candidate=candidate,
                    test_status=check.status_code,
                    test=check.json(),
                    status=saved.status_code,
                    body=saved.json(),
                )

        grown, devices = await poll(admin, "/api/devices", lambda body: len(body["devices"]) >= 56)
        emit(
            "devices",
            grown=grown,
            count=len(devices.get("devices", [])),
            uids=sorted(device["uid"] for device in devices.get("devices", [])),
        )
        online, states = await poll(
            admin,
            "/api/hubs",
            lambda body: (
                len(body["hubs"]) == 2 and all(hub["state"] == "online" for hub in body["hubs"])
            ),
        )
        emit("hubs", online=online, body=states)
        stream.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await stream
        emit("stream", events=events)
    emit("done")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    lan = sub.add_parser("lan")
    lan.add_argument("address")
    admin = sub.add_parser("admin")
    admin.add_argument("base")
    admin.add_argument("--username", required=True)
    admin.add_argument("--browser", action="store_true", help="add the hubs in Chromium")
    for role in (lan, admin):
        for hub_id in ("main", "garage"):
            role.add_argument(f"--{hub_id}-app-id", required=True)
    arguments = parser.parse_args()
    # Tokens and the password come on stdin, so they never appear in a process listing.
    secrets: dict[str, str] = json.loads(sys.stdin.readline())
    main_hub = (arguments.main_app_id, secrets["main"])
    garage_hub = (arguments.garage_app_id, secrets["garage"])
    if arguments.role == "lan":
        asyncio.run(run_lan(arguments.address, {"main": main_hub, "garage": garage_hub}))
    else:
        asyncio.run(
            run_admin(
                arguments.base,
                arguments.username,
                secrets["password"],
                {MAIN_PORT: main_hub, GARAGE_PORT: garage_hub},
                browser=arguments.browser,
            )
        )


if __name__ == "__main__":
    main()
