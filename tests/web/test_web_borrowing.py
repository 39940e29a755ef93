"""Borrowing 借阅 on the web (issue 11): the request form, the head's and the archive manager's approval,
the watermarked page a borrower sees, the archive room, the security administrator's pages, the inbox and
the JSON API — with CSRF enforced and every denial answered 403 and audited."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from archive_fixtures import PASSWORD, audit_rows, captured
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image, ImageChops

from archive.actors import OPERATOR
from archive.bootstrap import Archive
from archive.borrowing.models import BorrowRequest
from archive.models import Document
from archive.ports import SetClock
from archive.services import users

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def clock(web_archive: Archive) -> SetClock:
    web_archive.clock = SetClock(START)
    return web_archive.clock


@pytest.fixture
def room(web_archive: Archive, clock: SetClock) -> None:
    """An archive manager, a security administrator and KF's department head besides the usual people."""
    for username, role, department in (("manager", "records_manager", None), ("secadmin", "security_admin", None),
                                       ("head_kf", "approver", "KF")):
        users.create_user(web_archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department=department, clearance="secret")


def capture(archive: Archive, tmp_path: Path, name: str, level: str) -> SimpleNamespace:
    """A one-page document of YX captured by its clerk at this level, recognised and indexed."""
    clerk = users.resolve_actor(archive.uow(), username="clerk", remote_addr="127.0.0.1")
    return captured(archive, clerk, tmp_path, name, level=level)


@pytest.fixture
def confidential(web_archive: Archive, room: None, tmp_path: Path) -> SimpleNamespace:
    return capture(web_archive, tmp_path, "c1", "confidential")


def client_as(app: Flask, login_as, username: str) -> FlaskClient:  # noqa: ANN001
    client = app.test_client()
    login_as(client, username)
    return client


def request_of(archive: Archive, requester: str) -> SimpleNamespace:
    with archive.uow() as uow:
        row = uow.session.query(BorrowRequest).order_by(BorrowRequest.id.desc()).first()
        assert row is not None
        return SimpleNamespace(id=row.id, number=row.number, status=row.status)


def ask(client: FlaskClient, code: str, mode: str = "view", days: str = "3", **extra: str):  # noqa: ANN201
    return client.post("/borrow/new", data={"codes": code, "purpose": "核对合同条款", "mode": mode, "days": days,
                                            **extra})


def png(response) -> Image.Image:  # noqa: ANN001
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "image/png"
    return Image.open(io.BytesIO(response.get_data())).convert("RGB")


def test_a_request_from_the_form_is_approved_by_the_head_then_the_manager_and_the_page_comes_watermarked(
        app: Flask, login_as, web_archive: Archive, confidential: SimpleNamespace) -> None:  # noqa: ANN001
    staff = client_as(app, login_as, "staff_kf")
    assert staff.get(f"/documents/{confidential.id}").status_code == 404  # another department's document

    form = staff.get(f"/borrow/new?code={confidential.code}", headers=ZH)
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and confidential.code in html
    assert 'for="purpose"' in html and 'for="days"' in html and "用途" in html
    answer = ask(staff, confidential.code)
    assert answer.status_code == 302 and answer.headers["Location"] == "/borrow/"
    borrow = request_of(web_archive, "staff_kf")
    mine = staff.get("/borrow/", headers=ZH).get_data(as_text=True)
    assert borrow.number in mine and "待处理" in mine and "部门负责人" in mine  # status and capacity translated

    head = client_as(app, login_as, "approver")
    desk = head.get("/borrow/approvals?lang=en").get_data(as_text=True)
    assert borrow.number in desk and "Awaiting my decision" in desk
    detail = head.get(f"/borrow/{borrow.id}").get_data(as_text=True)
    assert confidential.code in detail and 'id="approve"' in detail  # the head sees the covered document
    assert 'id="approve"' not in staff.get(f"/borrow/{borrow.id}").get_data(as_text=True)
    assert head.post(f"/borrow/{borrow.id}/decision", data={"approve": "yes"}).status_code == 302
    assert request_of(web_archive, "staff_kf").status == "pending"
    assert staff.get(f"/documents/{confidential.id}").status_code == 404  # not yet: the archive manager's step

    manager = client_as(app, login_as, "manager")
    assert borrow.number in manager.get("/borrow/approvals").get_data(as_text=True)
    assert manager.post(f"/borrow/{borrow.id}/decision", data={"approve": "yes", "comment": "同意"}).status_code == 302
    assert request_of(web_archive, "staff_kf").status == "approved"
    shown = staff.get(f"/borrow/{borrow.id}?lang=en").get_data(as_text=True)
    assert "Approved" in shown and "同意" in shown and "manager" in shown and 'id="grant-expiry"' in shown

    assert staff.get(f"/documents/{confidential.id}").status_code == 200
    marked = png(staff.get(f"/documents/{confidential.id}/pages/1.png"))
    clean = png(client_as(app, login_as, "clerk").get(f"/documents/{confidential.id}/pages/1.png"))
    assert marked.size == clean.size
    assert ImageChops.difference(marked, clean).getbbox() is not None  # the borrower's copy is watermarked
    [seen] = [e for e in audit_rows(web_archive, "page.image_viewed") if e.actor_name == "staff_kf"]
    assert seen.detail["watermarked"] is True and seen.target_id == str(confidential.id)


