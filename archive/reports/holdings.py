"""Holdings: dossiers 卷, documents 件 and pages 页 by document type, department and year.

A document's year is its own date's, else the year it was captured. Documents and pages come from one
grouped query over (type, department, year), whose sums give each breakdown; dossiers, which have no
type, are counted by their department and the year they were opened, each dossier once when the viewer
may see at least one of its documents (a second grouped query)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import exists, func, select

from archive.actors import Actor
from archive.models import Department, Document, Dossier, Page
from archive.reports.scoping import counted_documents, describe, report_scope
from archive.reports.sql import year_of
from archive.reports.views import Chart, Column, Figure, Report, ReportParameters, Table
from archive.unit_of_work import UnitOfWork


def document_year() -> Any:
    return year_of(func.coalesce(Document.document_date, Document.captured_at))


def build_holdings(uow: UnitOfWork, actor: Actor, parameters: ReportParameters) -> Report:
    scope = report_scope(actor)
    condition = counted_documents(scope)
    session = uow.session
    pages = select(Page.document_id, func.count().label("pages")).group_by(Page.document_id).subquery()
    year = document_year()
    codes = dict(session.execute(select(Department.id, Department.code)).all())
    cube = [(code, codes.get(department, str(department)), when, documents, page_count)
            for code, department, when, documents, page_count in session.execute(
                select(Document.document_type, Document.department_id, year, func.count(Document.id),
                       func.coalesce(func.sum(pages.c.pages), 0))
                .select_from(Document).outerjoin(pages, pages.c.document_id == Document.id)
                .where(condition).group_by(Document.document_type, Document.department_id, year))]
    dossier_year = year_of(Dossier.created_at)
    dossiers = [(codes.get(department, str(department)), when, n) for department, when, n in session.execute(
        select(Dossier.department_id, dossier_year, func.count(Dossier.id))
        .where(exists().where(Document.dossier_id == Dossier.id, condition))
        .group_by(Dossier.department_id, dossier_year))]
    by: dict[str, dict[Any, list[int]]] = {"type": defaultdict(lambda: [0, 0, 0]),
                                           "department": defaultdict(lambda: [0, 0, 0]),
                                           "year": defaultdict(lambda: [0, 0, 0])}
    for code, department, when, documents, page_count in cube:
        for dimension, key in (("type", code), ("department", department), ("year", str(when))):
            by[dimension][key][1] += int(documents)
            by[dimension][key][2] += int(page_count)
    for department, when, n in dossiers:
        by["department"][department][0] += int(n)
        by["year"][str(when)][0] += int(n)
    total_documents = sum(v[1] for v in by["type"].values())
    total_pages = sum(v[2] for v in by["type"].values())
    return Report(
        name="holdings", scope=describe(actor, scope), generated_at=uow.clock.now(),
        figures=(Figure("dossiers", sum(int(n) for *_, n in dossiers)), Figure("documents", total_documents),
                 Figure("pages", total_pages)),
        tables=(Table("by_type", (Column("type", "type"), Column("documents"), Column("pages")),
                      tuple((k, v[1], v[2]) for k, v in sorted(by["type"].items()))),
                Table("by_department", (Column("department", "department"), Column("dossiers"), Column("documents"),
                                        Column("pages")),
                      tuple((k, *v) for k, v in sorted(by["department"].items()))),
                Table("by_year", (Column("year", "text"), Column("dossiers"), Column("documents"), Column("pages")),
                      tuple((k, *v) for k, v in sorted(by["year"].items())))),
        charts=(Chart("documents_by_type", "by_type", ("documents", "pages"), kind="hbar"),),
    )
