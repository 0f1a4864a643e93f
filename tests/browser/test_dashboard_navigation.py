"""Sections by URL, search, the landing grid, keyboard use, touch target sizes and a strict
Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Route, expect

from tests.apphelpers import running_demo, sign_in_browser
from tests.browser.conftest import REPO_ROOT, WAIT_MS, PageErrors, open_dashboard, tile

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

STRICT_CSP = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'"


async def test_section_url_and_search(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/locks")
        await expect(page.locator(".section-title")).to_have_text("Locks")
        await expect(page.locator("[data-section='locks'][aria-current='page']")).to_have_count(1)
        kinds = await page.eval_on_selector_all(
            ".tile-grid [data-uid]", "nodes => [...new Set(nodes.map(n => n.dataset.kind))]"
        )
        assert sorted(kinds) == ["garage_door", "lock"]

        await page.goto(demo.url + "/#/")
        await page.locator("#search").fill("kitchen")
        await expect(page).to_have_url(demo.url + "/#/section/all")
        visible = await page.eval_on_selector_all(
            ".tile-grid [data-uid]:not([hidden])", "nodes => nodes.map(n => n.dataset.uid)"
        )
        devices = (await demo.client.get("/api/devices")).json()["devices"]
        expected = {
            device["uid"]
            for device in devices
            if "kitchen"
            in " ".join(
                str(device[field] or "") for field in ("label", "name", "room", "hubName")
            ).lower()
        }
        assert "main:12" in expected
        assert set(visible) == expected
        await page.locator("#search").fill("")
        await expect(tile(page, "main:88")).to_be_visible()
        assert page_errors.errors == []


async def test_landing_grid_and_pills(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors)
        landing = page.locator(".landing")
        await expect(landing.locator(".card")).to_have_count(8)
        assert await landing.get_attribute("data-columns") == "5"
        await page.set_viewport_size({"width": 390, "height": 844})
        await expect(landing).to_have_attribute("data-columns", "2")
        cameras = landing.locator("[data-section='cameras'] .card-count")
        await expect(cameras).to_have_text("Not configured")

        lights = landing.locator("[data-section='lights'] [data-pill='lights']")
        before = await lights.text_content()
        demo.sims["main"].set_attribute("360", "switch", "on")
        demo.sims["main"].set_attribute("12", "switch", "off")
        await expect(lights).not_to_have_text(before or "", timeout=WAIT_MS)
        assert page_errors.errors == []


async def test_keyboard_opens_and_closes_detail(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/thermostats")
        hallway = tile(page, "main:88")
        await hallway.focus()
        await page.keyboard.press("Enter")
        detail = page.locator("#detail-dialog")
        await expect(detail.locator("h2")).to_have_text("Hallway Thermostat")
        await expect(detail.locator("tr[data-attribute='temperature'] td").first).not_to_be_empty()
        await expect(detail.locator("[data-command='setHeatingSetpoint']")).to_be_visible(
            timeout=WAIT_MS
        )
        await page.keyboard.press("Escape")
        await expect(detail).to_be_hidden()

        dial = hallway.locator(".dial")
        start = int(await dial.get_attribute("aria-valuenow") or "0")
        await dial.focus()
        await page.keyboard.press("ArrowUp")
        await expect(dial).to_have_attribute("aria-valuenow", str(start + 1))
        assert page_errors.errors == []


async def test_touch_targets_at_least_48px(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        page = await open_dashboard(context, demo.url, page_errors, "#/section/all")
        small = await page.eval_on_selector_all(
            "button, a.nav-link, a.hub-link, a.card",
            """nodes => nodes
              .filter((node) => node.offsetParent !== null)
              .map((node) => ({ node, box: node.getBoundingClientRect() }))
              .filter(({ box }) => box.width > 0 && (box.width < 48 || box.height < 48))
              .map(({ node, box }) => `${node.className} ${box.width}x${box.height}`)""",
        )
        assert small == []
        unnamed = await page.eval_on_selector_all(
            "button, a",
            """nodes => nodes
              .filter((node) => node.offsetParent !== null)
              .filter((node) => !(node.getAttribute('aria-label') || node.textContent.trim()))
              .map((node) => node.outerHTML.slice(0, 80))""",
        )
        assert unnamed == []
        assert page_errors.errors == []


async def test_works_under_strict_csp(
    tmp_path: Path, context: BrowserContext, page_errors: PageErrors
) -> None:
    async with running_demo(tmp_path) as demo:
        await sign_in_browser(context, demo.url)
        page = await context.new_page()
        violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )

        async def with_csp(route: Route) -> None:
            response = await route.fetch()
            headers = {**response.headers, "content-security-policy": STRICT_CSP}
            await route.fulfill(response=response, headers=headers)

        await page.route(demo.url + "/", with_csp)
        page_errors.watch(page)
        await page.goto(demo.url + "/")
        await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
        await expect(page.locator(".landing .card")).to_have_count(8)
        assert violations == []
        html = (REPO_ROOT / "web" / "index.html").read_text(encoding="utf-8")
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts == ['<script type="module" src="/js/main.js">']
        assert re.search(r"\son[a-z]+\s*=", html) is None
        handlers = await page.evaluate(
            """() => [...document.querySelectorAll('*')].flatMap((node) =>
                 [...node.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name))"""
        )
        assert handlers == []
        assert page_errors.errors == []
