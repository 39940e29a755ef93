"""The reports and the account review in Chromium: charts drawn (the SVG images load), tables, labels
on every control, nothing wider than the window. Screenshots go to tests/output/reports/ (ignored by git;
docs/report-holdings.png in the README is one of them, made smaller)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from archive_fixtures import PASSWORD
from browser_support import Server
from playwright.sync_api import Page
from report_data import add_report_people, build_dataset

from archive.actors import OPERATOR
from archive.services import users

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).resolve().parents[1] / "output" / "reports"
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(c => c.tagName === 'BUTTON' ? !(c.textContent.trim() || c.getAttribute('aria-label'))
                                       : !(c.labels && c.labels.length) && !c.getAttribute('aria-label'))
  .map(c => c.outerHTML)"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
CHARTS_DRAWN = "() => [...document.querySelectorAll('figure.chart img')].map(i => i.complete && i.naturalWidth > 0)"


def shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def test_the_leader_reads_every_report_with_its_charts(server: Server, page: Page, login: Callable[..., None]):
    add_report_people(server.archive)
    build_dataset(server.archive)
    login(page, server, "leader")
    page.click("nav >> text=统计报表")
    for name in ("holdings", "coverage", "rescan", "borrowing", "disposition"):
        page.goto(f"{server.url}/reports/{name}")
        assert page.locator("#figures .figure").count() >= 3
        drawn = page.evaluate(CHARTS_DRAWN)
        assert drawn and all(drawn)
        assert page.evaluate(UNLABELLED) == [] and page.evaluate(OVERFLOW) <= 0
        shot(page, name)
    with page.expect_download() as download:
        page.click("#excel")
    assert download.value.suggested_filename.startswith("report-disposition-")


def test_the_security_administrator_runs_an_account_review(server: Server, page: Page, login: Callable[..., None]):
    users.create_user(server.archive.uow(), actor=OPERATOR, username="sec1", password=PASSWORD, role="security_admin",
                      clearance="secret")
    login(page, server, "sec1")
    page.goto(f"{server.url}/account-review/")
    assert page.evaluate(UNLABELLED) == [] and page.evaluate(OVERFLOW) <= 0
    page.click("#reviews button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#accounts tbody tr").count() >= 7
    row = page.locator("#accounts tr", has_text="clerk").first
    row.locator("input[name=comment]").fill("调离")
    row.locator("button[value=disable]").click()
    page.wait_for_load_state()
    assert page.evaluate(UNLABELLED) == [] and page.evaluate(OVERFLOW) <= 0
    shot(page, "account-review")