def test_a_rejection_needs_a_reason_and_reaches_the_requesters_inbox_in_their_language(
        app: Flask, login_as, web_archive: Archive, confidential: SimpleNamespace) -> None:  # noqa: ANN001
    staff = client_as(app, login_as, "staff_kf")
    ask(staff, confidential.code)
    borrow = request_of(web_archive, "staff_kf")
    head = client_as(app, login_as, "approver")
    assert 'class="count-badge"' in head.get("/borrow/").get_data(as_text=True)  # the head has an entry to read
    refused = head.post(f"/borrow/{borrow.id}/decision", data={"approve": "no", "comment": ""})
    assert refused.status_code == 302 and request_of(web_archive, "staff_kf").status == "pending"
    head.post(f"/borrow/{borrow.id}/decision", data={"approve": "no", "comment": "用途不明确"})
    assert request_of(web_archive, "staff_kf").status == "rejected"

    inbox = staff.get("/inbox/", headers=ZH).get_data(as_text=True)
    assert f"您的借阅申请 {borrow.number} 被驳回:用途不明确" in inbox and 'class="count-badge"' in inbox
    english = staff.get("/inbox/?lang=en").get_data(as_text=True)
    assert f"Your borrow request {borrow.number} was rejected: 用途不明确" in english
    [entry] = re.findall(r'id="entry-(\d+)"', english)
    opened = staff.post(f"/inbox/{entry}/open")
    assert opened.status_code == 302 and opened.headers["Location"] == f"/borrow/{borrow.id}"
    assert 'class="count-badge"' not in staff.get("/inbox/").get_data(as_text=True)


def meta_token(client: FlaskClient, path: str) -> str:
    """The page's CSRF token (base.html's meta tag, the same value the forms carry)."""
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def csrf_client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": meta_token(client, "/login")})
    return client


