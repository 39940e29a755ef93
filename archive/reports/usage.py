"""Access per user, from the audit trail: logins, documents viewed, page images, downloads, searches and
denials in a period (default the last 30 days), busiest first. The auditor's report (report.access):
it counts the whole trail, by the people who acted (named system actors are left out)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import case, func, select

from archive.actors import Actor
from archive.events import (
    event_document_downloaded,
    event_document_viewed,
    event_documents_searched,
    event_page_image_viewed,
    event_user_logged_in,
)
from archive.models import AuditEvent, Department, User
from archive.reports.views import Chart, Column, Figure, Report, ReportParameters, ReportScope, Table
from archive.unit_of_work import UnitOfWork

DEFAULT_DAYS = 30
ROWS = 200

MEASURES = (("logins", event_user_logged_in), ("documents_viewed", event_document_viewed),
            ("page_images", event_page_image_viewed), ("downloads", event_document_downloaded),
            ("searches", event_documents_searched))


def period(parameters: ReportParameters, today: object) -> tuple[datetime, datetime]:
    """[since, until) in UTC: until's whole day is included."""
    until_day = parameters.until or today
    since_day = parameters.since or until_day - timedelta(days=DEFAULT_DAYS - 1)  # type: ignore[operator]
    return (datetime.combine(since_day, time(), UTC),  # type: ignore[arg-type]
            datetime.combine(until_day, time(), UTC) + timedelta(days=1))  # type: ignore[arg-type]


def build_access(uow: UnitOfWork, actor: Actor, parameters: ReportParameters) -> Report:
    since, until = period(parameters, uow.clock.today())
    columns = [func.sum(case((AuditEvent.event_type == event, 1), else_=0)) for _, event in MEASURES]
    denials = func.sum(case((AuditEvent.outcome == "denied", 1), else_=0))
    total = func.count()
    per_user = (select(AuditEvent.actor_id.label("actor_id"), *(c.label(k) for c, (k, _) in zip(columns, MEASURES,
                                                                                                  strict=True)),
                       denials.label("denials"), total.label("events"))
                .where(AuditEvent.occurred_at >= since, AuditEvent.occurred_at < until,
                       AuditEvent.actor_id.is_not(None))
                .group_by(AuditEvent.actor_id).subquery())
    rows = uow.session.execute(
        select(User.username, User.role, Department.code, *(per_user.c[k] for k, _ in MEASURES),
               per_user.c.denials, per_user.c.events)
        .select_from(per_user).join(User, User.id == per_user.c.actor_id)
        .outerjoin(Department, Department.id == User.department_id)
        .order_by(per_user.c.events.desc(), User.username).limit(ROWS)).all()
    table_rows = tuple((name, role, dept or "", *(int(v or 0) for v in values)) for name, role, dept, *values in rows)
    sums = [sum(r[3 + i] for r in table_rows) for i in range(len(MEASURES) + 2)]
    return Report(
        name="access", scope=ReportScope(departments=None, clearance=actor.clearance, whole_trail=True),
        generated_at=uow.clock.now(), since=since.date(), until=(until - timedelta(days=1)).date(),
        figures=(Figure("users", len(table_rows)), *(Figure(k, sums[i]) for i, (k, _) in enumerate(MEASURES)),
                 Figure("denials", sums[-2])),
        tables=(Table("per_user", (Column("user", "text"), Column("role", "status"), Column("department", "department"),
                                   *(Column(k) for k, _ in MEASURES), Column("denials"), Column("events")),
                      table_rows),),
        charts=(Chart("access_per_user", "per_user", ("documents_viewed", "downloads", "searches", "denials"),
                      kind="hbar"),),
    )
