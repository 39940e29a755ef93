"""Holdings: dossiers 卷, documents 件 and pages 页 by document type, department and year.

A document's year is its own date's, else the year it was captured. A dossier counts under a type, a
department or a year when at least one document the viewer may see puts it there. One grouped query per
breakdown."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from archive.actors import Actor
from archive.models import Department, Document, Page
from archive.reports.scoping import counted_documents, describe, report_scope
from archive.reports.sql import year_of
from archive.reports.views import Chart, Column, Figure, Report, ReportParameters, Table
from archive.unit_of_work import UnitOfWork

COUNTS = (Column("dossiers"), Column("documents"), Column("pages"))


def document_year() -> Any:
    return year_of(func.coalesce(Document.document_date, Document.captured_at))


def build_holdings(uow: UnitOfWork, actor: Actor, parameters: ReportParameters) -> Report:
    scope = report_scope(actor)
    condition = counted_documents(scope)
    pages = (select(Page.document_id, func.count().label("pages")).group_by(Page.document_id).subquery())

    def breakdown(dimension: Any, *joins: Any) -> list[tuple[Any, int, int, int]]:
        query = (select(dimension, func.count(func.distinct(Document.dossier_id)), func.count(Document.id),
                        func.coalesce(func.sum(pages.c.pages), 0))
                 .select_from(Document).outerjoin(pages, pages.c.document_id == Document.id))
        for target, on in joins:
            query = query.join(target, on)
        rows = uow.session.execute(query.where(condition).group_by(dimension).order_by(dimension)).all()
        return [(key, int(d), int(n), int(p)) for key, d, n, p in rows]

    by_type = breakdown(Document.document_type)
    by_department = breakdown(Department.code, (Department, Department.id == Document.department_id))
    by_year = breakdown(document_year())
    dossiers, documents, page_count = uow.session.execute(
        select(func.count(func.distinct(Document.dossier_id)), func.count(Document.id),
               func.coalesce(func.sum(pages.c.pages), 0))
        .select_from(Document).outerjoin(pages, pages.c.document_id == Document.id).where(condition)).one()
    return Report(
        name="holdings", scope=describe(actor, scope), generated_at=uow.clock.now(),
        figures=(Figure("dossiers", int(dossiers)), Figure("documents", int(documents)),
                 Figure("pages", int(page_count))),
        tables=(Table("by_type", (Column("type", "type"), *COUNTS), tuple(by_type)),
                Table("by_department", (Column("department", "department"), *COUNTS), tuple(by_department)),
                Table("by_year", (Column("year", "text"), *COUNTS), tuple((str(y), *rest) for y, *rest in by_year))),
        charts=(Chart("documents_by_type", "by_type", ("documents", "pages"), kind="hbar"),
                Chart("documents_by_year", "by_year", ("dossiers", "documents"), kind="bar")),
    )
