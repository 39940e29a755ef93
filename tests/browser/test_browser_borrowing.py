"""Borrowing 借阅 in a real browser: staff of KF asks for a confidential contract of YX, YX's department head
and then the archive manager approve, the borrower sees the page watermarked, and once the grant runs out
(an injected clock, no sleeping) the same page is refused and the refusal is in the audit trail.
Screenshots of the main pages go to tests/output/borrowing/ (ignored by git)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from archive_fixtures import PASSWORD, audit_rows
from browser_support import Server
from PIL import Image, ImageChops
from playwright.sync_api import Browser, Page, expect

from archive.actors import OPERATOR
from archive.borrowing import services
from archive.borrowing.permissions import BORROW_ACTOR
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.ports import SetClock
from archive.services import documents, users

pytestmark = pytest.mark.browser

OUTPUT = Path(__file__).resolve().parents[1] / "output" / "borrowing"
LINES = ["供用电合同", "增容 保密条款", "Supply contract 2024"]

# Every visible control has a label (a <label>, aria-label or aria-labelledby).
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(c => c.tagName === 'BUTTON' ? !(c.textContent.trim() || c.getAttribute('aria-label'))
                                       : !(c.labels && c.labels.length) && !c.getAttribute('aria-label'))
  .map(c => c.outerHTML)"""
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"), full_page=True)


def check_page(page: Page) -> None:
    """Labels on every control, and nothing wider than the window."""
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(OVERFLOW) <= 0


@pytest.fixture
def clock(server: Server) -> SetClock:
    server.archive.clock = SetClock(datetime.now(UTC).replace(microsecond=0))
    return server.archive.clock


@pytest.fixture
def contract(server: Server, clock: SetClock, tmp_path: Path, customer_id: str) -> tuple[int, str]:
    """A confidential contract of YX, recognised and indexed; the archive manager exists."""
    for username, role in (("manager", "records_manager"), ("secadmin", "security_admin")):
        users.create_user(server.archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department=None, clearance="secret")
    clerk = users.resolve_actor(server.archive.uow(), username="clerk", remote_addr="127.0.0.1")
    result = capture_document(server.archive.uow(), actor=clerk, request=CaptureRequest(
        path=write_scan(tmp_path / "contract.png", LINES, format="PNG"), filename="contract.png",
        customer=customer_id, customer_name="张三", document_type="supply_contract", classification="confidential"))
    server.wait_until_indexed([result.document_id])
    return result.document_id, result.archive_code


def as_user(browser: Browser, server: Server, login: Callable[..., None], username: str,
            width: int = 1280) -> Page:
    """A fresh context (its own cookies) logged in as the user, in Chinese."""
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    login(page, server, username)
    return page