def test_the_forms_refuse_a_post_without_the_csrf_token(
        make_app, web_archive: Archive, confidential: SimpleNamespace) -> None:  # noqa: ANN001
    app = make_app({"TESTING": True})  # CSRF on
    staff = csrf_client(app, "staff_kf")
    assert ask(staff, confidential.code).status_code == 400  # no token
    with web_archive.uow() as uow:
        assert uow.session.query(BorrowRequest).count() == 0
    form = staff.get("/borrow/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # the form's own hidden field
    assert ask(staff, confidential.code, csrf_token=token).status_code == 302
    borrow = request_of(web_archive, "staff_kf")

    head = csrf_client(app, "approver")
    assert head.post(f"/borrow/{borrow.id}/decision", data={"approve": "yes"}).status_code == 400
    assert head.post(f"/api/v1/borrow-requests/{borrow.id}/decision", json={"approve": True}).status_code == 400
    assert head.post("/inbox/read", data={"all": "yes"}).status_code == 400
    assert request_of(web_archive, "staff_kf").status == "pending"
    decided = head.post(f"/api/v1/borrow-requests/{borrow.id}/decision", json={"approve": True},
                        headers={"X-CSRFToken": meta_token(head, "/inbox/")})
    assert decided.status_code == 200 and decided.get_json() == {"status": "pending"}


def test_denials_are_answered_403_change_nothing_and_are_audited(
        app: Flask, login_as, web_archive: Archive, confidential: SimpleNamespace) -> None:  # noqa: ANN001
    staff = client_as(app, login_as, "staff_kf")
    ask(staff, confidential.code)
    borrow = request_of(web_archive, "staff_kf")
    before = len(audit_rows(web_archive, "access.denied"))

    assert staff.post(f"/borrow/{borrow.id}/decision", data={"approve": "yes"}).status_code == 403  # own request
    assert staff.get("/borrow/approvals").status_code == 403  # not an approver
    assert staff.get("/borrow/room").status_code == 403
    assert staff.get("/borrow/chains").status_code == 403
    other_head = client_as(app, login_as, "head_kf")  # the head of KF is not YX's head
    assert other_head.post(f"/borrow/{borrow.id}/decision", data={"approve": "yes"}).status_code == 403
    outsider = client_as(app, login_as, "staff")  # neither requester nor approver
    assert outsider.get(f"/borrow/{borrow.id}").status_code == 403
    assert outsider.get(f"/api/v1/borrow-requests/{borrow.id}").status_code == 403
    assert outsider.get(f"/api/v1/borrow-requests/{borrow.id}?lang=en").get_json() == {
        "error": {"code": "access_denied", "message": "You are not allowed to do this.", "field": None}}
    assert request_of(web_archive, "staff_kf").status == "pending"

    denied = audit_rows(web_archive, "access.denied")[before:]
    assert [e.actor_name for e in denied] == ["staff_kf", "staff_kf", "staff_kf", "staff_kf", "head_kf", "staff",
                                              "staff", "staff"]
    assert denied[4].target_type == "borrow_request" and denied[4].target_id == str(borrow.id)  # not its step
    assert all(e.outcome == "denied" for e in denied)


def test_the_json_api_asks_lists_decides_returns_and_reads_the_inbox(
        app: Flask, login_as, web_archive: Archive, confidential: SimpleNamespace, tmp_path: Path) -> None:  # noqa: ANN001
    internal = capture(web_archive, tmp_path, "i1", "internal")
    staff = client_as(app, login_as, "staff_kf")
    assert staff.post("/api/v1/borrow-requests", json={"codes": [internal.code], "mode": "view", "days": 99,
                                                       "purpose": "x"}).status_code == 400  # over borrow_max_days
    made = staff.post("/api/v1/borrow-requests", json={"codes": [internal.code], "mode": "download", "days": 2,
                                                       "purpose": "复印存档"})
    assert made.status_code == 201, made.get_data(as_text=True)
    number, request_id = made.get_json()["number"], made.get_json()["id"]
    [listed] = staff.get("/api/v1/borrow-requests").get_json()["requests"]
    assert listed["number"] == number and listed["status"] == "pending" and listed["items"] == []

    head = client_as(app, login_as, "approver")
    assert [r["number"] for r in head.get("/api/v1/borrow-requests?which=to_approve").get_json()["requests"]] == [number]
    assert head.get("/api/v1/borrow-requests?which=nonsense").status_code == 400
    detail = head.get(f"/api/v1/borrow-requests/{request_id}").get_json()
    assert [i["archive_code"] for i in detail["items"]] == [internal.code] and detail["awaiting_me"] is True
    assert head.post(f"/api/v1/borrow-requests/{request_id}/decision", json={"approve": True}).get_json() == {
        "status": "approved"}  # an internal record: the head's step only
    assert staff.get(f"/documents/{internal.id}/original").status_code == 200  # a download grant: a marked PDF

    entries = staff.get("/api/v1/inbox?lang=en").get_json()
    assert entries["unread"] == 1 and entries["entries"][0]["kind"] == "borrow.approved"
    assert entries["entries"][0]["text"].startswith(f"Your borrow request {number} was approved until")
    assert staff.post("/api/v1/inbox/read", json={}).get_json() == {"unread": 0}

    assert head.post(f"/api/v1/borrow-requests/{request_id}/return").status_code == 403  # not the borrower
    assert staff.post(f"/api/v1/borrow-requests/{request_id}/return").get_json() == {"status": "returned"}
    assert staff.get(f"/documents/{internal.id}").status_code == 404
    assert head.post(f"/api/v1/borrow-requests/{request_id}/revoke", json={"reason": "x"}).status_code == 400

    by_customer = staff.post("/api/v1/borrow-requests", json={
        "customer": "11010519491231002X", "types": ["supply_contract"], "mode": "view", "days": 1, "purpose": "核对"})
    assert by_customer.status_code == 201
    covered = head.get(by_customer.get_json()["url"]).get_json()
    assert sorted(i["archive_code"] for i in covered["items"]) == sorted([confidential.code, internal.code])
    assert covered["asked"]["customer"] != "11010519491231002X"  # kept masked


def test_an_approver_revokes_with_a_reason_and_delegates_to_another_head(
        app: Flask, login_as, web_archive: Archive, tmp_path: Path, room: None) -> None:  # noqa: ANN001
    internal = capture(web_archive, tmp_path, "i2", "internal")
    staff = client_as(app, login_as, "staff_kf")
    ask(staff, internal.code)
    borrow = request_of(web_archive, "staff_kf")
    head = client_as(app, login_as, "approver")
    head.post(f"/borrow/{borrow.id}/decision", data={"approve": "yes"})
    assert 'id="revoke"' in head.get(f"/borrow/{borrow.id}").get_data(as_text=True)
    head.post(f"/borrow/{borrow.id}/revoke", data={"reason": ""})
    assert request_of(web_archive, "staff_kf").status == "approved"  # a reason is required
    head.post(f"/borrow/{borrow.id}/revoke", data={"reason": "用途已完成"})
    assert request_of(web_archive, "staff_kf").status == "revoked"
    assert staff.get(f"/documents/{internal.id}").status_code == 404

    saved = head.post("/borrow/delegations", data={"to": "head_kf", "starts_on": "2026-12-01", "ends_on": "2026-12-10"})
    assert saved.status_code == 302
    desk = head.get("/borrow/approvals").get_data(as_text=True)
    assert "head_kf" in desk and "2026-12-10" in desk
    [delegated] = audit_rows(web_archive, "borrow.delegation_set")
    assert delegated.actor_name == "approver" and delegated.detail["delegate"] == "head_kf"
    refused = head.post("/borrow/delegations", data={"to": "manager", "starts_on": "2026-12-01",
                                                     "ends_on": "2026-12-10"})  # not the same capacity
    assert refused.status_code == 302 and len(audit_rows(web_archive, "borrow.delegation_set")) == 1


def test_the_archive_room_lends_an_original_and_takes_it_back(
        app: Flask, login_as, web_archive: Archive, tmp_path: Path, room: None, clock: SetClock) -> None:  # noqa: ANN001
    internal = capture(web_archive, tmp_path, "o1", "internal")
    staff = client_as(app, login_as, "staff_kf")
    ask(staff, internal.code, mode="original", days="2")
    borrow = request_of(web_archive, "staff_kf")
    client_as(app, login_as, "approver").post(f"/borrow/{borrow.id}/decision", data={"approve": "yes"})
    manager = client_as(app, login_as, "manager")
    room_page = manager.get("/borrow/room?lang=en").get_data(as_text=True)
    assert f'id="lend-{borrow.id}"' in room_page
    assert manager.post(f"/borrow/{borrow.id}/lend", data={"note": "柜台"}).status_code == 302
    clock.advance(days=3)
    login_as(manager, "manager")  # the session ended while the clock ran
    room_page = manager.get("/borrow/room?lang=en").get_data(as_text=True)
    assert f'id="lend-{borrow.id}"' not in room_page and internal.code in room_page
    [loan] = re.findall(r'id="loan-(\d+)" class="overdue"', room_page)[:1]
    assert internal.code in manager.get("/borrow/approvals").get_data(as_text=True)  # overdue on the desk too
    assert manager.post(f"/borrow/loans/{loan}/return").status_code == 302
    assert request_of(web_archive, "staff_kf").status == "returned"
    assert "No original in this list." in manager.get("/borrow/room?lang=en").get_data(as_text=True)


def test_the_security_administrator_decides_classification_changes_and_edits_a_chain(
        app: Flask, login_as, web_archive: Archive, confidential: SimpleNamespace) -> None:  # noqa: ANN001
    clerk = client_as(app, login_as, "clerk")
    page = clerk.get(f"/documents/{confidential.id}?lang=en").get_data(as_text=True)
    assert 'id="classification-change"' in page and 'for="change-reason"' in page
    assert 'id="classification-change"' not in client_as(app, login_as, "staff_secret").get(
        f"/documents/{confidential.id}").get_data(as_text=True)
    clerk.post(f"/classification/document/{confidential.id}", data={"level": "secret", "reason": "含商业秘密"})

    secadmin = client_as(app, login_as, "secadmin")
    listed = secadmin.get("/classification/?lang=en").get_data(as_text=True)
    [change] = re.findall(r'id="change-(\d+)"', listed)
    assert confidential.code in listed and "含商业秘密" in listed
    secadmin.post(f"/classification/{change}/decision", data={"approve": "no", "comment": ""})
    assert f'id="change-{change}"' in secadmin.get("/classification/").get_data(as_text=True)  # reason required
    secadmin.post(f"/classification/{change}/decision", data={"approve": "yes", "comment": "同意"})
    with web_archive.uow() as uow:
        assert uow.session.get(Document, confidential.id).classification == "secret"
    assert "classification.decided" in [e["kind"] for e in clerk.get("/api/v1/inbox").get_json()["entries"]]
    assert clerk.get("/classification/").status_code == 200  # explains where the outcome goes

    chains = secadmin.get("/borrow/chains?lang=zh_CN").get_data(as_text=True)
    assert 'id="chain-internal-out"' in chains and "部门负责人" in chains
    saved = secadmin.post("/borrow/chains/internal/out", data={"capacity_0": "department_head", "rule_0": "all",
                                                               "capacity_1": "archive_manager", "rule_1": "any"})
    assert saved.status_code == 302
    [changed] = audit_rows(web_archive, "borrow.chain_changed")
    assert changed.detail["after"] == [{"capacity": "department_head", "rule": "all"},
                                       {"capacity": "archive_manager", "rule": "any"}]
    assert secadmin.post("/borrow/chains/internal/out", data={}).status_code == 302  # no step: refused
    assert len(audit_rows(web_archive, "borrow.chain_changed")) == 1


def test_the_borrower_returns_from_the_list_and_the_security_administrator_revokes_from_the_overview(
        app: Flask, login_as, web_archive: Archive, tmp_path: Path, room: None) -> None:  # noqa: ANN001
    first, second = capture(web_archive, tmp_path, "r1", "internal"), capture(web_archive, tmp_path, "r2", "internal")
    staff = client_as(app, login_as, "staff_kf")
    head = client_as(app, login_as, "approver")
    ids = []
    for document in (first, second):
        ask(staff, document.code)
        ids.append(request_of(web_archive, "staff_kf").id)
        head.post(f"/borrow/{ids[-1]}/decision", data={"approve": "yes"})
    mine = staff.get("/borrow/?lang=en").get_data(as_text=True)
    assert mine.count('aria-label="Return JY-') == 2
    assert staff.post(f"/borrow/{ids[0]}/return").status_code == 302
    assert staff.get(f"/documents/{first.id}").status_code == 404
    assert staff.get(f"/documents/{second.id}").status_code == 200

    secadmin = client_as(app, login_as, "secadmin")
    overview = secadmin.get("/borrow/all?lang=en").get_data(as_text=True)
    assert f'id="request-{ids[0]}"' in overview and f'id="request-{ids[1]}"' in overview
    assert f'id="request-{ids[0]}"' not in secadmin.get("/borrow/all?which=active").get_data(as_text=True)
    assert staff.get("/borrow/all").status_code == 403
    detail = secadmin.get(f"/borrow/{ids[1]}").get_data(as_text=True)
    assert 'id="revoke"' in detail and second.code in detail
    secadmin.post(f"/borrow/{ids[1]}/revoke", data={"reason": "安全检查"})
    assert staff.get(f"/documents/{second.id}").status_code == 404
    [ended] = [e for e in audit_rows(web_archive, "borrow.ended") if e.detail["reason"] == "revoked"]
    assert ended.actor_name == "secadmin" and ended.detail["comment"] == "安全检查"
    assert 'id="revoke"' not in client_as(app, login_as, "head_kf").get(f"/borrow/{ids[1]}").get_data(as_text=True)


def test_the_form_shows_what_the_service_refused_and_keeps_what_was_typed(
        app: Flask, login_as, web_archive: Archive, confidential: SimpleNamespace) -> None:  # noqa: ANN001
    staff = client_as(app, login_as, "staff_kf")
    for fields, reason in (({"purpose": ""}, "what the borrowing is for"), ({"days": "31"}, "1 to 30 days"),
                           ({"codes": "", "purpose": "查阅"}, "Name archive codes")):
        answer = staff.post("/borrow/new?lang=en", data={"codes": confidential.code, "purpose": "查阅", "mode": "view",
                                                         "days": "3", **fields})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 400 and reason in html and 'role="alert"' in html, fields
        assert 'value="view" id="mode-view" checked' in html
    with web_archive.uow() as uow:
        assert uow.session.query(BorrowRequest).count() == 0
    assert "borrow.requested" not in {e.event_type for e in audit_rows(web_archive, "borrow.requested")}


def test_with_discovery_a_hit_outside_ones_access_offers_only_the_request_link(
        tmp_path: Path, login_as) -> None:  # noqa: ANN001
    from archive_fixtures import build_archive

    from web import create_app

    archive = build_archive(tmp_path / "discovery", extra_env={"ARCHIVE_BORROW_DISCOVERY": "true"})
    try:
        hidden = capture(archive, tmp_path, "d1", "confidential")
        client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, archive=archive).test_client()
        login_as(client, "staff_kf")
        html = client.get("/search/?q=增容&lang=en").get_data(as_text=True)
        assert "Outside your access" in html and hidden.code in html
        assert f'href="/documents/{hidden.id}"' not in html  # no link to a page that would refuse
        assert f'href="/borrow/new?code={hidden.code}"' in html.replace("%C2%B7", "·")
    finally:
        archive.close()


