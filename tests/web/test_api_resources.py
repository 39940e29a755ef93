"""The API's resources beyond documents and borrowing (issue 15 item 8): customers, the audit desk,
administration, retention, classification changes, reports, the account review and compliance. Each as
the role that may and one that may not, over the same services as the pages (and their audit)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from archive_fixtures import OPERATOR, PASSWORD, captured
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from archive.bootstrap import Archive
from archive.models import AuditEvent
from archive.services import users


@pytest.fixture
def more_people(web_archive: Archive) -> None:
    for username, role in (("records", "records_manager"), ("secadmin", "security_admin")):
        users.create_user(web_archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department="YX", clearance="secret")


@pytest.fixture
def as_user(app: Flask, login_as: Callable[..., None]) -> Callable[[str], FlaskClient]:
    def client_for(username: str) -> FlaskClient:
        client = app.test_client()
        login_as(client, username)
        return client

    return client_for


def events(archive: Archive, event_type: str) -> list[SimpleNamespace]:
    """The audit events of a type, oldest first (their target and detail)."""
    with archive.uow() as uow:
        return [SimpleNamespace(target_type=e.target_type, detail=dict(e.detail or {})) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == event_type).order_by(AuditEvent.id))]


def clerk_actor(archive: Archive):  # noqa: ANN201
    return users.resolve_actor(archive.uow(), username="clerk")


def test_customers_are_listed_by_cursor_and_shown_with_the_id_number_masked_unless_allowed(
        web_archive: Archive, as_user: Callable[[str], FlaskClient], tmp_path) -> None:  # noqa: ANN001
    captured(web_archive, clerk_actor(web_archive), tmp_path, "one")
    captured(web_archive, clerk_actor(web_archive), tmp_path, "two", customer="110101199003071233")
    clerk, auditor = as_user("clerk"), as_user("auditor")

    first = clerk.get("/api/v1/customers?limit=1").get_json()
    second = clerk.get(f"/api/v1/customers?limit=1&cursor={first['next_cursor']}").get_json()
    shown = clerk.get(f"/api/v1/customers/{first['customers'][0]['id']}")

    assert first["next_cursor"] and second["next_cursor"] is None
    assert {first["customers"][0]["id"], second["customers"][0]["id"]} == {c["id"] for c in clerk.get(
        "/api/v1/customers").get_json()["customers"]}
    assert shown.status_code == 200
    customer = shown.get_json()["customer"]
    assert customer["summary"]["name"] == "张伟" and customer["dossiers"] + customer["loose_documents"]
    assert "11010519491231002X" not in auditor.get("/api/v1/customers").get_data(as_text=True)
    assert auditor.get(f"/api/v1/customers/{first['customers'][0]['id']}").status_code in (403, 404)
    assert clerk.get("/api/v1/customers/999999").get_json()["error"]["code"]


def test_the_audit_trail_is_the_auditors_and_each_query_is_audited(
        web_archive: Archive, as_user: Callable[[str], FlaskClient]) -> None:
    auditor, clerk = as_user("auditor"), as_user("clerk")
    before = len(events(web_archive, "audit.viewed"))

    page = auditor.get("/api/v1/audit/events?limit=1")
    following = auditor.get(f"/api/v1/audit/events?limit=1&cursor={page.get_json()['next_cursor']}")
    stats = auditor.get("/api/v1/audit/statistics?since=2020-01-01")

    assert page.status_code == 200 and len(page.get_json()["events"]) == 1
    assert following.get_json()["events"][0]["seq"] < page.get_json()["events"][0]["seq"]
    assert stats.status_code == 200 and any(s["user"] == "auditor" for s in stats.get_json()["statistics"])
    assert auditor.get("/api/v1/audit/status").get_json()["head_seq"] > 0
    assert len(events(web_archive, "audit.viewed")) >= before + 3
    assert clerk.get("/api/v1/audit/events").status_code == 403
    assert auditor.get("/api/v1/audit/statistics?since=0001-01-01").status_code == 400


def test_an_alert_is_acknowledged_with_a_comment(web_archive: Archive, as_user: Callable[[str], FlaskClient]) -> None:
    from archive.compliance.models import AuditAlert

    with web_archive.uow() as uow:
        alert = AuditAlert(fingerprint="t1", rule="off_hours", subject="clerk", summary="凌晨访问",
                           evidence={"events": 3}, raised_at=datetime(2026, 1, 2, 3, tzinfo=UTC))
        uow.session.add(alert)
        uow.commit()
        alert_id = alert.id
    auditor = as_user("auditor")

    listed = auditor.get("/api/v1/audit/alerts").get_json()["alerts"]
    refused = auditor.post(f"/api/v1/audit/alerts/{alert_id}/acknowledge", json={"comment": " "})
    done = auditor.post(f"/api/v1/audit/alerts/{alert_id}/acknowledge", json={"comment": "值班核实"})

    assert [a["id"] for a in listed] == [alert_id]
    assert refused.status_code == 400
    assert done.status_code == 200 and done.get_json()["alert"]["acknowledged_by"] == "auditor"
    assert auditor.get("/api/v1/audit/alerts").get_json()["alerts"] == []
    assert auditor.get("/api/v1/audit/alerts?all=true").get_json()["alerts"][0]["comment"] == "值班核实"
    assert len(events(web_archive, "audit.alert_acknowledged")) == 1
    assert as_user("clerk").post(f"/api/v1/audit/alerts/{alert_id}/acknowledge",
                                 json={"comment": "x"}).status_code == 403


def test_the_system_administrator_manages_accounts_and_reference_data(
        web_archive: Archive, more_people: None, as_user: Callable[[str], FlaskClient]) -> None:
    admin, clerk, secadmin = as_user("admin"), as_user("clerk"), as_user("secadmin")

    created = admin.post("/api/v1/admin/users", json={"username": "newbie", "role": "approver", "department": "YX"})
    body = created.get_json()
    page = admin.get("/api/v1/admin/users?limit=2").get_json()
    approvals = secadmin.get("/api/v1/admin/approvals").get_json()["requests"]

    assert created.status_code == 201 and body["one_time_password"] and body["change_request_id"]
    assert len(page["users"]) == 2 and page["next_cursor"]
    assert [r["username"] for r in approvals] == ["newbie"]
    assert secadmin.post(f"/api/v1/admin/approvals/{body['change_request_id']}/approve").status_code == 204
    assert admin.post(f"/api/v1/admin/users/{body['id']}/reset-password").get_json()["one_time_password"]
    assert admin.post(f"/api/v1/admin/users/{body['id']}/deactivate").status_code == 204
    assert admin.post(f"/api/v1/admin/users/{body['id']}/unlock").status_code == 204
    assert clerk.get("/api/v1/admin/users").status_code == 403
    assert clerk.post("/api/v1/admin/users", json={"username": "x", "role": "staff"}).status_code == 403
    assert [e.detail["username"] for e in events(web_archive, "user.created")][-1] == "newbie"

    saved = admin.put("/api/v1/admin/reference/department", json={"code": "ZZ", "name": "综合部"})
    wrong = admin.put("/api/v1/admin/reference/retention_period",
                      json={"code": "P9", "name_zh": "九年", "name_en": "Nine", "years": "nine", "archive_code": "9"})
    data = admin.get("/api/v1/admin/reference").get_json()

    assert saved.status_code == 204
    assert "ZZ" in {d["code"] for d in data["departments"]} and data["checklists"]
    assert wrong.status_code == 400 and wrong.get_json()["error"]["field"] == "years"
    assert [e.detail["after"]["name"] for e in events(web_archive, "reference.changed")
            if e.target_type == "department"] == ["综合部"]
    assert clerk.get("/api/v1/admin/reference").status_code == 403

    moved = admin.post(f"/api/v1/admin/users/{body['id']}/department", json={"department": "ZZ"})
    # the reset above dropped newbie to staff/internal, so the move is at once (tests/unit/test_account_moves.py)
    assert (moved.status_code, moved.get_json()) == (200, {"change_request_id": None})
    assert [(e.detail["before"], e.detail["after"]) for e in events(web_archive, "user.department_changed")] == [
        ("YX", "ZZ")]
    off = admin.put("/api/v1/admin/reference/department/ZZ/active", json={"active": False})
    not_bool = admin.put("/api/v1/admin/reference/department/ZZ/active", json={"active": "no"})
    assert (off.status_code, not_bool.status_code) == (204, 400)
    assert [e.detail["after"]["active"] for e in events(web_archive, "reference.changed")
            if e.target_type == "department"][-1] is False
    assert clerk.post(f"/api/v1/admin/users/{body['id']}/department", json={"department": "YX"}).status_code == 403


def test_a_records_manager_places_and_releases_a_hold(
        web_archive: Archive, more_people: None, as_user: Callable[[str], FlaskClient], tmp_path) -> None:  # noqa: ANN001
    document = captured(web_archive, clerk_actor(web_archive), tmp_path, "held")
    records, clerk = as_user("records"), as_user("clerk")

    placed = records.post("/api/v1/retention/holds", json={"target_type": "document", "ref": document.code,
                                                           "hold_type": "litigation", "reason": "诉讼 2026-01"})
    hold_id = placed.get_json()["id"]
    listed = records.get("/api/v1/retention/holds").get_json()["holds"]
    released = records.post(f"/api/v1/retention/holds/{hold_id}/release", json={"reason": "结案"})

    assert placed.status_code == 201 and [h["target_label"] for h in listed] == [document.code]
    assert released.status_code == 204
    assert records.get("/api/v1/retention/holds").get_json()["holds"] == []
    assert records.get("/api/v1/retention/holds?all=true").get_json()["holds"][0]["released_at"]
    assert len(events(web_archive, "retention.hold_placed")) == len(events(web_archive, "retention.hold_released")) == 1
    assert records.post(f"/api/v1/retention/holds/{hold_id}/release", json={"reason": "again"}).status_code == 400
    assert records.get("/api/v1/retention/batches").get_json() == {"batches": [], "next_cursor": None}
    assert records.get("/api/v1/retention/schedules").get_json()["schedules"]
    assert records.get("/api/v1/retention/due").get_json() == {"records": [], "next_cursor": None}
    assert clerk.post("/api/v1/retention/holds", json={"target_type": "document", "ref": document.code,
                                                       "hold_type": "litigation", "reason": "x"}).status_code == 403


def test_a_classification_change_is_asked_and_decided_by_a_second_person(
        web_archive: Archive, more_people: None, as_user: Callable[[str], FlaskClient], tmp_path) -> None:  # noqa: ANN001
    document = captured(web_archive, clerk_actor(web_archive), tmp_path, "raise")
    clerk, secadmin = as_user("clerk"), as_user("secadmin")

    asked = clerk.post("/api/v1/classification-changes", json={"target_type": "document", "target_id": document.id,
                                                               "level": "secret", "reason": "含商业秘密"})
    change_id = asked.get_json()["id"]
    pending = secadmin.get("/api/v1/classification-changes").get_json()["changes"]

    assert asked.status_code == 201 and [c["id"] for c in pending] == [change_id]
    assert clerk.get("/api/v1/classification-changes").status_code == 403
    assert secadmin.post(f"/api/v1/classification-changes/{change_id}/decision",
                         json={"approve": False}).status_code == 400  # a rejection says why
    assert secadmin.post(f"/api/v1/classification-changes/{change_id}/decision",
                         json={"approve": True}).status_code == 204
    assert secadmin.get("/api/v1/classification-changes?status=approved").get_json()["changes"][0]["after"] == "secret"
    assert len(events(web_archive, "classification.change_requested")) == 1


def test_a_report_answers_its_figures_as_json_and_is_audited(
        web_archive: Archive, as_user: Callable[[str], FlaskClient], tmp_path) -> None:  # noqa: ANN001
    captured(web_archive, clerk_actor(web_archive), tmp_path, "counted")
    approver, clerk = as_user("approver"), as_user("clerk")

    listed = approver.get("/api/v1/reports").get_json()["reports"]
    holdings = approver.get("/api/v1/reports/holdings?lang=en").get_json()

    assert "holdings" in {r["name"] for r in listed}
    assert holdings["title"] == "Holdings: dossiers, documents and pages"
    assert {"documents": 1}.items() <= {f["key"]: f["value"] for f in holdings["figures"]}.items()
    assert events(web_archive, "report.viewed")
    assert clerk.get("/api/v1/reports").get_json()["reports"] == []
    assert clerk.get("/api/v1/reports/holdings").status_code == 403
    assert approver.get("/api/v1/reports/nothing").status_code == 404


def test_the_security_administrator_runs_an_account_review(
        web_archive: Archive, more_people: None, as_user: Callable[[str], FlaskClient]) -> None:
    secadmin = as_user("secadmin")

    started = secadmin.post("/api/v1/account-review/reviews", json={"days": 1})
    review = secadmin.get(started.get_json()["url"]).get_json()
    again = secadmin.post("/api/v1/account-review/reviews", json={})
    listed = secadmin.get("/api/v1/account-review/reviews").get_json()["reviews"]

    assert started.status_code == 201 and review["review"]["status"] == "open" and review["intact"] is None
    assert again.status_code == 400  # one review open at a time
    assert [r["id"] for r in listed] == [started.get_json()["id"]]
    item = next(i for i in review["review"]["items"] if i["username"] == "staff")
    decided = secadmin.post(f"/api/v1/account-review/reviews/{review['review']['id']}/accounts/{item['user_id']}",
                            json={"decision": "confirm"})
    assert decided.status_code == 204
    assert secadmin.get("/api/v1/account-review/inactive?days=1").status_code == 200
    assert as_user("clerk").get("/api/v1/account-review/reviews").status_code == 403
    assert events(web_archive, "account_review.started")


def test_the_compliance_reports_are_the_auditors(web_archive: Archive, as_user: Callable[[str], FlaskClient]) -> None:
    auditor = as_user("auditor")

    assert auditor.get("/api/v1/compliance/checks").get_json() == {"reports": [], "next_cursor": None}
    assert auditor.get("/api/v1/compliance/fixity").get_json() == {"fixity": None}
    assert auditor.get("/api/v1/compliance/checks/1").status_code == 404
    assert as_user("clerk").get("/api/v1/compliance/fixity").status_code == 403


def test_the_archive_room_and_the_approval_chains_and_delegations(
        web_archive: Archive, more_people: None, as_user: Callable[[str], FlaskClient]) -> None:
    secadmin, records, approver, clerk = as_user("secadmin"), as_user("records"), as_user("approver"), as_user("clerk")

    found = secadmin.get("/api/v1/borrow-chains").get_json()["chains"]
    chain = next(c for c in found if c["classification"] == "secret" and not c["in_department"])
    saved = secadmin.put("/api/v1/borrow-chains/secret/out", json={"steps": [{"capacity": "leader", "rule": "all"}]})
    wrong = secadmin.put("/api/v1/borrow-chains/secret/out", json={"steps": [{"capacity": "nobody"}]})

    assert chain["steps"]
    assert saved.status_code == 204 and wrong.status_code == 400
    again = next(c for c in secadmin.get("/api/v1/borrow-chains").get_json()["chains"]
                 if c["classification"] == "secret" and not c["in_department"])
    assert again["steps"] == [{"capacity": "leader", "rule": "all"}]
    assert clerk.get("/api/v1/borrow-chains").status_code == 403

    assert records.get("/api/v1/loans").get_json() == {"loans": [], "next_cursor": None}
    assert records.post("/api/v1/loans/999/return").status_code == 404
    assert clerk.get("/api/v1/loans").status_code == 403

    refused = approver.post("/api/v1/borrow-delegations", json={"to": "nobody", "starts_on": "2026-01-01",
                                                                "ends_on": "2026-01-31"})
    assert refused.status_code in (400, 404)
    assert approver.get("/api/v1/borrow-delegations").get_json() == {"delegations": [], "next_cursor": None}
    assert approver.post("/api/v1/borrow-delegations", json={"to": "x", "starts_on": "soon",
                                                             "ends_on": "2026-01-31"}).status_code == 400


def test_schedules_are_previewed_then_saved_and_the_register_kept_and_transfers_listed(
        web_archive: Archive, more_people: None, as_user: Callable[[str], FlaskClient], tmp_path) -> None:  # noqa: ANN001
    captured(web_archive, clerk_actor(web_archive), tmp_path, "scheduled")
    records, clerk = as_user("records"), as_user("clerk")
    change = {"years": 5, "trigger": "filing_date", "action": "review"}

    preview = records.put("/api/v1/retention/schedules/supply_contract", json=change)
    saved = records.put("/api/v1/retention/schedules/supply_contract", json=change | {"confirm": True})
    kept = records.post("/api/v1/retention/register/snapshots")

    assert preview.status_code == 200 and preview.get_json()["saved"] is False
    assert saved.get_json()["saved"] is True and saved.get_json()["after"]["years"] == 5
    assert len(events(web_archive, "retention.schedule_changed")) == 1  # the preview changes nothing
    assert kept.status_code == 201 and kept.get_json()["entries"] == 0
    assert [s["id"] for s in records.get("/api/v1/retention/register/snapshots").get_json()["snapshots"]] == [
        kept.get_json()["id"]]
    assert records.get("/api/v1/retention/transfers").get_json() == {"transfers": [], "next_cursor": None}
    refused = records.post("/api/v1/retention/transfers", json={"archive_codes": ["NO-SUCH"], "to_department": "KF"})
    assert refused.status_code in (400, 404) and refused.get_json()["error"]["code"]
    assert records.put("/api/v1/retention/schedules/supply_contract",
                       json={"trigger": "event", "action": "review"}).status_code == 400  # no event named
    assert clerk.put("/api/v1/retention/schedules/supply_contract", json=change).status_code == 403
    assert clerk.post("/api/v1/retention/register/snapshots").status_code == 403


def test_the_views_by_dossier_and_work_order_list_only_what_the_caller_may_see(
        web_archive: Archive, as_user: Callable[[str], FlaskClient], tmp_path) -> None:  # noqa: ANN001
    captured(web_archive, clerk_actor(web_archive), tmp_path, "filed", dossier="2026 供用电合同卷")
    clerk, kf = as_user("clerk"), as_user("staff_kf")

    groups = clerk.get("/api/v1/dossiers").get_json()["groups"]
    one = clerk.get(f"/api/v1/dossiers?dossier={groups[0]['dossier_id']}&limit=1").get_json()

    assert [g["key"] for g in groups] == ["2026 供用电合同卷"] and groups[0]["documents"]
    assert one["groups"][0]["dossier_id"] == groups[0]["dossier_id"] and one["next_cursor"] is None
    assert kf.get("/api/v1/dossiers").get_json()["groups"] == []  # another department's
    assert clerk.get("/api/v1/work-orders?work_order=WO-1").get_json() == {"groups": [], "next_cursor": None}


def test_the_customers_missing_a_required_document_page_by_cursor(
        web_archive: Archive, as_user: Callable[[str], FlaskClient], tmp_path) -> None:  # noqa: ANN001
    captured(web_archive, clerk_actor(web_archive), tmp_path, "a")
    captured(web_archive, clerk_actor(web_archive), tmp_path, "b", customer="110101199003071233")
    clerk = as_user("clerk")

    first = clerk.get("/api/v1/customers/gaps?limit=1").get_json()
    second = clerk.get(f"/api/v1/customers/gaps?limit=1&cursor={first['next_cursor']}").get_json()

    assert first["total"] == second["total"] == 2
    assert first["customers"][0]["missing_types"] and second["next_cursor"] is None
    assert first["customers"][0]["id"] != second["customers"][0]["id"]
    assert as_user("auditor").get("/api/v1/customers/gaps").status_code == 403
    assert as_user("staff_kf").get("/api/v1/customers/gaps").get_json()["total"] == 0  # another department


def test_a_token_client_downloads_the_original_and_a_page_image_audited(
        web_archive: Archive, app: Flask, tmp_path) -> None:  # noqa: ANN001
    from archive.api_tokens import services as tokens

    document = captured(web_archive, clerk_actor(web_archive), tmp_path, "fetched")
    secrets = {name: tokens.create_api_token(web_archive.uow(), actor=users.resolve_actor(web_archive.uow(), username=name),
                                             name="files", scope="read", days=7).secret for name in ("clerk", "staff_kf")}
    client = app.test_client()

    def get(path: str, who: str):  # noqa: ANN202
        return client.get(path, headers={"Authorization": f"Bearer {secrets[who]}"})

    original = get(f"/api/v1/documents/{document.id}/original", "clerk")
    image = get(f"/api/v1/documents/{document.id}/pages/1.png", "clerk")

    assert original.status_code == 200 and original.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "attachment" in original.headers["Content-Disposition"]
    assert image.status_code == 200 and image.mimetype == "image/png"
    assert events(web_archive, "document.downloaded")[-1].detail.get("api_token")
    assert get(f"/api/v1/documents/{document.id}/original", "staff_kf").status_code in (403, 404)
    assert client.get(f"/api/v1/documents/{document.id}/original").status_code == 401
