"""Access control of the real app on Hypercorn: every route, every kind of principal.

The route walk reads the route table of the app that ``create_app`` builds, so a route
added anywhere without a row in ``EXPECTED_ROLES`` fails ``test_real_app_routes_have_rows``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from apphelpers import ADMIN_PASSWORD, ADMIN_USERNAME, Demo, running_demo, sign_in
from starlette.routing import Match, Route
from test_auth_routes import CATCH_ALL, EXPECTED_ROLES, route_rows

from tiles_edge.auth.middleware import CONTENT_SECURITY_POLICY
from tiles_edge.auth.networks import TrustedNetwork
from tiles_edge.auth.security_settings import SecuritySettings
from tiles_edge.auth.tokens import hash_token, new_api_token

pytestmark = pytest.mark.asyncio(loop_scope="module")

WHO = ("anonymous", "user", "admin", "user_bearer", "admin_bearer", "trusted")
ADMINS = {"admin", "admin_bearer"}
# Error codes with which the middleware denies a request; handlers never use them.
DENIAL_CODES = {"not_signed_in", "admin_only", "forbidden"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# An id no record has, so admin requests on /{id} paths change nothing.
NO_SUCH_ID = "999999"


def concrete(template: str) -> str:
    if template == "/":
        return "/index.html"
    if template == CATCH_ALL:
        return "/api/no/such/route"
    parts = []
    for part in template.split("/"):
        if part.startswith("{") and part.endswith("}"):
            part = NO_SUCH_ID if part == "{id}" else "nothing-here"
        parts.append(part)
    return "/".join(parts)


class Principals:
    """One client per kind of principal, each sending a same-origin ``Origin``."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.clients: dict[str, httpx.AsyncClient] = {}

    async def open(self) -> None:
        storage = self.demo.services.storage
        await self.demo.add_user("walker")
        kiosk_id = await self.demo.add_user("kiosk")
        await storage.update_user(kiosk_id, auth_enabled=False)
        auth = self.demo.app.state.auth
        await auth.update_security(
            SecuritySettings(trusted_networks=(TrustedNetwork.parse("127.0.0.1/32", "kiosk"),))
        )
        for who in WHO:
            self.clients[who] = self.demo.anonymous_client()
        for who, username in (("user_bearer", "walker"), ("admin_bearer", ADMIN_USERNAME)):
            record = await storage.get_user_by_username(username)
            token = new_api_token()
            await storage.create_api_token(
                user_id=record.id, name=who, token_hash=hash_token(token)
            )
            self.clients[who].headers["authorization"] = f"Bearer {token}"
        for who in ("user", "admin", "trusted"):
            await self.sign_in(who)

    async def sign_in(self, who: str) -> None:
        client = self.clients[who]
        if who == "user":
            await sign_in(client, "walker", "user password 12")
        elif who == "admin":
            await sign_in(client, ADMIN_USERNAME, ADMIN_PASSWORD)
        elif who == "trusted":
            reply = await client.post("/api/auth/login", json={"trusted": True})
            assert reply.status_code == 200, reply.text
            assert reply.json()["user"]["username"] == "kiosk"

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def walk(tmp_path_factory) -> AsyncIterator[tuple[Demo, Principals]]:
    async with running_demo(tmp_path_factory.mktemp("access"), hubs=("main",)) as demo:
        principals = Principals(demo)
        await principals.open()
        try:
            yield demo, principals
        finally:
            await principals.close()


def real_rows(demo: Demo) -> list[tuple[str, str, str | None]]:
    return route_rows(list(demo.app.router.routes))


