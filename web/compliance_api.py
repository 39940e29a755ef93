"""Compliance in the JSON API under /api/v1/compliance: the last fixity run and the four-property check's
reports 四性检测 (each with its problems). The audit log itself is /api/v1/audit/events. The same services
as the compliance pages, which check the permission."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.compliance import fourcheck
from archive.compliance.fourcheck import FourCheckReport
from archive.services import integrity
from archive.views import FixityRunView
from web.api_auth import protect_api
from web.openapi import operation, with_fields
from web.pagination import CURSOR, keyset_page, page_request
from web.support import current_actor, new_uow, require_login

bp = Blueprint("compliance_api", __name__, url_prefix="/api/v1/compliance")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

FourCheckJson = with_fields(FourCheckReport, "FourCheckReport", ok=bool)


class PageQuery(BaseModel):
    limit: int = Field(20, ge=1, le=100)
    cursor: str = CURSOR


class ChecksAnswer(BaseModel):
    reports: list[FourCheckJson] = Field(description="without their problems (see each report)")  # type: ignore[valid-type]
    next_cursor: str | None


class FixityAnswer(BaseModel):
    fixity: FixityRunView | None = Field(description="null before the first run")


def _json(report: FourCheckReport) -> dict[str, object]:
    return {**asdict(report), "ok": report.ok}


@bp.get("/fixity")
@operation("The last fixity run", response=FixityAnswer)
def fixity() -> ResponseReturnValue:
    """Every stored object checked against its digest: when, how many, and the problems found."""
    run = integrity.last_fixity_run(new_uow(), actor=current_actor())
    return jsonify(fixity=asdict(run) if run is not None else None)


@bp.get("/checks")
@operation("The four-property check's reports", query=PageQuery, response=ChecksAnswer)
def checks() -> ResponseReturnValue:
    """Newest first (auditors, records managers); `ok` when no problem is an error."""
    found, next_cursor = keyset_page(
        lambda limit, before: fourcheck.list_reports(new_uow(), actor=current_actor(), limit=limit, before_id=before),
        page_request(default_limit=20, max_limit=100), key=lambda r: r.run_id)
    return jsonify(reports=[_json(r) for r in found], next_cursor=next_cursor)


@bp.get("/checks/<int:run_id>")
@operation("One four-property check report", response=FourCheckJson)
def check_report(run_id: int) -> ResponseReturnValue:
    """The report with every problem found (property, check, severity, the record, a hint)."""
    return jsonify(_json(fourcheck.get_report(new_uow(), actor=current_actor(), run_id=run_id)))
