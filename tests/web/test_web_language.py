"""What a reader sees in their language: event and role labels, domain errors by code, unknown filter
values named, and one date format."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient

from archive import audit, registry
from archive.actors import Actor
from archive.bootstrap import Archive
from archive.compliance.alerts import DEFAULT_RULES
from archive.errors import ValidationError
from web.errors import translated
from web.labels import ALERT_RULE_LABELS, EVENT_LABELS, format_date, format_datetime
from web.support import ROLE_LABELS


def record(archive: Archive, event_type: str) -> None:
    actor = Actor(user_id=None, username="zhang", role="staff", remote_addr="10.0.0.5")
    with archive.session_factory() as session:
        audit.record(session, actor, event_type, target_type="document", target_id=7)
        session.commit()


def test_every_declared_event_role_and_alert_rule_has_a_label():
    assert set(registry.event_types()) - set(EVENT_LABELS) == set()
    assert set(registry.roles()) - set(ROLE_LABELS) == set()
    assert set(DEFAULT_RULES) == set(ALERT_RULE_LABELS)


def test_the_audit_desk_names_events_in_the_reader_language_and_keeps_the_code(client: FlaskClient, login_as,
                                                                             web_archive):
    record(web_archive, "page.image_viewed")
    login_as(client, "auditor")
    chinese = client.get("/audit-desk/?lang=zh_CN").get_data(as_text=True)
    assert '<td title="page.image_viewed">查看页面图像<br><span class="mono small">page.image_viewed</span>' in chinese
    assert '<option value="page.image_viewed" >查看页面图像</option>' in chinese
    english = client.get("/audit-desk/?lang=en").get_data(as_text=True)
    assert '<td title="page.image_viewed">Page image viewed<br>' in english
    log = client.get("/compliance/?lang=zh_CN").get_data(as_text=True)
    assert "查看页面图像" in log and "page.image_viewed" in log


def test_an_unknown_search_filter_value_is_named_in_the_api_and_the_page(client: FlaskClient, login_as):
    login_as(client, "staff")
    answer = client.get("/api/v1/search?q=合同&type=no_such_type")
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == "unknown_filter_value" and error["field"] == "type" and "no_such_type" in error["message"]
    page = client.get("/search/?q=合同&classification=ultra&lang=zh_CN")
    assert page.status_code == 400
    assert "筛选条件“密级”没有值“ultra”" in page.get_data(as_text=True)
    assert client.get("/api/v1/search?q=合同&year=20x6").get_json()["error"]["field"] == "year"
    assert client.get("/api/v1/search?q=合同&type=supply_contract&year=2026").status_code == 200


def test_an_unknown_list_filter_value_is_refused_not_an_empty_list(client: FlaskClient, login_as):
    login_as(client, "auditor")
    answer = client.get("/audit-desk/?event_type=page.nothing&lang=en")
    assert answer.status_code == 400
    assert "Unknown value “page.nothing” for the filter Event type." in answer.get_data(as_text=True)
    assert client.get("/audit-desk/?outcome=maybe").status_code == 400
    assert client.get("/audit-desk/?event_type=page.image_viewed&outcome=ok").status_code == 200


def test_a_domain_error_reads_in_chinese_without_its_english_text(app: Flask):
    error = ValidationError("the period is 1 to 30 days", code="borrow_days_range", params={"max": 30}, field="days")
    with app.test_request_context("/?lang=zh_CN"):
        app.preprocess_request()
        assert translated(error) == "借阅期限为 1 至 30 天。"
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert translated(error) == "The period is 1 to 30 days."


def test_reference_names_in_an_error_follow_the_reader_language(app: Flask):
    error = ValidationError("", code="below_type_minimum", params={
        "type_zh": "身份证复印件", "type_en": "ID copy", "minimum_zh": "内部", "minimum_en": "internal"})
    with app.test_request_context("/?lang=zh_CN"):
        app.preprocess_request()
        assert translated(error) == "身份证复印件的密级不得低于内部。"
    with app.test_request_context("/?lang=en"):
        app.preprocess_request()
        assert translated(error) == "A ID copy is classified at least internal."


def test_a_taken_username_is_refused_in_chinese_on_the_admin_page(client: FlaskClient, login_as):
    login_as(client, "admin")
    answer = client.post("/admin/users?lang=zh_CN", data={"username": "clerk", "display_name": "王五", "role": "staff",
                                                          "department": "YX", "clearance": "internal"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400 and "用户 clerk 已存在。" in text and "already exists" not in text


@pytest.mark.parametrize(("value", "shown"), [
    (datetime(2026, 12, 2, 14, 5, 9), "2026-12-02 14:05"),
    (datetime(2026, 12, 2, 22, 5, tzinfo=timezone(timedelta(hours=8))), "2026-12-02 14:05"),
    (datetime(2026, 12, 2, 14, 5, tzinfo=UTC), "2026-12-02 14:05"),
    (None, "—"),
])
def test_a_moment_prints_as_iso_in_utc(value, shown):
    assert format_datetime(value) == shown


def test_a_day_prints_as_iso_and_seconds_only_when_asked():
    assert format_date(date(2026, 3, 4)) == "2026-03-04"
    assert format_date(datetime(2026, 3, 4, 23, 30, tzinfo=timezone(timedelta(hours=-2)))) == "2026-03-05"
    assert format_datetime(datetime(2026, 3, 4, 1, 2, 3), seconds=True) == "2026-03-04 01:02:03"


def test_no_template_formats_a_date_by_itself():
    """Every date goes through the |datetime or |day filter (web/labels.py), so the format lives in one place."""
    from pathlib import Path

    templates = Path(__file__).parents[2] / "web" / "templates"
    offenders = [str(path.relative_to(templates)) for path in templates.rglob("*.html")
                 if re.search(r"strftime|isoformat\(", path.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_borrow_overview_refuses_an_unknown_which(client: FlaskClient, login_as):
    login_as(client, "staff")
    answer = client.get("/borrow/all?which=everything&lang=en")
    assert answer.status_code == 400 and "everything" in answer.get_data(as_text=True)


def test_a_bad_date_or_number_argument_is_named_in_the_reader_language(client: FlaskClient, login_as):
    login_as(client, "staff")
    error = client.get("/api/v1/search?q=合同&from=2026-13-45&lang=en").get_json()["error"]
    assert error == {"code": "not_a_date", "message": "From is not a date (YYYY-MM-DD).", "field": "from"}
    error = client.get("/api/v1/search?q=合同&limit=many&lang=zh_CN").get_json()["error"]
    assert error["code"] == "not_a_number" and error["message"] == "条数上限 必须是整数。"


def test_a_filing_refusal_reads_in_the_reader_language(client: FlaskClient, login_as, scan):
    """Filing's reasons carry codes: the page's notice and the API's answer are translated, not English."""
    login_as(client, "clerk")
    with scan("form.png").open("rb") as handle:
        captured = client.post("/api/v1/documents", content_type="multipart/form-data", data={
            "customer": "11010519491231002X", "customer_name": "张三", "document_type": "supply_contract",
            "files": (handle, "form.png")})
    assert captured.status_code == 201, captured.get_data(as_text=True)
    code, document_id = (captured.get_json()["documents"][0][key] for key in ("archive_code", "document_id"))
    refused = client.post("/api/v1/documents/filing", json={"archive_codes": [code]}).get_json()["refused"]
    assert refused == {code: "OCR 识别尚未完成。"}  # the worker has not run: OCR is pending
    page = client.post(f"/documents/{document_id}/filing", data={"archive_code": code},
                       follow_redirects=True).get_data(as_text=True)
    assert "OCR 识别尚未完成" in page and "has not finished" not in page
    client.get("/?lang=en")
    refused = client.post("/api/v1/documents/filing", json={"archive_codes": [code]}).get_json()["refused"]
    assert refused == {code: "OCR has not finished yet."}