async def send(client: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    """Send one request and read its head; streams are closed without reading them."""
    body = {"json": {}} if method in UNSAFE else {}
    request = client.build_request(method, path, **body)
    response = await client.send(request, stream=True)
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        await response.aclose()
    else:
        await response.aread()
        await response.aclose()
    return response


def served_by_get(demo: Demo, path: str) -> bool:
    """Tell whether a GET route other than the catch-all fully matches ``path``."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    for route in demo.app.router.routes:
        if isinstance(route, Route) and route.path != CATCH_ALL:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return True
    return False


def denial_code(response: httpx.Response) -> str | None:
    if response.status_code not in (401, 403):
        return None
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None


def assert_security_headers(response: httpx.Response, label: str) -> None:
    headers = response.headers
    assert headers.get("content-security-policy") == CONTENT_SECURITY_POLICY, label
    assert "frame-ancestors 'none'" in headers["content-security-policy"], label
    assert headers.get("x-content-type-options") == "nosniff", label
    assert headers.get("referrer-policy") == "same-origin", label
    content_type = headers.get("content-type", "")
    if content_type.startswith(("text/", "application/javascript")):
        assert "charset=" in content_type.lower(), label


async def test_real_app_routes_have_rows(walk):
    demo, _ = walk
    rows = real_rows(demo)
    missing = [(path, method) for path, method, _ in rows if (path, method) not in EXPECTED_ROLES]
    assert missing == [], "routes of the real app without a row in EXPECTED_ROLES"
    for path, method, role in rows:
        assert role == EXPECTED_ROLES[(path, method)], f"{method} {path} declares {role}"
    paths = {path for path, _, _ in rows}
    assert {"/", "/api/events/stream", "/health", "/api/auth/login", CATCH_ALL} <= paths


async def test_every_route_for_every_principal(walk):
    demo, principals = walk
    checked = 0
    for path, method, role in real_rows(demo):
        methods = ["GET", "POST"] if method == "*" else [method]
        for request_method in methods:
            for who in WHO:
                label = f"{who} {request_method} {path}"
                response = await send(principals.clients[who], request_method, concrete(path))
                assert response.status_code < 500, label
                assert_security_headers(response, label)
                allowed = (
                    role == "anonymous"
                    or (role == "user" and who != "anonymous")
                    or (role == "admin" and who in ADMINS)
                )
                code = denial_code(response)
                if allowed:
                    assert code not in DENIAL_CODES, f"{label}: {response.status_code} {code}"
                else:
                    expected = 401 if who == "anonymous" else 403
                    assert response.status_code == expected, label
                    assert code in DENIAL_CODES, label
                if path == "/api/auth/logout" and who in ("user", "admin", "trusted"):
                    await principals.sign_in(who)
                checked += 1
    assert checked >= len(EXPECTED_ROLES) * len(WHO)
    # The walk changed no account: every principal is still signed in.
    for who in WHO[1:]:
        session = await principals.clients[who].get("/api/auth/session")
        assert session.json()["user"] is not None, who


async def test_anonymous_reaches_only_public_doors(walk):
    demo, principals = walk
    anonymous = principals.clients["anonymous"]
    assert (await anonymous.get("/health")).status_code == 200
    page = await anonymous.get("/")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    for path in ("/api/devices", "/api/status", "/api/hubs", "/api/events/stream"):
        assert (await anonymous.get(path)).status_code == 401, path
    webhook = await anonymous.post(await demo.webhook_url("main"), json={"content": {}})
    assert webhook.status_code not in (401, 403)


async def test_get_on_every_mutating_path_is_405(walk):
    demo, principals = walk
    rows = real_rows(demo)
    readable = {path for path, method, _ in rows if method in ("GET", "*")}
    mutating = sorted({path for path, method, _ in rows if method in UNSAFE} - readable)
    # A mutating path that a GET route also matches (migrate is a category name) is read.
    mutating = [path for path in mutating if not served_by_get(demo, concrete(path))]
    assert "/api/auth/logout" in mutating
    assert "/api/device/{uid}/command" in mutating
    for path in mutating:
        for who in ("anonymous", "admin"):
            for method in ("GET", "HEAD"):
                reply = await principals.clients[who].request(method, concrete(path))
                assert reply.status_code == 405, f"{who} {method} {path}"
                assert "allow" in reply.headers, path
                assert "GET" not in reply.headers["allow"].split(", "), path
    # GET /api/auth/logout did not end the admin's session.
    session = await principals.clients["admin"].get("/api/auth/session")
    assert session.json()["user"]["username"] == ADMIN_USERNAME


async def read_to_end(response: httpx.Response) -> bytes:
    return b"".join([chunk async for chunk in response.aiter_bytes()])


async def test_logout_and_disable_end_streams_of_real_app(tmp_path):
    async with running_demo(tmp_path, hubs=()) as demo:
        bus = demo.services.bus
        user_id = await demo.add_user("streamer")
        async with (
            demo.signed_in_client("streamer") as first,
            demo.signed_in_client("streamer") as second,
        ):
            async with first.stream("GET", "/api/events/stream") as stream:
                assert stream.status_code == 200
                reading = asyncio.ensure_future(read_to_end(stream))
                assert (await first.post("/api/auth/logout")).status_code == 200
                await asyncio.wait_for(reading, 30)
            async with second.stream("GET", "/api/events/stream") as stream:
                assert stream.status_code == 200
                reading = asyncio.ensure_future(read_to_end(stream))
                reply = await demo.client.patch(
                    f"/api/auth/users/{user_id}", json={"active": False}
                )
                assert reply.status_code == 200
                await asyncio.wait_for(reading, 30)
            assert (await second.get("/api/events/stream")).status_code == 401
        assert bus.subscriber_count == 0
