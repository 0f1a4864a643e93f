"""Sign-in screen in Chromium: nothing of the dashboard before sign-in, wrong passwords,
throttling with its countdown, first-run setup, trusted networks and sign-out."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, Request, expect

from tests.apphelpers import ADMIN_PASSWORD, ADMIN_USERNAME, running_demo, wait_until
from tests.browser.conftest import WAIT_MS, PageErrors, tile
from tiles_edge.auth.throttle import LoginThrottle

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

# Returns the HTTP status of a same-origin fetch made by the page itself.
FETCH_STATUS = """
async ([method, path]) => {
  const response = await fetch(path, {
    method,
    headers: method === 'GET' ? {} : { 'Content-Type': 'application/json' },
    body: method === 'GET' ? undefined : '{}',
  });
  return response.status;
}
"""


async def open_sign_in(context: BrowserContext, url: str, errors: PageErrors) -> Page:
    page = errors.watch(await context.new_page())
    await page.goto(url + "/")
    await expect(page.locator("#auth-screen")).to_be_visible(timeout=WAIT_MS)
    return page


async def submit_form(page: Page, username: str, password: str, confirm: str | None = None) -> None:
    await page.fill("#auth-username", username)
    await page.fill("#auth-password", password)
    if confirm is not None:
        await page.fill("#auth-confirm", confirm)
    await page.click(".auth-submit")


def api_errors_only(errors: PageErrors) -> list[str]:
    """Page errors other than the browser's notes about 4xx replies."""
    return [error for error in errors.errors if "status of 4" not in error]


