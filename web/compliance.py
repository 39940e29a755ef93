"""The audit log for compliance staff, filtered by event type, user and outcome; the last fixity run; the
four-property check's reports (四性检测) with their PDF and Excel downloads."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from flask import Blueprint, render_template, request, send_file
from flask.typing import ResponseReturnValue

from archive import registry
from archive.compliance import fourcheck
from archive.compliance.checks import PROPERTIES
from archive.compliance.fourcheck_export import export_report
from archive.errors import check_filter_value
from archive.services import audit_log, integrity
from web.support import current_actor, new_uow, require_login

bp = Blueprint("compliance", __name__, url_prefix="/compliance")
require_login(bp)

OUTCOMES = ("ok", "failed", "denied")


@bp.get("/")
def index() -> ResponseReturnValue:
    filters = {
        "event_type": request.args.get("event_type", "").strip()[:100],
        "actor_name": request.args.get("user", "").strip()[:100],
        "outcome": request.args.get("outcome", "").strip()[:20],
    }
    check_filter_value("event_type", filters["event_type"], registry.event_types())
    check_filter_value("outcome", filters["outcome"], OUTCOMES)
    found = audit_log.list_audit_events(new_uow(), actor=current_actor(), limit=500, **filters)
    fixity = integrity.last_fixity_run(new_uow(), actor=current_actor())
    return render_template("compliance/index.html", events=found, filters=filters, event_types=sorted(registry.event_types()),
                           outcomes=OUTCOMES, fixity=fixity)


DOWNLOADS = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.get("/checks")
def checks() -> ResponseReturnValue:
    """The four-property check's reports, newest first (auditor, records manager)."""
    reports = fourcheck.list_reports(new_uow(), actor=current_actor(), limit=100)
    return render_template("compliance/checks.html", reports=reports, properties=PROPERTIES)


@bp.get("/checks/<int:run_id>.<fmt>")
def check_report(run_id: int, fmt: str) -> ResponseReturnValue:
    """One report as PDF or Excel."""
    if fmt not in DOWNLOADS:
        return "", 404
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"report.{fmt}"
        export_report(new_uow(), actor=current_actor(), run_id=run_id, path=path, format=fmt)
        data = io.BytesIO(path.read_bytes())
    return send_file(data, mimetype=DOWNLOADS[fmt], as_attachment=True, download_name=f"fourcheck-{run_id}.{fmt}")
