"""The document viewer in a real browser: opened from a search hit, thumbnails, keys for pages and zoom, and
the search word highlighted on the page image."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from browser_support import Server
from PIL import Image
from playwright.sync_api import Page, expect

from archive.capture.services import CaptureRequest, capture_document
from archive.services import users

pytestmark = pytest.mark.browser


@pytest.fixture
def two_pages(server: Server, scan: Callable[..., Path], customer_id: str, tmp_path: Path) -> int:
    """A two-page TIFF (电费 on page 2 only), captured by the clerk, recognised and indexed."""
    first = Image.open(scan("p1.png", ["供用电合同", "Supply contract 2024"]))
    second = Image.open(scan("p2.png", ["电费结算方式 银行代扣", "Payment 2024"]))
    path = tmp_path / "two.tif"
    first.save(path, save_all=True, append_images=[second])
    clerk = users.resolve_actor(server.archive.uow(), username="clerk", remote_addr="127.0.0.1")
    request = CaptureRequest(path=path, customer=customer_id, customer_name="张三", document_type="supply_contract",
                             classification="internal", filename="two.tif")
    result = capture_document(server.archive.uow(), actor=clerk, request=request)
    server.wait_until_indexed([result.document_id])
    return result.document_id


def test_staff_open_a_hit_see_thumbnails_turn_to_page_two_zoom_and_see_the_word_highlighted(
    page: Page, server: Server, login: Callable[..., None], two_pages: int
) -> None:
    login(page, server, "staff")
    page.goto(f"{server.url}/search/?q=电费")
    link = page.locator("article.hit h3 a").first
    href = link.get_attribute("href")
    assert href and href.endswith("?q=%E7%94%B5%E8%B4%B9")  # the hit passes the query to the viewer
    link.click()
    expect(page.locator("#viewer")).to_have_attribute("data-page", "1")
    thumbs = page.locator(".thumbs img")
    expect(thumbs).to_have_count(2)
    page.wait_for_function("() => [...document.querySelectorAll('.thumbs img')].every(i => i.naturalWidth > 0)")
    expect(page.locator("section.page#page-2")).to_be_hidden()

    page.keyboard.press("ArrowRight")
    expect(page.locator("#viewer")).to_have_attribute("data-page", "2")
    expect(page.locator("section.page#page-2")).to_be_visible()
    page.keyboard.press("+")
    expect(page.locator("#viewer")).to_have_attribute("data-zoom", "1.25")

    box = page.locator("#page-2 .hit-boxes .hit-box").first
    expect(box).to_be_visible()
    expect(page.locator("#page-2 pre mark").first).to_have_text("电费")
    assert page.locator("#page-1 .hit-boxes .hit-box").count() == 0


def test_a_page_a_worker_has_yet_to_render_shows_a_note_and_the_viewer_still_works(
    page: Page, server: Server, login: Callable[..., None], two_pages: int
) -> None:
    from sqlalchemy import update

    from archive.models import Page as PageRow

    with server.archive.uow() as uow:  # page 2 as a captured PDF's page is until its job renders it
        uow.session.execute(update(PageRow).where(PageRow.document_id == two_pages, PageRow.number == 2)
                            .values(image_ready=False))
        uow.commit()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    login(page, server, "staff")
    page.goto(f"{server.url}/documents/{two_pages}?q=电费&lang=en")
    expect(page.locator(".thumbs img")).to_have_count(1)
    page.keyboard.press("ArrowRight")
    expect(page.locator("#viewer")).to_have_attribute("data-page", "2")
    expect(page.locator("#page-2 .pending-image")).to_contain_text("being rendered from the PDF")
    page.keyboard.press("+")
    page.keyboard.press("f")
    expect(page.locator("#page-2 pre mark").first).to_have_text("电费")  # its text is there already
    assert problems == []
