"""One journey per role on the demo archive, in a real browser: the role's main tasks in today's UI, then a tour
of its main pages (tests/browser/tour.py) in Chinese and English at 1366 and 390 px, none scrolling sideways,
each saved under tests/output/screenshots/<role>/. ARCHIVE_TOUR=1 also refreshes the README's pictures in
docs/tour/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_support import OCR_TIMEOUT_S
from playwright.sync_api import Browser, expect
from tour import DemoSite, open_as, tour

from archive.demo.loading import CUSTOMERS
from archive.demo.samples import write_scan

pytestmark = pytest.mark.browser


def test_the_clerk_captures_a_generated_scan_then_sees_the_rescan_list_and_the_customers(
    browser: Browser, demo: DemoSite, tmp_path: Path
) -> None:
    page = open_as(browser, demo, "clerk")
    page.goto(f"{demo.url}/capture/")
    page.fill("input[name=customer]", CUSTOMERS[0][0])
    page.fill("input[name=customer_name]", "张伟")
    page.select_option("select[name=document_type]", "meter_work_order")
    page.set_input_files("input[name=files]", write_scan(tmp_path / "notice.png", ["计量装置装拆表工作单", "张伟 电能表更换 2026年11月"],
                                                        format="PNG"))
    page.click("#capture-form button[type=submit]")
    item = page.locator("#capture-progress .progress-item")
    expect(item.locator(".state").nth(1)).to_contain_text("所有页面已识别", timeout=OCR_TIMEOUT_S * 1000)
    code = item.locator(".state a.mono").inner_text()

    page.click("header nav >> text=重扫")
    expect(page.locator("h1")).to_have_text("待重扫页面")
    page.click("header nav >> text=客户")
    page.click("main table >> text=张伟")
    expect(page.locator("main")).to_contain_text(code)  # the new document is in the customer's file
    tour(page, demo, "clerk")


def test_staff_search_open_a_document_turn_its_pages_and_ask_to_borrow_another(browser: Browser, demo: DemoSite) -> None:
    page = open_as(browser, demo, "staff")
    page.goto(f"{demo.url}/")
    page.click("main a >> text=合同检索")  # the demo's saved search, on the home page
    expect(page.locator("article.hit").first).to_be_visible()
    page.click("header nav >> text=检索")
    page.fill("input[name=q]", "用电")
    page.press("input[name=q]", "Enter")
    hit = page.locator("article.hit").first
    expect(hit.locator("mark").first).to_have_text("用电")
    hit.locator("h3 a").click()
    image = page.locator("section.page.current img")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    page.keyboard.press("+")
    expect(page.locator("#viewer")).to_have_attribute("data-zoom", "1.25")
    expect(page.locator("section.page.current pre mark").first).to_have_text("用电")

    page.goto(f"{demo.url}/borrow/new?code={demo.ids['code']}")
    page.fill("#purpose", "核对缴费记录")
    page.fill("#days", "3")
    page.click("#borrow-form button[type=submit]")
    expect(page.locator("p.flash")).to_contain_text("已提交审批")
    expect(page.locator("main table")).to_contain_text("核对缴费记录")
    tour(page, demo, "staff")


def test_the_approver_approves_a_borrow_request_from_the_approvals_list(browser: Browser, demo: DemoSite) -> None:
    page = open_as(browser, demo, "approver")
    page.click("header nav >> text=借阅审批")
    pending = page.locator("#pending table a").first
    number = pending.inner_text()
    pending.click()
    page.fill("#comment", "同意,限三日内")
    page.click("#approve")
    expect(page.locator("#decide")).to_have_count(0)
    page.click("header nav >> text=借阅审批")
    expect(page.locator("#decided")).to_contain_text(number)
    tour(page, demo, "approver")


def test_the_auditor_queries_the_audit_desk_by_user_and_reads_the_alerts(browser: Browser, demo: DemoSite) -> None:
    page = open_as(browser, demo, "auditor")
    page.goto(f"{demo.url}/compliance/")
    page.click("main >> text=审计复核台")
    page.fill("input[name=user]", "clerk")
    page.click("form.desk-filters button[type=submit]")
    rows = page.locator("table.audit tbody tr")
    expect(rows.first).to_be_visible()
    assert set(rows.locator("td:nth-child(3)").all_inner_texts()) == {"clerk"}
    page.click("main >> text=异常告警")
    expect(page.locator("h1")).to_have_text("异常告警")
    tour(page, demo, "auditor")


def test_the_system_administrator_creates_an_account_and_adds_a_department(browser: Browser, demo: DemoSite) -> None:
    page = open_as(browser, demo, "admin")
    page.click("header nav >> text=用户")
    create = page.locator("main form.stacked")  # the rows' own forms (move, change) have fields of these names too
    create.locator("input[name=username]").fill("wangfang")
    create.locator("input[name=display_name]").fill("王芳")
    create.locator("select[name=role]").select_option("staff")
    create.locator("select[name=department]").select_option("KF")
    create.locator("button[type=submit]").click()
    expect(page.locator("main table")).to_contain_text("wangfang")
    page.click("header nav >> text=基础数据")
    form = page.locator("form:has(input[name=code]):has(button:text('添加'))").first
    form.locator("input[name=code]").fill("JL")
    form.locator("input[name=name]").fill("计量中心")
    form.locator("button[type=submit]").click()
    expect(page.locator("p.flash.ok")).to_be_visible()
    expect(page.locator('main input[name=name][value="计量中心"]')).to_have_count(1)
    tour(page, demo, "admin")


def test_the_security_administrator_starts_an_account_review_and_reads_the_approval_chains(
    browser: Browser, demo: DemoSite
) -> None:
    page = open_as(browser, demo, "secadmin")
    page.click("header nav >> text=账户复核")
    page.click("main form[method=post] button[type=submit]")
    expect(page).to_have_url(re.compile(r"/account-review/\d+$"))
    expect(page.locator("main")).to_contain_text("staff")
    page.click("header nav >> text=审批链")
    expect(page.locator("main")).to_contain_text("机密")
    tour(page, demo, "secadmin")


def test_the_records_manager_tours_retention_and_the_archive_room(browser: Browser, demo: DemoSite) -> None:
    page = open_as(browser, demo, "records")
    tour(page, demo, "records")
