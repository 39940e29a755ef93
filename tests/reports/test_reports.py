"""The reports: each figure against counts made here from what the fixture inserted (not through the
reports' queries), the viewer's scope, the Excel workbook, the pages, the audit."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from report_data import NOW, RANK, TODAY, add_report_people, build_dataset, record_access
from sqlalchemy import select

from archive.errors import AccessDenied
from archive.models import AuditEvent
from archive.reports import services
from archive.reports.views import ReportParameters
from archive.services import users
from archive.services.reference import defaults


def actor(archive, username):  # noqa: ANN001, ANN201
    return users.resolve_actor(archive.uow(), username=username)


def run(archive, username, name, **parameters):  # noqa: ANN001, ANN201
    return services.run_report(archive.uow(), actor=actor(archive, username), name=name,
                               parameters=ReportParameters(**parameters))


def as_dict(table, key_columns=1):  # noqa: ANN001, ANN201
    return {row[:key_columns] if key_columns > 1 else row[0]: row[key_columns:] for row in table.rows}


def year(doc):  # noqa: ANN001, ANN201
    return str((doc["document_date"] or doc["captured_at"]).year)


def expected_holdings(dataset, departments, clearance):  # noqa: ANN001, ANN201
    """(documents seen, by type, by department, by year, pages): documents and pages by the document's type,
    department and year; dossiers (no type) by their department and the year they were opened (now)."""
    seen = [d for d in dataset.documents if dataset.visible(d, departments, clearance)]
    pages = Counter(p["document_id"] for p in dataset.pages)
    codes = {i: code for code, i in dataset.departments.items()}

    def breakdown(key, with_dossiers):  # noqa: ANN001, ANN202
        found = {}
        for value in {key(d) for d in seen}:
            group = [d for d in seen if key(d) == value]
            counts = (len(group), sum(pages[d["id"]] for d in group))
            found[value] = ((len({d["dossier_id"] for d in group if d["dossier_id"]}), *counts)
                            if with_dossiers else counts)
        return found

    by_year = {y: (0, *counts) for y, counts in breakdown(year, False).items()}
    opened = str(datetime.now(UTC).year)
    dossiers = len({d["dossier_id"] for d in seen if d["dossier_id"]})
    by_year[opened] = (dossiers, *by_year.get(opened, (0, 0, 0))[1:])
    return seen, breakdown(lambda d: d["document_type"], False), \
        breakdown(lambda d: codes[d["department_id"]], True), by_year, sum(pages[d["id"]] for d in seen)


@pytest.mark.parametrize(("username", "departments", "clearance"), [
    ("approver", {"YX"}, "secret"), ("approver_kf", {"KF"}, "internal"), ("records", None, "confidential"),
    ("leader", None, "secret")])
def test_holdings_match_the_documents_each_viewer_may_see(web_archive, dataset, username, departments, clearance):
    report = run(web_archive, username, "holdings")
    seen, by_type, by_department, by_year, pages = expected_holdings(dataset, departments, clearance)
    assert as_dict(report.table("by_type")) == by_type
    assert as_dict(report.table("by_department")) == by_department
    assert as_dict(report.table("by_year")) == by_year
    assert report.figure("documents") == len(seen) and report.figure("pages") == pages
    assert report.figure("dossiers") == len({d["dossier_id"] for d in seen if d["dossier_id"]})
    assert report.scope.departments == (None if departments is None else tuple(sorted(departments)))


def test_a_head_of_another_department_sees_other_numbers(web_archive, dataset):
    yx, kf = run(web_archive, "approver", "holdings"), run(web_archive, "approver_kf", "holdings")
    assert yx.figure("documents") != kf.figure("documents")
    assert {row[0] for row in yx.table("by_department").rows} == {"YX"}
    assert {row[0] for row in kf.table("by_department").rows} == {"KF"}


def test_staff_and_clerks_hold_no_report_and_the_denial_is_audited(web_archive, dataset):
    with pytest.raises(AccessDenied):
        run(web_archive, "staff", "holdings")
    with pytest.raises(AccessDenied):
        run(web_archive, "approver", "access")
    with web_archive.session_factory() as session:
        denied = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "access.denied")).all()
    assert [e.actor_name for e in denied] == ["staff", "approver"]


def test_coverage_counts_each_required_document_and_lists_the_gaps(web_archive, dataset):
    report = run(web_archive, "approver", "coverage")
    required = defaults()["required_document_types"]
    yx = dataset.departments["YX"]
    customers = [c for c in dataset.customers if c["department_id"] == yx]
    present = {c["id"]: {d["document_type"] for d in dataset.documents
                         if d["customer_id"] == c["id"] and dataset.visible(d, {"YX"}, "secret")} for c in customers}
    gaps = {str(c["id"]): tuple(t for t in required[c["kind"]] if t not in present[c["id"]]) for c in customers}
    gaps = {cid: missing for cid, missing in gaps.items() if missing}
    assert {row[0]: row[5] for row in report.table("gaps").rows} == gaps
    assert report.table("gaps").total_rows == len(gaps) == report.figure("customers_with_gaps")
    for kind, types in required.items():
        of_kind = [c for c in customers if c["kind"] == kind]
        for code in types:
            having = sum(1 for c in of_kind if code in present[c["id"]])
            row = next(r for r in report.table("by_required_type").rows if r[:2] == (kind, code))
            assert row[2:5] == (len(of_kind), having, len(of_kind) - having)
    assert report.figure("customers") == len(customers)


def test_rescan_counts_the_flagged_pages_and_the_trend(web_archive, dataset):
    report = run(web_archive, "approver", "rescan")
    seen = {d["id"]: d for d in dataset.documents if dataset.visible(d, {"YX"}, "secret")}
    flagged = [p for p in dataset.pages if p["rescan_needed"] and p["document_id"] in seen]
    expected = Counter(("YX", seen[p["document_id"]]["document_type"]) for p in flagged)
    assert {(d, t): n for d, t, n in report.table("open").rows} == expected
    versions = [v for v in dataset.versions if v["document_id"] in seen]
    trend = {month: (f, r) for month, f, r in report.table("trend").rows}
    assert trend["2026-06"][0] == len(flagged) + len(versions)  # all came in in June
    assert trend[(NOW - timedelta(days=40)).strftime("%Y-%m")][1] == len(versions)
    assert report.figure("pages_needing_rescan") == len(flagged)


def test_borrowing_counts_requests_approval_times_grants_and_overdue_originals(web_archive, dataset):
    report = run(web_archive, "approver", "borrowing")
    mine = [r for r in dataset.requests if dataset.visible(r["document"], {"YX"}, "secret")]
    assert report.figure("requests_12_months") == len(mine)
    statuses = Counter(r["status"] for r in mine)
    columns = [c.key for c in report.table("requests").columns]
    for status, n in statuses.items():
        assert sum(row[columns.index(status)] for row in report.table("requests").rows) == n
    decided = [r for r in mine if r["hours"] is not None]
    by_level: dict[str, list[float]] = {}
    for r in decided:
        by_level.setdefault(r["document"]["classification"], []).append(r["hours"])
    assert {row[0]: (row[1], row[2], row[3]) for row in report.table("approval_times").rows} == {
        level: (len(h), round(sum(h) / len(h), 1), round(max(h), 1)) for level, h in by_level.items()}
    grants = Counter(g["mode"] for g in dataset.grants if dataset.visible(g["document"], {"YX"}, "secret"))
    assert dict(report.table("active_grants").rows) == grants
    overdue = [loan for loan in dataset.loans
               if loan["due_on"] < TODAY and dataset.visible(loan["document"], {"YX"}, "secret")]
    assert [(row[0], row[6]) for row in report.table("overdue_loans").rows] == [
        (loan["number"], (TODAY - loan["due_on"]).days) for loan in overdue]
    assert report.figure("overdue_loans") == len(overdue) == 1


def test_disposition_counts_what_comes_due_within_twelve_months(web_archive, dataset):
    report = run(web_archive, "records", "disposition")
    horizon = TODAY.replace(year=TODAY.year + 1, day=1)
    due = [d for d in dataset.dispositions if d["due_on"] < horizon
           and dataset.visible(d["document"], None, "confidential")]
    assert report.figure("due_12_months") == len(due)
    assert report.figure("due_now") == sum(1 for d in due if d["due_on"] < TODAY)
    assert report.figure("held") == sum(1 for d in due if d["document"]["customer_id"] == dataset.held_customer)
    by_month = Counter(("due_now" if d["due_on"] < TODAY else d["due_on"].strftime("%Y-%m"), d["action"]) for d in due)
    columns = [c.key for c in report.table("by_month").columns]
    for row in report.table("by_month").rows:
        for action in ("review", "destroy", "transfer"):
            assert row[columns.index(action)] == by_month.get((row[0], action), 0)
    codes = {i: code for code, i in dataset.departments.items()}
    assert {d: n for d, n, _ in report.table("by_department").rows} == Counter(
        codes[d["document"]["department_id"]] for d in due)


def test_access_per_user_counts_the_trail(web_archive, dataset):
    record_access(web_archive, "staff", "document.viewed", 3)
    record_access(web_archive, "staff", "document.downloaded", 1)
    record_access(web_archive, "staff", "documents.searched", 2)
    record_access(web_archive, "staff", "access.denied", 2, outcome="denied")
    record_access(web_archive, "approver", "document.viewed", 1)
    report = run(web_archive, "auditor", "access", since=TODAY - timedelta(days=3650), until=TODAY + timedelta(days=3650))
    rows = {row[0]: row for row in report.table("per_user").rows}
    columns = [c.key for c in report.table("per_user").columns]
    staff = dict(zip(columns, rows["staff"], strict=True))
    assert (staff["documents_viewed"], staff["downloads"], staff["searches"], staff["denials"], staff["events"]) == (
        3, 1, 2, 2, 8)
    assert dict(zip(columns, rows["approver"], strict=True))["documents_viewed"] == 1
    assert report.scope.whole_trail


def test_the_excel_workbook_holds_the_same_figures(client, login_as, web_archive, dataset):
    login_as(client, "approver")
    response = client.get("/reports/holdings.xlsx?lang=en")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(BytesIO(response.data))
    report = run(web_archive, "approver", "holdings")
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Documents"] == report.figure("documents") and summary["Pages"] == report.figure("pages")
    sheet = list(book["By department"].iter_rows(values_only=True))
    assert sheet[0] == ("Department", "Dossiers", "Documents", "Pages")
    assert sheet[1:] == [tuple(row) for row in report.table("by_department").rows]
    types = {row[0]: row[1:] for row in book["By document type"].iter_rows(min_row=2, values_only=True)}
    assert types["Supply contract"] == report.table("by_type").rows[
        [r[0] for r in report.table("by_type").rows].index("supply_contract")][1:]
    with web_archive.session_factory() as session:
        exported = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "report.exported")).one()
    assert exported.actor_name == "approver" and exported.target_id == "holdings"


@pytest.mark.parametrize("name", ["holdings", "coverage", "rescan", "borrowing", "disposition"])
def test_each_report_page_draws_its_charts_on_the_server_without_script(client, login_as, web_archive, dataset, name):
    login_as(client, "records")
    html = client.get(f"/reports/{name}?lang=en").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in html and "All departments, up to Confidential" in html
    import base64
    import re

    for svg in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html):
        picture = base64.b64decode(svg)
        assert picture.lstrip().startswith(b"<?xml") and b"<svg" in picture and b"<script" not in picture
    with web_archive.session_factory() as session:
        viewed = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "report.viewed")).all()
    assert [(e.actor_name, e.target_id, e.detail["departments"]) for e in viewed] == [("records", name, "all")]


def test_the_menu_offers_reports_only_to_roles_that_hold_one(client, login_as, app, dataset):
    login_as(client, "approver")
    assert 'href="/reports/"' in client.get("/reports/").get_data(as_text=True)
    staff = app.test_client()
    login_as(staff, "staff")
    assert 'href="/reports/"' not in staff.get("/search/").get_data(as_text=True)
    assert staff.get("/reports/").status_code == 404
    assert staff.get("/reports/holdings").status_code in (403, 404)


def test_the_reports_speak_chinese_by_default(client, login_as, dataset):
    login_as(client, "auditor")
    html = client.get("/reports/access").get_data(as_text=True)
    assert "各用户访问量" in html and "统计报表" in html and "全部审计记录" in html


def test_ranks_are_the_reference_data_levels():
    assert {row["code"]: row["rank"] for row in defaults()["classification_levels"]} == RANK


def test_every_report_runs_on_sqlite_and_postgresql(archive):  # noqa: ANN001 - the SQL each database speaks
    add_report_people(archive)
    data = build_dataset(archive)
    record_access(archive, "staff", "document.viewed", 2)
    seen, by_type, *_ = expected_holdings(data, None, "secret")
    assert as_dict(run(archive, "leader", "holdings").table("by_type")) == by_type
    for name in ("coverage", "rescan", "borrowing", "disposition"):
        report = run(archive, "leader", name)
        assert report.tables and report.charts
    assert run(archive, "records", "disposition").figure("due_12_months") > 0
    assert run(archive, "leader", "borrowing").figure("overdue_loans") == 1
    trend = dict((m, f) for m, f, _ in run(archive, "leader", "rescan").table("trend").rows)
    assert trend["2026-06"] > 0
    wide = {"since": TODAY - timedelta(days=3650), "until": TODAY + timedelta(days=3650)}  # the trail's wall-clock times
    assert {row[0] for row in run(archive, "auditor", "access", **wide).table("per_user").rows} >= {"staff"}
