"""Pages needing rescan 重扫: those flagged now (read with a confidence under ARCHIVE_RESCAN_THRESHOLD),
by department and type, and the trend over twelve months: pages flagged (a version that came in
flagged) and pages rescanned (a flagged version replaced) per month."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, literal, select, union_all

from archive.actors import Actor
from archive.models import Department, Document, Page, PageVersion
from archive.reports.scoping import counted_documents, describe, report_scope
from archive.reports.sql import month_of, months_back
from archive.reports.views import Chart, Column, Figure, Report, ReportParameters, Table
from archive.unit_of_work import UnitOfWork

MONTHS = 12


def build_rescan(uow: UnitOfWork, actor: Actor, parameters: ReportParameters) -> Report:
    scope = report_scope(actor)
    condition = counted_documents(scope)
    session = uow.session
    open_rows = session.execute(
        select(Department.code, Document.document_type, func.count(Page.id))
        .select_from(Page).join(Document, Document.id == Page.document_id)
        .join(Department, Department.id == Document.department_id)
        .where(Page.rescan_needed, condition)
        .group_by(Department.code, Document.document_type).order_by(Department.code, Document.document_type)).all()
    months = months_back(uow.clock.today(), MONTHS)
    start = datetime.strptime(months[0], "%Y-%m").replace(tzinfo=UTC)
    came_in = func.coalesce(Page.replaced_at, Document.captured_at)
    events = union_all(
        select(literal("flagged").label("what"), month_of(came_in).label("month"))
        .select_from(Page).join(Document, Document.id == Page.document_id)
        .where(Page.rescan_needed, condition, came_in >= start),
        select(literal("flagged").label("what"), month_of(PageVersion.created_at).label("month"))
        .select_from(PageVersion).join(Document, Document.id == PageVersion.document_id)
        .where(PageVersion.rescan_needed, condition, PageVersion.created_at >= start),
        select(literal("rescanned").label("what"), month_of(PageVersion.superseded_at).label("month"))
        .select_from(PageVersion).join(Document, Document.id == PageVersion.document_id)
        .where(PageVersion.rescan_needed, condition, PageVersion.superseded_at >= start),
    ).subquery()
    counted = {(what, month): int(n) for what, month, n in session.execute(
        select(events.c.what, events.c.month, func.count()).group_by(events.c.what, events.c.month)).all()}
    trend = tuple((m, counted.get(("flagged", m), 0), counted.get(("rescanned", m), 0)) for m in months)
    return Report(
        name="rescan", scope=describe(actor, scope), generated_at=uow.clock.now(),
        figures=(Figure("pages_needing_rescan", sum(int(n) for *_, n in open_rows)),
                 Figure("flagged_12_months", sum(f for _, f, _ in trend)),
                 Figure("rescanned_12_months", sum(r for *_, r in trend))),
        tables=(Table("open", (Column("department", "department"), Column("type", "type"), Column("pages")),
                      tuple((d, t, int(n)) for d, t, n in open_rows)),
                Table("trend", (Column("month", "text"), Column("flagged"), Column("rescanned")), trend)),
        charts=(Chart("rescan_trend", "trend", ("flagged", "rescanned"), kind="line", limit=MONTHS),),
    )