def test_a_denied_download_says_why_and_offers_to_borrow_only_a_document_the_user_may_know(
        app: Flask, login_as, web_archive: Archive, room: None, tmp_path: Path) -> None:  # noqa: ANN001
    internal = capture(web_archive, tmp_path, "i1", "internal")
    staff = client_as(app, login_as, "staff")  # YX, may view it, but business staff download nothing
    page = staff.get(f"/documents/{internal.id}?lang=zh_CN").get_data(as_text=True).replace("%C2%B7", "·")
    assert 'id="download-refused"' in page and "不能下载：您的角色不包含此权限。" in page
    assert f'href="/borrow/new?code={internal.code}&amp;mode=download"' in page
    answer = staff.get(f"/documents/{internal.id}/original?lang=zh_CN")
    html = answer.get_data(as_text=True).replace("%C2%B7", "·")
    assert answer.status_code == 403 and "您的角色不包含此权限" in html
    assert f'id="next-step" class="button" href="/borrow/new?code={internal.code}&amp;mode=download"' in html
    api = staff.get(f"/documents/{internal.id}/original?lang=en", headers={"Accept": "application/json"})
    assert api.status_code == 403
    assert api.get_json()["reason"] == "role"
    assert api.get_json()["next"].replace("%C2%B7", "·") == f"/borrow/new?code={internal.code}&mode=download"
    assert "Your role does not include this right." in api.get_json()["error"]["message"]
    form = staff.get(f"/borrow/new?code={internal.code}&mode=download").get_data(as_text=True)
    assert 'value="download" id="mode-download" checked' in form

    outsider = client_as(app, login_as, "staff_kf")  # KF: may not know the document exists
    hidden = outsider.get(f"/documents/{internal.id}/original", headers={"Accept": "application/json"})
    assert hidden.status_code == 403 and "next" not in hidden.get_json()  # the role, as before, but unnamed
    assert internal.code not in hidden.get_data(as_text=True).replace("%C2%B7", "·")
    assert outsider.get(f"/documents/{internal.id}/pages/1.png").status_code == 404  # another department's
    denials = [e for e in audit_rows(web_archive, "access.denied") if e.target_id == str(internal.id)]
    assert {e.actor_name for e in denials} == {"staff", "staff_kf"}  # both refusals are in the trail
