"""The rescan loop in a real browser: a poorly read page is listed, the clerk uploads a new scan from the
list, OCR reads it, the list empties, and the earlier version stays viewable from the document page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from archive_fixtures import build_archive
from browser_support import OCR_TIMEOUT_S, Server, serving
from playwright.sync_api import Browser, Page, expect

from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.services import users

pytestmark = pytest.mark.browser

LINES = ["供用电合同", "电费结算方式 银行代扣", "Supply contract 2024"]


@pytest.fixture
def flagged(server: Server, tmp_path: Path, customer_id: str) -> int:
    """A one-page contract scanned blurred (tesseract reads it far below the threshold of 60), recognised."""
    clerk = users.resolve_actor(server.archive.uow(), username="clerk", remote_addr="127.0.0.1")
    request = CaptureRequest(
        path=write_scan(tmp_path / "blurred.png", LINES, format="PNG", blur=6), customer=customer_id,
        customer_name="张三", document_type="supply_contract", classification="internal", filename="blurred.png",
    )
    result = capture_document(server.archive.uow(), actor=clerk, request=request)
    server.wait_until_indexed([result.document_id])
    return result.document_id


def test_a_clerk_replaces_a_poorly_read_page_from_the_rescan_list_and_the_old_version_stays_viewable(
    page: Page, server: Server, login: Callable[..., None], scan: Callable[..., Path], flagged: int
) -> None:
    login(page, server, "clerk")
    page.goto(f"{server.url}/customers/?lang=en")
    page.click("header nav a[href='/rescan/']")
    expect(page.locator("h1")).to_have_text("Pages to rescan")
    row = page.locator(f"#rescan-{flagged}-1")
    expect(row).to_contain_text("张三")
    expect(row).to_contain_text("confidence")

    row.locator("input[type=file]").set_input_files(scan("rescan.png", LINES))
    row.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{server.url}/rescan/")
    expect(page.locator("p.flash.ok")).to_contain_text("replaced (version 2); OCR is running.")

    server.wait_until_indexed([flagged], timeout=OCR_TIMEOUT_S)
    page.reload()
    expect(page.locator("main")).to_contain_text("No page needs a rescan.")

    page.goto(f"{server.url}/documents/{flagged}")
    section = page.locator("section#page-1")
    expect(section.locator("figcaption")).to_contain_text("version 2")
    expect(section.locator(".ocr pre")).to_contain_text("Supply contract")
    expect(section.locator(".ocr .meta")).not_to_contain_text("Rescan needed")
    section.locator(".versions a", has_text="version 1").click()

    expect(page).to_have_url(f"{server.url}/documents/{flagged}/pages/1/versions/1")
    expect(page.locator("p.flash")).to_contain_text("An earlier version, replaced by a rescan")
    image = page.locator("section.page img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 0


def test_staff_get_no_rescan_list_but_may_look_at_an_earlier_version(
    browser: Browser, page: Page, server: Server, login: Callable[..., None], scan: Callable[..., Path],
    flagged: int,
) -> None:
    login(page, server, "clerk")  # the clerk replaces the page from the document page itself
    page.goto(f"{server.url}/documents/{flagged}?lang=en")
    form = page.locator("section#page-1 form.replace")
    form.locator("input[type=file]").set_input_files(scan("rescan.png", LINES))
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{server.url}/documents/{flagged}#page-1")
    expect(page.locator("p.flash.ok")).to_contain_text("replaced (version 2)")

    staff_context = browser.new_context(locale="zh-CN")
    try:
        staff = staff_context.new_page()
        login(staff, server, "staff")
        expect(staff.locator("header nav a[href='/rescan/']")).to_have_count(0)
        response = staff.goto(f"{server.url}/rescan/")
        assert response is not None and response.status == 403
        staff.goto(f"{server.url}/documents/{flagged}")
        expect(staff.locator("section#page-1 form.replace")).to_have_count(0)
        response = staff.goto(f"{server.url}/documents/{flagged}/pages/1/versions/1")
        assert response is not None and response.status == 200
        image = staff.locator("section.page img")
        staff.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    finally:
        staff_context.close()


def test_the_upload_view_shows_a_document_whose_ocr_failed_with_the_reason(
    browser: Browser, tmp_path: Path, login: Callable[..., None], scan: Callable[..., Path], customer_id: str
) -> None:
    """Served with tesseract languages that do not exist: every page fails, and the clerk is told why."""
    built = build_archive(tmp_path / "home")
    broken = Archive(built.settings.with_overrides(ocr_languages="nosuchlanguage"))
    built.close()
    with serving(broken) as server:
        context = browser.new_context(locale="zh-CN")
        try:
            page = context.new_page()
            page.set_default_timeout(15_000)
            login(page, server, "clerk")
            page.goto(f"{server.url}/capture/?lang=en")
            page.fill("input[name=customer]", customer_id)
            page.fill("input[name=customer_name]", "张三")
            page.set_input_files("input[name=files]", [scan("contract.png", LINES)])
            page.click("#capture-form button[type=submit]")
            ocr = page.locator("#capture-progress .progress-item .state").nth(1)
            expect(ocr).to_contain_text("OCR failed: page 1: tesseract failed", timeout=OCR_TIMEOUT_S * 1000)
            expect(ocr).to_contain_text("(1 ✕)")
            expect(page.locator("#capture-progress .progress-item.ocr-failed")).to_have_count(1)

            page.locator("#capture-progress .state a.mono").click()
            expect(page.locator("dl.grid")).to_contain_text("Failed — page 1: tesseract failed")
            expect(page.locator("section#page-1 .flash.error")).to_contain_text("nosuchlanguage")
        finally:
            context.close()


def test_the_capture_page_flags_a_poorly_read_page_with_a_link_and_the_home_page_lists_it(
    page: Page, server: Server, login: Callable[..., None], tmp_path: Path, customer_id: str
) -> None:
    login(page, server, "clerk")
    page.goto(f"{server.url}/capture/?lang=en")
    page.fill("input[name=customer]", customer_id)
    page.fill("input[name=customer_name]", "张三")
    page.select_option("select[name=document_type]", "supply_contract")
    page.set_input_files("input[name=files]", [write_scan(tmp_path / "blurred.png", LINES, format="PNG", blur=6)])
    page.click("#capture-form button[type=submit]")

    item = page.locator("#capture-progress .progress-item")
    flag = item.locator(".state.rescan-needed")
    expect(flag).to_contain_text("Read poorly, scan again", timeout=OCR_TIMEOUT_S * 1000)
    expect(item).to_have_class("progress-item needs-rescan")
    expect(item.locator(".state").nth(1)).to_contain_text("OCR pages: 1 / 1")
    expect(item).not_to_contain_text("All pages recognised")
    link = flag.locator("a")
    expect(link).to_have_text("page 1")
    link.click()
    expect(page).to_have_url(re.compile(r"/documents/\d+#page-1$"))
    expect(page.locator("section#page-1")).to_have_class(re.compile(r"\brescan\b"))

    page.goto(f"{server.url}/?lang=en")
    expect(page.locator("#panel-rescan li")).to_have_count(1)
    expect(page.locator("#panel-rescan li")).to_contain_text("page 1")
