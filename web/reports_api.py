"""Reports in the JSON API under /api/v1/reports: the reports the caller may open, and one report's
figures and tables as JSON (the page's charts are pictures of those tables). The same services as the
pages (archive.reports), which count over what the caller may see, check the permission and audit each
reading."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from flask import Blueprint, jsonify, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.reports import services
from archive.reports.views import Report
from web.api_auth import protect_api
from web.openapi import operation, with_fields
from web.reports import parameters, text
from web.support import current_actor, new_uow, require_login

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)


class ReportEntry(BaseModel):
    name: str
    title: str = Field(description="in the request's language")
    takes_period: bool = Field(description="whether since and until apply")
    url: str = Field(description="the report as JSON")


class ReportsAnswer(BaseModel):
    reports: list[ReportEntry] = Field(description="the whole catalogue the caller may open (a handful)")


class ReportQuery(BaseModel):
    since: date | None = Field(None, description="for reports that take a period")
    until: date | None = Field(None, description="inclusive")


ReportJson = with_fields(Report, "ReportJson", title=str)


@bp.get("")
@operation("The reports the caller may open", response=ReportsAnswer)
def list_reports() -> ResponseReturnValue:
    found = services.available_reports(current_actor())
    return jsonify(reports=[{"name": d.name, "title": text(f"report.{d.name}"), "takes_period": d.takes_period,
                             "url": url_for("reports_api.show_report", name=d.name)} for d in found])


@bp.get("/<name>")
@operation("One report", query=ReportQuery, response=ReportJson)
def show_report(name: str) -> ResponseReturnValue:
    """The report's figures and tables (keys are stable codes; values numbers, dates and codes, each
    column saying its kind) and the charts drawn from them. Audited as report.viewed."""
    report = services.run_report(new_uow(), actor=current_actor(), name=name, parameters=parameters())
    return jsonify(**asdict(report), title=text(f"report.{name}"))
