"""Fixtures for the browser tests: the real app served by waitress with the job consumer running in-process
(as `archive serve` does), a headless Chromium for the session and a fresh browser context per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from archive_fixtures import PASSWORD, build_archive
from browser_support import CUSTOMER_ID, Server, serving
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from tour import DemoSite, demo_site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """A fresh SQLite archive (departments YX and KF, one user per role) served on a free local port,
    with CSRF on and two OCR job workers in this process."""
    with serving(build_archive(tmp_path / "home")) as served:
        yield served


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """`archive demo`'s data served for the whole test module (tests/browser/tour.py: its pages per role)."""
    with demo_site(tmp_path_factory.mktemp("demo") / "home") as site:
        yield site


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def context(browser: Browser, server: Server) -> Iterator[BrowserContext]:
    """A fresh context per test (no cookies shared), with a Chinese-speaking browser. It depends on the
    server so that it closes (and drops its keep-alive connections) before the server stops."""
    instance = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    instance.set_default_timeout(15_000)
    yield instance
    instance.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def log_in(page: Page, server: Server, username: str, password: str = PASSWORD) -> None:
    """Log in through the login form."""
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def login() -> Callable[..., None]:
    """login(page, server, username) logs in through the form with the test password."""
    return log_in


@pytest.fixture
def scan(tmp_path: Path) -> Callable[..., Path]:
    """scan(name, lines) writes a one-page PNG scan with those lines of text."""

    def make(name: str, lines: list[str]) -> Path:
        from archive.demo.samples import write_scan

        return write_scan(tmp_path / name, lines, format="PNG")

    return make


@pytest.fixture
def customer_id() -> str:
    """A valid resident ID number for the test customer 张三."""
    return CUSTOMER_ID
