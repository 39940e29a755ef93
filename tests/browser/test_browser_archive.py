"""The archive in a real browser: capture with progress, search, the document page, access, language, login."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from browser_support import OCR_TIMEOUT_S, Server
from playwright.sync_api import Page, expect

from archive.capture.services import CaptureRequest, capture_document
from archive.services import users

pytestmark = pytest.mark.browser

CONTRACT_LINES = ["供用电合同", "电费结算方式 银行代扣", "Supply contract 2024"]
NOTICE_LINES = ["缴费通知单", "电费结算方式 银行代扣", "Payment notice 2024"]
SCREENSHOT = os.environ.get("ARCHIVE_BROWSER_SCREENSHOT")  # e.g. /tmp/browser-document.png while developing


@pytest.fixture
def document_id(server: Server, scan: Callable[..., Path], customer_id: str) -> int:
    """A one-page supply contract (internal, department YX) captured by the clerk, recognised and indexed."""
    clerk = users.resolve_actor(server.archive.uow(), username="clerk", remote_addr="127.0.0.1")
    request = CaptureRequest(
        path=scan("contract.png", CONTRACT_LINES), customer=customer_id, customer_name="张三",
        document_type="supply_contract", classification="internal", filename="contract.png",
    )
    result = capture_document(server.archive.uow(), actor=clerk, request=request)
    server.wait_until_indexed([result.document_id])
    return result.document_id


def test_a_clerk_captures_two_scans_and_watches_upload_and_ocr_progress_to_the_end(
    page: Page, server: Server, login: Callable[..., None], scan: Callable[..., Path], customer_id: str
) -> None:
    login(page, server, "clerk")
    page.click("nav >> text=采集")
    expect(page.locator("h1")).to_have_text("采集扫描件")
    page.fill("input[name=customer]", customer_id)
    page.fill("input[name=customer_name]", "张三")
    page.select_option("select[name=document_type]", "supply_contract")
    page.set_input_files("input[name=files]", [scan("contract.png", CONTRACT_LINES),
                                                scan("notice.png", NOTICE_LINES)])
    page.click("#capture-form button[type=submit]")

    items = page.locator("#capture-progress .progress-item")
    expect(items).to_have_count(2)
    for index, name in enumerate(("contract.png", "notice.png")):
        item = items.nth(index)
        expect(item.locator(".name")).to_have_text(name)
        expect(item.locator(".state").first).to_contain_text("已上传", timeout=30_000)
        assert item.locator("progress").first.evaluate("bar => bar.value") == 100
        expect(item.locator(".state a.mono")).to_have_text(re.compile(r"\S+"))
    for index in range(2):
        ocr = items.nth(index).locator(".state").nth(1)
        expect(ocr).to_contain_text("已识别页数: 1 / 1", timeout=OCR_TIMEOUT_S * 1000)
        expect(ocr).to_contain_text("所有页面已识别")
        assert items.nth(index).locator("progress").nth(1).evaluate("bar => [bar.value, bar.max]") == [1, 1]
    expect(page.locator("#capture-progress .refused")).to_have_count(0)


def test_staff_of_the_department_finds_a_chinese_word_highlighted_and_reads_the_page_beside_its_text(
    page: Page, server: Server, login: Callable[..., None], document_id: int
) -> None:
    login(page, server, "staff")
    page.click("nav >> text=检索")
    page.fill("input[name=q]", "电费")
    page.press("input[name=q]", "Enter")

    hit = page.locator("article.hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark").first).to_have_text("电费")
    hit.locator("h3 a").click()

    expect(page).to_have_url(f"{server.url}/documents/{document_id}?q=%E7%94%B5%E8%B4%B9")  # the query rides along
    image = page.locator("section.page img")
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("img => img.naturalWidth") > 0
    text = page.locator("section.page .ocr pre")
    expect(text).to_contain_text("电费")
    expect(page.locator("section.page .ocr .meta")).to_contain_text("文字识别: 完成")
    image_box, text_box = image.bounding_box(), text.bounding_box()
    assert image_box and text_box and text_box["x"] > image_box["x"] + image_box["width"] / 2  # text beside it
    if SCREENSHOT:
        page.screenshot(path=SCREENSHOT, full_page=True)


def test_staff_of_another_department_opening_the_document_gets_the_not_found_page(
    page: Page, server: Server, login: Callable[..., None], document_id: int
) -> None:
    login(page, server, "staff_kf")
    response = page.goto(f"{server.url}/documents/{document_id}")
    assert response is not None and response.status == 404  # as if it did not exist
    expect(page.locator("section.error h1")).to_have_text("404 · 未找到")
    expect(page.locator("body")).not_to_contain_text("供用电合同")


def test_the_language_switch_changes_the_interface_between_chinese_and_english(
    page: Page, server: Server, login: Callable[..., None]
) -> None:
    login(page, server, "staff")
    nav = page.locator("header nav")
    expect(nav).to_contain_text("检索")
    page.click("header .session >> text=English")
    expect(nav).to_contain_text("Search")
    expect(nav).not_to_contain_text("检索")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("header nav >> text=Customers")  # the choice sticks across pages
    expect(page.locator("header nav")).to_contain_text("Search")
    page.click("header .session >> text=中文")
    expect(nav).to_contain_text("检索")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_a_wrong_password_shows_an_error_and_does_not_log_in(
    page: Page, server: Server, login: Callable[..., None]
) -> None:
    login(page, server, "clerk", "not the password")
    expect(page.locator("p.flash.error[role=alert]")).to_contain_text("用户名或密码错误")
    expect(page.locator("header nav a")).to_have_count(0)
    expect(page.locator("header .session .who")).to_have_count(0)
    page.goto(f"{server.url}/capture/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
