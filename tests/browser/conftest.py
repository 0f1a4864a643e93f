"""Headless Chromium for the dashboard tests: one browser per module, a new context per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.apphelpers import sign_in_browser, wait_until

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "test-artifacts" / "screenshots"
# Generous bound for a browser to reflect a change that normally takes milliseconds.
WAIT_MS = 15_000


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield ctx
    finally:
        await ctx.close()


class PageErrors:
    """Uncaught page errors and console errors other than failed resource loads."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page: Page) -> Page:
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", self._console)
        return page

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(f"console: {message.text}")


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


async def open_dashboard(
    context: BrowserContext, url: str, errors: PageErrors, hash_path: str = ""
) -> Page:
    """Sign the context in as the demo admin, open the dashboard and wait for live tiles."""
    await sign_in_browser(context, url)
    page = errors.watch(await context.new_page())
    await page.goto(url + "/" + hash_path)
    await page.wait_for_selector("html[data-stream='open']", timeout=WAIT_MS)
    if hash_path.startswith("#/section/"):
        await page.wait_for_selector(".tile-grid [data-uid]", timeout=WAIT_MS)
    return page


def tile(page: Page, uid: str) -> Any:
    return page.locator(f"[data-uid='{uid}']")


async def wait_for_command(
    sim: Any, device_id: str, command: str, timeout_s: float = 15.0
) -> list[str]:
    """Wait until the simulated hub logged ``command`` for ``device_id``; return its args."""
    found: list[list[str]] = []

    def logged() -> bool:
        for logged_id, logged_command, args in sim.command_log:
            if logged_id == device_id and logged_command == command:
                found.append(args)
                return True
        return False

    await wait_until(logged, timeout_s, f"command {command} for device {device_id}")
    return found[0]
