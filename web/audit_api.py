"""The auditor's review desk in the JSON API under /api/v1/audit: the filtered trail, its verification
status, per-user statistics, and the alerts with their acknowledgement. The same services as the desk's
pages (archive.compliance), which check `audit.view` and audit each read."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.compliance import alerts, desk
from archive.compliance.alerts import AlertView
from archive.compliance.desk import DeskEvent, TrailStatus, UserStatistics
from web.api_auth import protect_api
from web.audit_desk import statistics_period, trail_filters
from web.openapi import operation
from web.pagination import CURSOR, cursor_for, keyset_page, page_request
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

MAX_STATISTICS = 500


class TrailQuery(BaseModel):
    user: str = Field("", max_length=100, description="the actor's user name")
    customer: str = Field("", max_length=100, description="a customer id, or an ID number / credit code")
    document: str = Field("", max_length=100, description="a document id")
    archive_code: str = Field("", max_length=100)
    event_type: str = Field("", max_length=100)
    outcome: str = Field("", max_length=100, description="ok, failed or denied")
    address: str = Field("", max_length=100, description="the client's address")
    since: date | None = Field(None, description="on or after this day (UTC)")
    until: date | None = Field(None, description="up to and including this day (UTC)")
    limit: int = Field(desk.PAGE_SIZE, ge=1, le=200)
    cursor: str = CURSOR


class TrailAnswer(BaseModel):
    events: list[DeskEvent]
    next_cursor: str | None


class StatisticsQuery(BaseModel):
    since: date | None = Field(None, description="default: 30 days before `until`")
    until: date | None = Field(None, description="default: today (UTC)")
    limit: int = Field(50, ge=1, le=200)
    cursor: str = CURSOR


class StatisticsAnswer(BaseModel):
    statistics: list[UserStatistics]
    next_cursor: str | None


class AlertsQuery(BaseModel):
    all: bool = Field(False, description="acknowledged alerts too")
    limit: int = Field(50, ge=1, le=200)
    cursor: str = CURSOR


class AlertsAnswer(BaseModel):
    alerts: list[AlertView]
    next_cursor: str | None


class Acknowledgement(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="how the alert was dealt with")


class OneAlert(BaseModel):
    alert: AlertView


@bp.get("/events")
@operation("The audit trail", query=TrailQuery, response=TrailAnswer, errors=(400, 401, 403, 429))
def trail() -> ResponseReturnValue:
    """Events newest first, filtered as on the review desk; ID and phone numbers masked in each detail.
    Auditors (`audit.view`); each query is itself audited."""
    page = page_request(default_limit=desk.PAGE_SIZE, max_limit=200)
    found = desk.search_trail(new_uow(), actor=current_actor(), filters=trail_filters(), before=page.position,
                              limit=page.limit)
    return jsonify(events=[asdict(e) for e in found.events], next_cursor=cursor_for(found.next_before))


@bp.get("/status")
@operation("The trail's verification status", response=TrailStatus)
def status() -> ResponseReturnValue:
    """The head of the trail, its last signed checkpoint and its last verification."""
    return jsonify(asdict(desk.trail_status(new_uow(), actor=current_actor())))


@bp.get("/statistics")
@operation("Access per user", query=StatisticsQuery, response=StatisticsAnswer)
def statistics() -> ResponseReturnValue:
    """Per-user counts in the period (events, documents viewed, downloads, denials), busiest first."""
    page = page_request(default_limit=50, max_limit=200)
    offset = page.position or 0
    since, until = statistics_period()
    found = desk.user_statistics(new_uow(), actor=current_actor(), since=since, until=until,
                                 limit=page.limit + 1, offset=offset)
    more = len(found) > page.limit and offset + page.limit < MAX_STATISTICS
    return jsonify(statistics=[asdict(s) for s in found[:page.limit]],
                   next_cursor=cursor_for(offset + page.limit) if more else None)


@bp.get("/alerts")
@operation("Alerts", query=AlertsQuery, response=AlertsAnswer)
def list_alerts() -> ResponseReturnValue:
    """The alerts the rules raised, newest first: open ones only unless `all=true`."""
    include = request.args.get("all", "").lower() in ("1", "true")
    found, next_cursor = keyset_page(
        lambda limit, before: alerts.list_alerts(new_uow(), actor=current_actor(), include_acknowledged=include,
                                                 limit=limit, before_id=before),
        page_request(default_limit=50, max_limit=200), key=lambda a: a.id)
    return jsonify(alerts=[asdict(a) for a in found], next_cursor=next_cursor)


@bp.post("/alerts/<int:alert_id>/acknowledge")
@operation("Acknowledge an alert", body=Acknowledgement, response=OneAlert)
def acknowledge(alert_id: int) -> ResponseReturnValue:
    """{"comment"} → {"alert"}: marks it dealt with (audited); 400 without a comment or when already
    acknowledged."""
    body = json_body()
    alert = alerts.acknowledge_alert(new_uow(), actor=current_actor(), alert_id=alert_id,
                                     comment=str(body.get("comment") or "")[:2000])
    return jsonify(alert=asdict(alert))
