"""Records due for disposition in the next twelve months, retention's contribution to the reports
(registered in retention/feature.py): by month and action, by department, and how many a legal hold
keeps. Records already due and not yet disposed of count under "due now". The archive's report scope
applies (archive/reports/scoping.py)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, case, func, or_, select

from archive.actors import Actor
from archive.models import Department, Document
from archive.reports.permissions import permission_report_view
from archive.reports.scoping import counted_documents, describe, report_scope
from archive.reports.sql import month_of, months_ahead
from archive.reports.views import Chart, Column, Figure, Report, ReportDefinition, ReportParameters, Table
from archive.unit_of_work import UnitOfWork
from retention.models import ACTIONS, Disposition, LegalHold
from retention.services.dispositions import add_period

MONTHS = 12
DUE_NOW = "due_now"


def held_by_any_hold() -> ColumnElement[bool]:
    """Some active hold covers the document: the same rule as holds.covered_by_active_hold, written with
    uncorrelated IN lists (holds are few) so a grouped scan of many records asks them once, not per row."""
    active = LegalHold.released_at.is_(None)
    return or_(*(column.in_(select(LegalHold.target_id).where(active, LegalHold.target_type == kind))
                 for kind, column in (("document", Document.id), ("dossier", Document.dossier_id),
                                      ("customer", Document.customer_id))))


def build_disposition(uow: UnitOfWork, actor: Actor, parameters: ReportParameters) -> Report:
    scope = report_scope(actor)
    today = uow.clock.today()
    horizon = add_period(today.replace(day=1), None, MONTHS)
    held = held_by_any_hold()
    bucket = case((Disposition.due_on < today, DUE_NOW), else_=month_of(Disposition.due_on))
    is_held = case((held, 1), else_=0)
    codes = dict(uow.session.execute(select(Department.id, Department.code)).all())
    due = (select(bucket.label("bucket"), Disposition.action.label("action"), Document.department_id.label("department"),
                  is_held.label("held"))
           .select_from(Disposition).join(Document, Document.id == Disposition.document_id)
           .where(Disposition.due_on.is_not(None), Disposition.due_on < horizon, counted_documents(scope))
           .subquery())
    rows = uow.session.execute(
        select(due.c.bucket, due.c.action, due.c.department, func.count(), func.sum(due.c.held))
        .group_by(due.c.bucket, due.c.action, due.c.department)).all()
    months = [DUE_NOW, *months_ahead(today, MONTHS)]
    by_month: dict[tuple[str, str], int] = {}
    by_department: dict[str, list[int]] = {}
    held_total = 0
    for when, action, department_id, n, kept in rows:
        department = codes.get(department_id, str(department_id))
        by_month[(when, action)] = by_month.get((when, action), 0) + int(n)
        counts = by_department.setdefault(department, [0, 0])
        counts[0] += int(n)
        counts[1] += int(kept or 0)
        held_total += int(kept or 0)
    month_rows = tuple((m, *(by_month.get((m, a), 0) for a in ACTIONS), sum(by_month.get((m, a), 0) for a in ACTIONS))
                       for m in months)
    total = sum(r[-1] for r in month_rows)
    return Report(
        name="disposition", scope=describe(actor, scope), generated_at=uow.clock.now(),
        figures=(Figure("due_12_months", total), Figure(DUE_NOW, month_rows[0][-1]), Figure("held", held_total)),
        tables=(Table("by_month", (Column("month", "month"), *(Column(a) for a in ACTIONS), Column("total")),
                      month_rows),
                Table("by_department", (Column("department", "department"), Column("total"), Column("held")),
                      tuple((d, c[0], c[1]) for d, c in sorted(by_department.items())))),
        charts=(Chart("disposition_by_month", "by_month", ACTIONS, kind="stacked", limit=MONTHS + 1),),
    )


REPORTS = (ReportDefinition("disposition", permission_report_view, build_disposition, order=50),)
