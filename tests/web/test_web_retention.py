"""The retention pages: each role's part, from a due record to the register, through the browser's forms."""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO

import pytest
from archive_fixtures import PASSWORD
from openpyxl import load_workbook
from sqlalchemy import select

from archive.actors import OPERATOR
from archive.models import AuditEvent, Document
from archive.ports import FixedClock
from archive.services import users
from retention.services.dispositions import add_period


@pytest.fixture
def retention_people(web_archive):  # noqa: ANN001, ANN201
    for username, role in (("records", "records_manager"), ("a1", "appraiser"), ("a2", "appraiser"),
                           ("leader", "leader")):
        users.create_user(web_archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department="YX", clearance="internal")


def as_user(app, login_as, username):  # noqa: ANN001, ANN201
    client = app.test_client()
    login_as(client, username)
    return client


def test_a_due_record_is_appraised_approved_and_destroyed_through_the_pages(
        app, web_archive, retention_people, login_as, upload, scan):
    clerk = as_user(app, login_as, "clerk")
    with scan("contract.png").open("rb") as handle:
        response = clerk.post("/api/v1/documents", content_type="multipart/form-data", data={
            "customer": "11010519491231002X", "customer_name": "张三", "document_type": "supply_contract",
            "files": (handle, "contract.png")})
    assert response.status_code == 201, response.get_data(as_text=True)
    code, document_id = (response.get_json()["documents"][0][key] for key in ("archive_code", "document_id"))
    assert web_archive.jobs.run_until(lambda: web_archive.jobs.pending() == 0, timeout=300)  # OCR
    page = clerk.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'id="filing"' in page and f"/documents/{document_id}/filing" in page
    clerk.post(f"/documents/{document_id}/filing", data={"archive_code": code})
    assert f"/documents/{document_id}/filing" not in clerk.get(f"/documents/{document_id}").get_data(as_text=True)
    records = as_user(app, login_as, "records")
    preview = records.post("/retention/schedules/supply_contract", data={
        "years": "1", "trigger": "filing_date", "action": "destroy"})
    moved = re.search(r'<p id="moved">(.*?)</p>', preview.get_data(as_text=True), re.S).group(1)
    assert preview.status_code == 200 and re.search(r"\b1\b", moved)  # the one captured contract moves
    saved = records.post("/retention/schedules/supply_contract", data={
        "years": "1", "trigger": "filing_date", "action": "destroy", "confirm": "yes"}, follow_redirects=True)
    assert saved.status_code == 200
    web_archive.clock = FixedClock(add_period(date.today(), 2, None))
    assert records.get("/retention/").status_code == 302  # two years on, the session has long timed out
    records = as_user(app, login_as, "records")
    page = records.get("/retention/").get_data(as_text=True)
    assert code in page and 'href="/retention/"' in page
    records.post("/retention/gather")
    for appraiser in ("a1", "a2"):
        as_user(app, login_as, appraiser).post("/retention/batches/1/votes",
                                               data={"archive_code": code, "decision": "destroy"})
    leader = as_user(app, login_as, "leader")
    assert leader.post("/retention/batches/1/decision", data={"approve": "yes"}).status_code == 302
    assert records.post("/retention/batches/1/destruction").status_code == 302
    with web_archive.uow() as uow:
        assert uow.session.scalar(select(Document.status).where(Document.archive_code == code)) == "shredded"
    register_page = leader.get("/retention/register").get_data(as_text=True)
    assert code in register_page
    workbook = load_workbook(BytesIO(leader.get("/retention/register.xlsx").data))
    assert list(workbook.active.iter_rows(values_only=True))[1][1] == code
    # The batch kept the register as a record: listed on the register page, downloadable as its sealed PDF.
    assert 'id="snapshots"' in register_page and "/retention/register/snapshots/1.pdf" in register_page
    assert "/retention/register/snapshots" not in register_page.split('id="snapshots"')[0]  # the leader keeps none
    kept = leader.get("/retention/register/snapshots/1.pdf")
    assert kept.status_code == 200 and kept.data.startswith(b"%PDF")
    assert leader.post("/retention/register/snapshots").status_code == 403
    assert records.post("/retention/register/snapshots").status_code == 302
    assert "/retention/register/snapshots/2.pdf" in records.get("/retention/register").get_data(as_text=True)


def test_staff_see_no_retention_pages_and_a_forged_post_is_refused_and_audited(
        app, web_archive, retention_people, login_as):
    staff = as_user(app, login_as, "staff")
    assert 'href="/retention/"' not in staff.get("/search/").get_data(as_text=True)
    assert staff.post("/retention/holds", data={"target_type": "customer", "ref": "11010519491231002X",
                                                "hold_type": "other", "reason": "x"}).status_code == 403
    assert staff.post("/retention/batches/1/destruction").status_code == 403
    with web_archive.uow() as uow:
        denied = list(uow.session.scalars(select(AuditEvent.detail).where(AuditEvent.event_type == "access.denied")))
    assert [d["permission"] for d in denied] == ["retention.hold_manage", "retention.disposition_execute"]


def test_staff_see_a_hold_on_the_document_page_read_only(app, client, web_archive, retention_people, login_as,
                                                         upload, scan):
    login_as(client, "clerk")
    document_id = upload(scan("form.png"), document_type="application_form")["documents"][0]["document_id"]
    records = as_user(app, login_as, "records")
    records.post("/retention/holds", data={"target_type": "customer", "ref": "11010519491231002X",
                                           "hold_type": "litigation", "reason": "诉讼 (2026)京01民初1号"})
    page = as_user(app, login_as, "staff").get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'class="hold"' in page and "诉讼 (2026)京01民初1号" in page
    assert "/retention/holds" not in page  # nothing to change it with


def test_a_schedule_with_words_for_years_is_refused_in_the_reader_language(
        app, web_archive, retention_people, login_as):  # noqa: ANN001
    records = as_user(app, login_as, "records")
    refused = records.post("/retention/schedules/supply_contract?lang=zh_CN", data={
        "years": "十", "trigger": "filing_date", "action": "destroy"}, follow_redirects=True)
    text = refused.get_data(as_text=True)
    assert "年 必须是整数。" in text and "invalid literal" not in text