async def test_sign_in_shows_dashboard_after_login(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        requests: list[str] = []
        context.on("request", lambda request: requests.append(request.url))
        page = await open_sign_in(context, demo.url, page_errors)

        await expect(page.locator("#auth-title")).to_have_text("Sign in")
        await expect(page.locator(".topbar")).to_be_hidden()
        assert not any("/api/devices" in url or "/api/events" in url for url in requests)
        assert await page.locator("[data-uid]").count() == 0

        await submit_form(page, ADMIN_USERNAME, ADMIN_PASSWORD)
        await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
        await expect(page.locator("#auth-screen")).to_be_hidden()
        await expect(page.locator(".topbar")).to_be_visible()
        await expect(page.locator("#account-button")).to_contain_text(ADMIN_USERNAME)
        login_index = next(i for i, url in enumerate(requests) if url.endswith("/api/auth/login"))
        devices_index = next(i for i, url in enumerate(requests) if url.endswith("/api/devices"))
        assert devices_index > login_index
        assert await page.evaluate("document.documentElement.dataset.role") == "admin"
        assert api_errors_only(page_errors) == []


async def test_wrong_password_keeps_sign_in_screen(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_sign_in(context, demo.url, page_errors)
        message = page.locator(".auth-message")

        await submit_form(page, ADMIN_USERNAME, "not the password")
        await expect(message).to_have_text("Wrong username or password.", timeout=WAIT_MS)
        await submit_form(page, "nobody-here", "not the password")
        await expect(message).to_have_text("Wrong username or password.", timeout=WAIT_MS)

        assert await page.locator("#auth-screen").is_visible()
        assert await page.evaluate("document.documentElement.dataset.auth") == "signed-out"
        assert await page.evaluate(FETCH_STATUS, ["GET", "/api/devices"]) == 401
        assert api_errors_only(page_errors) == []


async def test_throttled_sign_in_counts_down(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        demo.app.state.auth.throttle = LoginThrottle(free_attempts=2, base_delay_s=60)
        page = await open_sign_in(context, demo.url, page_errors)
        message = page.locator(".auth-message")
        submit = page.locator(".auth-submit")

        await submit_form(page, ADMIN_USERNAME, "wrong password 1")
        await expect(message).to_have_text("Wrong username or password.", timeout=WAIT_MS)
        await submit_form(page, ADMIN_USERNAME, "wrong password 2")
        await expect(message).to_have_text("Wrong username or password.", timeout=WAIT_MS)
        # The third failure starts the 60 s wait, stated by the 401's Retry-After.
        await submit_form(page, ADMIN_USERNAME, "wrong password 3")
        await expect(page.locator(".auth-countdown")).to_be_visible(timeout=WAIT_MS)
        await expect(submit).to_be_disabled()

        # A fresh page knows nothing of the wait: the server answers 429, even to the right
        # password, and the page shows the wait and counts it down.
        await page.reload()
        await submit_form(page, ADMIN_USERNAME, ADMIN_PASSWORD)
        await expect(message).to_contain_text("Too many failed sign-ins", timeout=WAIT_MS)
        countdown = page.locator(".auth-countdown")
        await expect(countdown).to_be_visible()
        first = int(await countdown.get_attribute("data-seconds") or "0")
        assert 55 <= first <= 60
        await expect(submit).to_be_disabled()
        await page.wait_for_function(
            "(first) => Number(document.querySelector('.auth-countdown').dataset.seconds) < first",
            arg=first,
            timeout=WAIT_MS,
        )
        assert await page.evaluate("document.documentElement.dataset.auth") == "signed-out"
        assert api_errors_only(page_errors) == []


async def test_first_run_creates_admin(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path, signed_in=False) as demo:
        page = await open_sign_in(context, demo.url, page_errors)
        await expect(page.locator("#auth-title")).to_have_text("Create the admin account")
        await expect(page.locator("#auth-confirm")).to_be_visible()

        await submit_form(page, "owner", "short", "short")
        await expect(page.locator(".auth-message")).to_contain_text("at least 10 characters")
        await submit_form(page, "owner", "first admin pass", "first admin typo")
        await expect(page.locator(".auth-message")).to_have_text("The two passwords differ.")
        await submit_form(page, "owner", "first admin pass", "first admin pass")

        await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
        await expect(page.locator("#account-button")).to_contain_text("owner")
        users = await demo.services.storage.list_users()
        assert [(user.username, user.role) for user in users] == [("owner", "admin")]

        # A second browser now gets the sign-in form, not the setup form.
        other = await context.browser.new_context()  # type: ignore[union-attr]
        try:
            second = await open_sign_in(other, demo.url, page_errors)
            await expect(second.locator("#auth-title")).to_have_text("Sign in")
        finally:
            await other.close()
        assert api_errors_only(page_errors) == []


async def test_sign_out_ends_live_stream(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        streams: list[Request] = []
        ended: list[Request] = []
        context.on(
            "request", lambda r: streams.append(r) if "/api/events/stream" in r.url else None
        )
        context.on("requestfailed", lambda r: ended.append(r) if r in streams else None)
        context.on("requestfinished", lambda r: ended.append(r) if r in streams else None)
        page = await open_sign_in(context, demo.url, page_errors)
        await page.evaluate("location.hash = '#/section/sensors'")
        await submit_form(page, ADMIN_USERNAME, ADMIN_PASSWORD)
        await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
        bus = demo.services.bus
        await wait_until(lambda: bus.subscriber_count == 1, what="the page's stream")

        front = tile(page, "main:131")
        demo.sims["main"].set_attribute("131", "contact", "open")
        await expect(front.locator(".big-value")).to_have_text("Open", timeout=WAIT_MS)

        await page.click("#account-button")
        await page.click(".account-sign-out")
        await expect(page.locator("#auth-screen")).to_be_visible(timeout=WAIT_MS)
        await expect(page.locator(".auth-message")).to_have_text("You signed out.")
        assert await page.evaluate("document.documentElement.dataset.stream") == "closed"
        await wait_until(lambda: bus.subscriber_count == 0, what="the stream to close")
        await wait_until(lambda: len(ended) == len(streams), what="the stream request to end")

        stream_count = len(streams)
        last_id = bus.last_id
        demo.sims["main"].set_attribute("131", "contact", "closed")
        await wait_until(lambda: bus.last_id > last_id, what="the device event on the bus")
        assert len(streams) == stream_count
        assert await page.locator("[data-uid]").count() == 0
        assert await page.evaluate("localStorage.getItem('tiles.devices.v1')") is None
        assert await page.evaluate(FETCH_STATUS, ["GET", "/api/events/stream"]) == 401
        cookies = [cookie["name"] for cookie in await context.cookies()]
        assert not [name for name in cookies if name.endswith("tiles_session")]
        assert api_errors_only(page_errors) == []


async def test_trusted_network_shows_notice(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await demo.add_user("kiosk")
        reply = await demo.client.patch(
            "/api/auth/settings",
            json={"trustedNetworks": [{"cidr": "127.0.0.1/32", "username": "kiosk"}]},
        )
        assert reply.status_code == 200, reply.text
        page = await open_sign_in(context, demo.url, page_errors)
        trusted = page.locator(".auth-trusted")
        await expect(trusted).to_be_visible()
        await trusted.click()

        await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
        notice = page.locator("#auth-notice")
        await expect(notice).to_be_visible()
        await expect(notice).to_contain_text("kiosk")
        await expect(notice).to_contain_text("127.0.0.1")
        assert await page.evaluate("document.documentElement.dataset.signIn") == "trusted"
        assert api_errors_only(page_errors) == []
