"""The reports pages: the list of reports the viewer may open, each report as a page with its figures,
server-drawn SVG charts and tables, and its Excel export. Views parse and translate; archive.reports
counts (over what the viewer may see), checks the permission and audits each reading."""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, render_template, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from archive.reports import charts, services
from archive.reports.views import ReportParameters
from web.labels import format_date
from web.support import (
    classification_names,
    current_actor,
    document_type_names,
    label,
    new_uow,
    require_login,
)

bp = Blueprint("reports", __name__, url_prefix="/reports")
require_login(bp)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

TEXT = {
    # reports
    "report.holdings": _l("Holdings: dossiers, documents and pages"),
    "report.coverage": _l("Capture coverage against the checklists"),
    "report.rescan": _l("Pages needing rescan"),
    "report.borrowing": _l("Borrowing and loans"),
    "report.disposition": _l("Due for disposition in the next 12 months"),
    "report.access": _l("Access per user"),
    # the summary
    "summary": _l("Summary"), "scope": _l("Departments"), "all": _l("All departments"),
    "generated_at": _l("Generated at"), "period": _l("Period"), "rows_shown": _l("Rows shown"),
    "rows_total": _l("Rows in all"),
    # figures and columns
    "dossiers": _l("Dossiers"), "documents": _l("Documents"), "pages": _l("Pages"),
    "customers": _l("Customers"), "complete_customers": _l("Complete"),
    "customers_with_gaps": _l("With gaps"), "coverage_percent": _l("Coverage %"),
    "pages_needing_rescan": _l("Pages needing rescan"), "flagged_12_months": _l("Flagged in 12 months"),
    "rescanned_12_months": _l("Rescanned in 12 months"), "requests_12_months": _l("Requests in 12 months"),
    "decided_12_months": _l("Decided in 12 months"), "mean_approval_hours": _l("Mean hours to a decision"),
    "active_grants": _l("Grants running now"), "overdue_loans": _l("Originals overdue"),
    "due_12_months": _l("Due within 12 months"), "due_now": _l("Due now"), "held": _l("Kept by a hold"),
    "users": _l("Users"), "logins": _l("Logins"), "documents_viewed": _l("Documents viewed"),
    "page_images": _l("Page images"), "downloads": _l("Downloads"), "searches": _l("Searches"),
    "denials": _l("Denials"), "events": _l("Events"),
    "type": _l("Type"), "department": _l("Department"), "year": _l("Year"), "process": _l("Business process"),
    "captured": _l("Captured"), "missing": _l("Missing"), "customer_id": _l("Customer no."),
    "customer": _l("Customer"), "identity": _l("ID number"), "missing_types": _l("Missing documents"),
    "month": _l("Month"), "flagged": _l("Flagged"), "rescanned": _l("Rescanned"), "withdrawn": _l("Withdrawn"),
    "total": _l("Total"), "classification": _l("Classification"), "decided": _l("Decided"),
    "mean_hours": _l("Mean hours"), "max_hours": _l("Longest (hours)"), "mode": _l("Mode"), "grants": _l("Grants"),
    "request": _l("Request"), "borrower": _l("Borrower"), "archive_code": _l("Archive code"), "box": _l("Box"),
    "shelf": _l("Shelf"), "due_on": _l("Due on"), "days_overdue": _l("Days overdue"), "user": _l("User"),
    "role": _l("Role"),
    # tables
    "table.by_type": _l("By document type"), "table.by_department": _l("By department"),
    "table.by_year": _l("By year"), "table.by_process": _l("By business process"),
    "table.by_required_type": _l("By required document"), "table.gaps": _l("Gaps by customer"),
    "table.open": _l("Waiting for a rescan"), "table.trend": _l("Trend per month"),
    "table.requests": _l("Requests per month"), "table.approval_times": _l("Approval times"),
    "table.active_grants": _l("Grants running now"), "table.overdue_loans": _l("Originals overdue"),
    "table.by_month": _l("By month and action"), "table.per_user": _l("Per user"),
    # charts
    "chart.documents_by_type": _l("Documents and pages by type"),
    "chart.documents_by_year": _l("Dossiers and documents by year"),
    "chart.coverage_by_type": _l("Customers with each required document"),
    "chart.rescan_trend": _l("Pages flagged and rescanned per month"),
    "chart.requests_per_month": _l("Borrow requests per month"),
    "chart.disposition_by_month": _l("Records coming due per month"),
    "chart.access_per_user": _l("Access per user"),
}
PROCESS_LABELS = {"individual": _l("Individual customers' files"), "organisation": _l("Organisations' files")}


def text(key: str) -> str:
    """A report's key (title, figure, column, chart) in the reader's language."""
    found = TEXT.get(key)
    return str(found) if found is not None else label(key)


def value(kind: str, raw: Any) -> Any:
    """A cell's code in the reader's language (numbers and text as they are)."""
    if kind == "type":
        return document_type_names().get(raw, raw)
    if kind == "types":
        return "、".join(document_type_names().get(code, code) for code in raw)
    if kind == "classification":
        return classification_names().get(raw, raw)
    if kind == "kind":
        return str(PROCESS_LABELS.get(raw, label(raw)))
    if kind == "month" and raw == "due_now":
        return text("due_now")
    if kind in ("status", "mode", "action"):
        return label(raw)
    if kind == "date" and raw is not None and not isinstance(raw, str):
        return format_date(raw)
    return raw


@bp.app_context_processor
def reports_navigation() -> dict[str, object]:
    """Whether the layout offers the reports (base.html); the report services still decide."""
    from flask_login import current_user

    return {"may_reports": current_user.is_authenticated and bool(services.available_reports(current_actor()))}


def _day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw[:10], "%Y-%m-%d").date()
    except ValueError:
        abort(400)


def parameters() -> ReportParameters:
    """The period of the request's arguments (the page's form, the API's query)."""
    return ReportParameters(since=_day("since"), until=_day("until"))


@bp.get("/")
def index() -> ResponseReturnValue:
    found = services.available_reports(current_actor())
    if not found:
        abort(404)
    return render_template("reports/index.html", reports=found, text=text)


@bp.get("/<name>")
def show(name: str) -> ResponseReturnValue:
    definition = services.find_report(name)
    report = services.run_report(new_uow(), actor=current_actor(), name=name, parameters=parameters())
    pictures = [(chart, base64.b64encode(charts.render_svg(report, chart, text=text, value=value)).decode())
                for chart in report.charts]
    return render_template("reports/show.html", report=report, definition=definition, pictures=pictures,
                           text=text, value=value, args=request.args)


@bp.get("/<name>.xlsx")
def export(name: str) -> ResponseReturnValue:
    out = io.BytesIO()
    report = services.export_report(new_uow(), actor=current_actor(), name=name, out=out, text=text, value=value,
                                    parameters=parameters())
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True,
                     download_name=f"report-{name}-{report.generated_at:%Y%m%d}.xlsx")


__all__ = ["bp", "text", "value", "_"]