def test_a_confidential_document_is_borrowed_across_departments_seen_watermarked_and_refused_after_expiry(
        browser: Browser, server: Server, login: Callable[..., None], contract: tuple[int, str],
        clock: SetClock) -> None:
    document_id, code = contract
    pages: list[Page] = []
    try:
        # Staff of KF cannot open YX's confidential contract, and asks to borrow it (on a phone-sized screen).
        staff = as_user(browser, server, login, "staff_kf", width=360)
        pages.append(staff)
        assert staff.goto(f"{server.url}/documents/{document_id}").status == 404
        staff.goto(f"{server.url}/borrow/new?code={code}")
        expect(staff.locator("h1")).to_have_text("新建借阅申请")
        expect(staff.get_by_label("档号（每行一个）")).to_have_value(code)
        check_page(staff)
        shot(staff, "1-request-form-360px")
        staff.get_by_label("用途（必填）").fill("核对增容合同的保密条款")
        staff.get_by_label("在线查阅").check()
        staff.get_by_label("天数（最多 30 天）").fill("3")
        staff.get_by_role("button", name="提交审批").click()
        expect(staff.locator("p.flash.ok")).to_contain_text("已提交审批")
        row = staff.locator("table.borrow-requests tbody tr").first
        expect(row).to_contain_text("待处理")
        expect(row).to_contain_text("部门负责人")
        check_page(staff)
        shot(staff, "2-my-requests-360px")
        number = row.locator("a.mono").inner_text()

        # YX's department head sees it in the inbox and on the desk, with the document it covers, and approves.
        head = as_user(browser, server, login, "approver")
        pages.append(head)
        expect(head.locator("#inbox-link .count-badge")).to_have_text("1")
        head.click("#inbox-link")
        expect(head.locator("#entries")).to_contain_text(f"借阅申请 {number} 待您审批")
        shot(head, "3-inbox")
        head.get_by_role("button", name="打开").first.click()
        expect(head.locator("h1")).to_contain_text(number)
        expect(head.locator("#inbox-link .count-badge")).to_have_count(0)
        head.goto(f"{server.url}/borrow/approvals")
        expect(head.locator("#pending")).to_contain_text(number)
        check_page(head)
        shot(head, "4-approvals")
        head.locator("#pending a.mono", has_text=number).click()
        expect(head.locator("#items")).to_contain_text(code)
        check_page(head)
        shot(head, "5-request-detail-for-the-head")
        head.get_by_label("意见（驳回时必须填写理由）").fill("同意,仅限查阅")
        head.get_by_role("button", name="批准").click()
        expect(head.locator("p.flash.ok")).to_contain_text("待处理")
        expect(head.locator("#steps li").first).to_have_class("done")

        # The archive manager approves the second step.
        manager = as_user(browser, server, login, "manager")
        pages.append(manager)
        manager.goto(f"{server.url}/borrow/approvals")
        manager.locator("#pending a.mono", has_text=number).click()
        manager.get_by_role("button", name="批准").click()
        expect(manager.locator("#status")).to_have_text("已批准")
        shot(manager, "6-request-approved")
        manager.click("header nav a[href='/borrow/room']")
        expect(manager.locator("h1")).to_have_text("档案室：纸质原件")
        check_page(manager)
        shot(manager, "6b-archive-room")

        # The borrower sees the page, watermarked: it differs from the unmarked original.
        staff.goto(f"{server.url}/inbox/")
        expect(staff.locator("#entries")).to_contain_text(f"您的借阅申请 {number} 已批准")
        staff.goto(f"{server.url}/borrow/")
        expect(staff.locator("table.borrow-requests tbody tr").first).to_contain_text("已批准")
        assert staff.goto(f"{server.url}/documents/{document_id}").status == 200
        image = staff.locator("section#page-1 img")
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
        check_page(staff)
        shot(staff, "7-borrowed-document-360px")
        marked = staff.request.get(f"{server.url}/documents/{document_id}/pages/1.png")
        assert marked.status == 200 and marked.headers["content-type"] == "image/png"
        clerk = users.resolve_actor(server.archive.uow(), username="clerk", remote_addr="127.0.0.1")
        plain = documents.open_page_image(server.archive.uow(), actor=clerk, document_id=document_id, number=1)
        try:
            unmarked = Image.open(io.BytesIO(plain.read())).convert("RGB")
        finally:
            plain.close()
        watermarked = Image.open(io.BytesIO(marked.body())).convert("RGB")
        assert watermarked.size == unmarked.size
        assert ImageChops.difference(watermarked, unmarked).getbbox() is not None

        # Three days and a second later the grant has run out: the same page is refused, and audited.
        clock.advance(days=3, seconds=1)
        login(staff, server, "staff_kf")  # the session ran out with the clock too
        denied_before = len(audit_rows(server.archive, "access.denied"))
        response = staff.goto(f"{server.url}/documents/{document_id}")
        assert response is not None and response.status == 404
        expect(staff.locator("h1")).to_contain_text("未找到")
        assert staff.request.get(f"{server.url}/documents/{document_id}/pages/1.png").status == 404
        refusals = [e for e in audit_rows(server.archive, "access.denied")[denied_before:]
                    if e.actor_name == "staff_kf" and e.target_type == "document"]
        assert refusals and all(e.target_id == str(document_id) and e.outcome == "denied" for e in refusals)
        services.expire_grants(server.archive.uow(), actor=BORROW_ACTOR)  # what the hourly job does
        staff.goto(f"{server.url}/borrow/")
        expect(staff.locator("table.borrow-requests tbody tr").first).to_contain_text("已到期")
        shot(staff, "8-my-requests-after-expiry-360px")

        # The security administrator's pages: every request, and the approval chains.
        secadmin = as_user(browser, server, login, "secadmin")
        pages.append(secadmin)
        secadmin.click("header nav a[href='/borrow/all']")
        expect(secadmin.locator("table.borrow-requests")).to_contain_text(number)
        shot(secadmin, "9-all-requests")
        secadmin.click("header nav a[href='/borrow/chains']")
        chain = secadmin.locator("#chain-confidential-out")
        expect(chain.get_by_label("审批身份").first).to_have_value("department_head")
        check_page(secadmin)
        shot(secadmin, "10-approval-chains")
        secadmin.click("header nav a[href='/classification/']")
        expect(secadmin.locator("h1")).to_have_text("密级变更")
        check_page(secadmin)
    finally:
        for opened in pages:
            opened.context.close()
