"""The home page per role: what each panel shows, and what it must not (三员分立: no titles, no customers)."""

from __future__ import annotations

from pathlib import Path

from archive_fixtures import PASSWORD, captured
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.actors import OPERATOR
from archive.bootstrap import Archive
from archive.borrowing.services import request_borrow
from archive.demo.samples import write_scan
from archive.models import Page
from archive.saved_searches import services as saved
from archive.services import users

CUSTOMER_NAME = "张伟"  # the customer of archive_fixtures.captured


def actor(archive: Archive, username: str):  # noqa: ANN201
    return users.resolve_actor(archive.uow(), username=username, remote_addr="127.0.0.1")


def home_of(app: Flask, login_as, username: str) -> str:  # noqa: ANN001
    client = app.test_client()
    login_as(client, username)
    response = client.get("/?lang=en")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def panel(html: str, panel_id: str) -> str:
    """The panel's section, or '' when the page has none."""
    start = html.find(f'id="{panel_id}"')
    return "" if start < 0 else html[start:html.index("</section>", start)]


def test_the_clerks_home_shows_the_capture_queue_pages_to_rescan_and_customers_missing_documents(
    client: FlaskClient, login_as, upload, web_archive: Archive, tmp_path: Path
) -> None:
    ready = captured(web_archive, actor(web_archive, "clerk"), tmp_path, "合同甲", text="合同甲 供用电合同")
    with web_archive.uow() as uow:  # its one page was read poorly
        page = uow.session.scalar(select(Page).where(Page.document_id == ready.id))
        page.ocr_confidence, page.rescan_needed = 21.0, True
        uow.commit()
    login_as(client, "clerk")
    [waiting] = upload(write_scan(tmp_path / "new.png", ["申请书"], format="PNG"),
                       document_type="application_form")["documents"]  # queued, OCR not run

    html = client.get("/?lang=en").get_data(as_text=True)

    queue = panel(html, "panel-capture-queue")
    assert waiting["archive_code"] in queue and ready.code not in queue
    rescan = panel(html, "panel-rescan")
    assert ready.code in rescan and "confidence 21%" in rescan and "#page-1" in rescan
    gaps = panel(html, "panel-gaps")
    assert CUSTOMER_NAME in gaps and "ID card copy" in gaps  # 张伟 has a contract only
    assert "Application form" not in gaps  # the form just uploaded counts already
    assert panel(html, "panel-borrow-decisions") == "" and panel(html, "panel-alerts") == ""


def test_business_staff_see_what_they_viewed_their_saved_searches_and_open_borrowings_only(
    app: Flask, login_as, web_archive: Archive, tmp_path: Path
) -> None:
    clerk = actor(web_archive, "clerk")
    mine = captured(web_archive, clerk, tmp_path, "营销合同", level="internal", text="营销合同 电费")
    secret = captured(web_archive, clerk, tmp_path, "机密合同", level="confidential", text="机密合同 电费")
    saved.save_search(web_archive.uow(), actor=actor(web_archive, "staff"), name="我的电费", query="电费")
    saved.save_search(web_archive.uow(), actor=actor(web_archive, "staff_kf"), name="别人的", query="合同")
    request_borrow(web_archive.uow(), actor=actor(web_archive, "staff"), purpose="核对机密合同", mode="view",
                   days=3, codes=[secret.code])
    client = app.test_client()
    login_as(client, "staff")
    assert client.get(f"/documents/{mine.id}").status_code == 200

    html = client.get("/?lang=en").get_data(as_text=True)

    viewed = panel(html, "panel-recent").split("New documents")[0]
    assert mine.code in viewed and f"{CUSTOMER_NAME} 供用电合同" in viewed  # the default title
    assert secret.code not in panel(html, "panel-recent")  # above the staff's clearance: not listed
    searches = panel(html, "panel-saved-searches")
    assert "我的电费" in searches and "别人的" not in searches
    assert "核对机密合同" in panel(html, "panel-borrowings")
    for clerks_only in ("panel-capture-queue", "panel-rescan", "panel-gaps", "panel-borrow-decisions"):
        assert panel(html, clerks_only) == "", clerks_only


def test_the_approver_sees_the_borrow_requests_waiting_for_them(
    app: Flask, login_as, web_archive: Archive, tmp_path: Path
) -> None:
    document = captured(web_archive, actor(web_archive, "clerk"), tmp_path, "营销合同", level="internal")
    number = request_borrow(web_archive.uow(), actor=actor(web_archive, "staff_kf"), purpose="跨部门核对",
                            mode="view", days=3, codes=[document.code])

    decisions = panel(home_of(app, login_as, "approver"), "panel-borrow-decisions")

    assert number in decisions and "跨部门核对" in decisions
    assert panel(home_of(app, login_as, "staff_kf"), "panel-borrow-decisions") == ""  # the requester decides nothing


def test_the_three_administrators_homes_show_their_work_but_no_document_or_customer(
    app: Flask, login_as, web_archive: Archive, tmp_path: Path
) -> None:
    users.create_user(web_archive.uow(), actor=OPERATOR, username="secadmin", password=PASSWORD,
                      role="security_admin", department=None, clearance="secret")
    document = captured(web_archive, actor(web_archive, "clerk"), tmp_path, "营销合同", level="internal")
    outsider = app.test_client()
    login_as(outsider, "staff_kf")
    assert outsider.get(f"/documents/{document.id}").status_code == 404  # a denial (audited) for the auditor

    auditor = home_of(app, login_as, "auditor")
    admin = home_of(app, login_as, "admin")
    secadmin = home_of(app, login_as, "secadmin")

    denials = panel(auditor, "panel-denials")
    assert "staff_kf" in denials and "access.denied" in denials
    assert panel(auditor, "panel-alerts") != ""
    assert "accounts" in panel(admin, "panel-users") and "/admin/reference" in panel(admin, "panel-reference")
    assert panel(secadmin, "panel-account-changes") != "" and panel(secadmin, "panel-classification") != ""
    for html in (auditor, admin, secadmin):
        for secret in ("供用电合同", CUSTOMER_NAME, document.code, "panel-recent", "panel-saved-searches", "panel-gaps"):
            assert secret not in html


def test_every_roles_home_page_renders(app: Flask, login_as, web_archive: Archive, tmp_path: Path) -> None:  # noqa: ANN001
    from archive import registry
    from archive.roles import SEPARATED_ROLES

    captured(web_archive, actor(web_archive, "clerk"), tmp_path, "营销合同", level="internal")
    for role in registry.roles():
        users.create_user(web_archive.uow(), actor=OPERATOR, username=f"home_{role}", password=PASSWORD, role=role,
                          department=None if role in SEPARATED_ROLES else "YX", clearance="secret")
        html = home_of(app, login_as, f"home_{role}")
        assert 'class="columns home"' in html, role
        if role in SEPARATED_ROLES:
            assert CUSTOMER_NAME not in html, role
