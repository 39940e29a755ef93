"""The auditor's review desk: the filtered trail, a document's trail (操作轨迹), per-user statistics with a
server-side SVG chart, exports, and the trail's verification status in plain words.

Views only parse and render; archive.compliance's services check `audit.view` and audit each read.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from archive.compliance import alerts, desk, services
from archive.errors import ValidationError, check_filter_value
from web.support import current_actor, new_uow, require_login

bp = Blueprint("audit_desk", __name__, url_prefix="/audit-desk")
require_login(bp)

OUTCOMES = ("ok", "failed", "denied")
EXPORT_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _date(name: str, *, end: bool = False) -> datetime | None:
    """A yyyy-mm-dd (UTC) argument; an end date includes its whole day."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = datetime.strptime(raw[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        abort(400)
    if not 1900 <= day.year <= 9998:  # a period's arithmetic stays within datetime's range
        abort(400)
    return day + timedelta(days=1) if end else day


def _text(name: str, limit: int = 100) -> str:
    return request.args.get(name, "").strip()[:limit]


def trail_filters(**fixed: str) -> desk.DeskFilters:
    """The trail filters of the request's arguments (the desk's form, the API's query)."""
    values = {name: _text(name) for name in ("user", "customer", "document", "archive_code", "event_type",
                                             "outcome", "address")}
    check_filter_value("event_type", values["event_type"], desk.event_types())
    check_filter_value("outcome", values["outcome"], OUTCOMES)
    return desk.DeskFilters(**{**values, **fixed}, since=_date("since"), until=_date("until", end=True))


def _before() -> int | None:
    raw = request.args.get("before", "")
    return int(raw) if raw.isdigit() else None


@bp.get("/")
def index() -> ResponseReturnValue:
    page = desk.search_trail(new_uow(), actor=current_actor(), filters=trail_filters(), before=_before())
    status = desk.trail_status(new_uow(), actor=current_actor())
    open_alerts = len(alerts.list_alerts(new_uow(), actor=current_actor()))
    return render_template("audit_desk/index.html", page=page, status=status, event_types=desk.event_types(),
                           outcomes=OUTCOMES, args=request.args, heading=_("Audit review desk"),
                           open_alerts=open_alerts)


@bp.get("/documents/<int:document_id>")
def document_trail(document_id: int) -> ResponseReturnValue:
    page = desk.search_trail(new_uow(), actor=current_actor(), filters=trail_filters(document=str(document_id)),
                             before=_before())
    status = desk.trail_status(new_uow(), actor=current_actor())
    return render_template("audit_desk/index.html", page=page, status=status, event_types=desk.event_types(),
                           outcomes=OUTCOMES, args=request.args,
                           heading=_("Trail of document %(id)d", id=document_id), document_id=document_id)


def statistics_period() -> tuple[datetime, datetime]:
    until = _date("until", end=True) or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) \
        + timedelta(days=1)
    return _date("since") or until - timedelta(days=30), until


@bp.get("/statistics")
def statistics() -> ResponseReturnValue:
    since, until = statistics_period()
    stats = desk.user_statistics(new_uow(), actor=current_actor(), since=since, until=until)
    return render_template("audit_desk/statistics.html", stats=stats, since=since,
                           until=until - timedelta(days=1), args=request.args)


@bp.get("/statistics/chart.svg")
def statistics_chart() -> ResponseReturnValue:
    import pygal

    since, until = statistics_period()
    stats = desk.user_statistics(new_uow(), actor=current_actor(), since=since, until=until, limit=20)
    chart = pygal.HorizontalBar(height=60 + 28 * max(1, len(stats)), width=800, js=[], show_legend=True,
                                disable_xml_declaration=False, title=_("Access per user"))
    chart.x_labels = [s.user for s in stats]
    chart.add(_("Documents viewed"), [s.documents_viewed for s in stats])
    chart.add(_("Downloads"), [s.downloads for s in stats])
    chart.add(_("Denials"), [s.denials for s in stats])
    # pygal always embeds a small config script; the chart needs none (it is shown as an image).
    svg = re.sub(rb"<script[^>]*>.*?</script>|<script[^>]*/>", b"", chart.render(), flags=re.S)
    response = Response(svg, mimetype="image/svg+xml")
    # The chart styles itself inline and runs no script.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.get("/export")
def export() -> ResponseReturnValue:
    fmt = request.args.get("format") or "csv"
    check_filter_value("format", fmt, EXPORT_TYPES)
    out = io.BytesIO()
    view = services.export_events(new_uow(), actor=current_actor(), out=out, fmt=fmt, since=_date("since"),
                                  until=_date("until", end=True))
    out.seek(0)
    name = f"audit-{view.from_seq or 0}-{view.to_seq or 0}.{fmt}"
    return send_file(out, mimetype=EXPORT_TYPES[fmt], as_attachment=True, download_name=name)


@bp.get("/alerts")
def alert_list() -> ResponseReturnValue:
    include = request.args.get("all") == "1"
    found = alerts.list_alerts(new_uow(), actor=current_actor(), include_acknowledged=include)
    return render_template("audit_desk/alerts.html", alerts=found, include_acknowledged=include)


@bp.post("/alerts/<int:alert_id>/acknowledge")
def acknowledge(alert_id: int) -> ResponseReturnValue:
    try:
        alerts.acknowledge_alert(new_uow(), actor=current_actor(), alert_id=alert_id,
                                 comment=request.form.get("comment", "")[:2000])
        flash(_("Alert acknowledged."), "ok")
    except ValidationError:
        flash(_("A comment is required."), "error")
    return redirect(url_for("audit_desk.alert_list"))
