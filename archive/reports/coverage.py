"""Capture coverage: for each business process (the checklist of required document types,
the required_document table, one per kind of customer), how many of the viewer's
customers have each required type captured, how many have them all, and the gaps listed by customer.

Only documents the viewer may see count, so a gap can be a document the viewer may not open; the figures
never reveal more than the customer pages do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, false, func, or_, select

from archive.actors import Actor
from archive.models import Customer, Department, Document
from archive.reports.scoping import counted_documents, describe, report_scope
from archive.reports.views import Chart, Column, Figure, Report, ReportParameters, Table
from archive.services.reference import checklists
from archive.unit_of_work import UnitOfWork

GAP_ROWS = 200  # customers listed with their gaps (the total is given)


def build_coverage(uow: UnitOfWork, actor: Actor, parameters: ReportParameters) -> Report:
    scope = report_scope(actor)
    session = uow.session
    required = checklists(session)
    # One grouped query: per customer of the viewer's, a bit mask of the required types it has (each type
    # one bit, summed once); every figure below is counted from these rows.
    bits = {code: 1 << n for n, code in enumerate(sorted({t for types in required.values() for t in types}))}
    is_required = or_(*(and_(Customer.kind == kind, Document.document_type.in_(types))
                        for kind, types in required.items())) if required else false()
    mask = func.coalesce(func.sum(func.distinct(case(*((Document.document_type == code, bit)
                                                        for code, bit in bits.items()), else_=0))), 0)
    rows = session.execute(
        select(Customer.id, Customer.kind, mask).select_from(Customer)
        .outerjoin(Document, and_(Document.customer_id == Customer.id, counted_documents(scope), is_required))
        .where(scope.customers(), Customer.kind.in_(required))
        .group_by(Customer.id, Customer.kind).order_by(Customer.id)).all()
    full = {kind: sum(bits[t] for t in types) for kind, types in required.items()}
    customers = {kind: 0 for kind in required}
    complete = {kind: 0 for kind in required}
    having = {(kind, code): 0 for kind, types in required.items() for code in types}
    gap_ids: list[int] = []
    for customer_id, kind, found in rows:
        found = int(found or 0)
        customers[kind] += 1
        for code in required[kind]:
            if found & bits[code]:
                having[(kind, code)] += 1
        if found & full[kind] == full[kind]:
            complete[kind] += 1
        elif len(gap_ids) < GAP_ROWS:
            gap_ids.append(customer_id)
    gaps_total = sum(customers.values()) - sum(complete.values())
    gap_rows = _gap_rows(uow, scope, required, gap_ids)
    per_type = tuple((kind, code, customers.get(kind, 0), having.get((kind, code), 0),
                      customers.get(kind, 0) - having.get((kind, code), 0),
                      _percent(having.get((kind, code), 0), customers.get(kind, 0)))
                     for kind, types in required.items() for code in types)
    per_process = tuple((kind, customers.get(kind, 0), complete.get(kind, 0),
                         customers.get(kind, 0) - complete.get(kind, 0),
                         _percent(complete.get(kind, 0), customers.get(kind, 0)))
                        for kind in required)
    total = sum(customers.values())
    return Report(
        name="coverage", scope=describe(actor, scope), generated_at=uow.clock.now(),
        figures=(Figure("customers", total), Figure("complete_customers", sum(complete.values())),
                 Figure("customers_with_gaps", gaps_total),
                 Figure("coverage_percent", _percent(sum(complete.values()), total), "number")),
        tables=(
            Table("by_process", (Column("process", "kind"), Column("customers"), Column("complete_customers"),
                                 Column("customers_with_gaps"), Column("coverage_percent", "number")), per_process),
            Table("by_required_type", (Column("process", "kind"), Column("type", "type"), Column("customers"),
                                       Column("captured"), Column("missing"), Column("coverage_percent", "number")),
                  per_type),
            Table("gaps", (Column("customer_id", "text"), Column("customer", "text"), Column("identity", "text"),
                           Column("department", "department"), Column("process", "kind"),
                           Column("missing_types", "types")), tuple(gap_rows), total_rows=gaps_total),
        ),
        charts=(Chart("coverage_by_type", "by_required_type", ("captured", "missing"), kind="stacked_hbar",
                      label_columns=(0, 1)),),
    )


def _gap_rows(uow: UnitOfWork, scope: Any, required: dict[str, list[str]], ids: list[int]) -> list[tuple[Any, ...]]:
    if not ids:
        return []
    session = uow.session
    found: dict[int, set[str]] = {i: set() for i in ids}
    for customer_id, code in session.execute(
            select(Document.customer_id, Document.document_type)
            .where(Document.customer_id.in_(ids), counted_documents(scope)).distinct()):
        found[customer_id].add(code)
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.identity_masked, Department.code, Customer.kind)
        .join(Department, Department.id == Customer.department_id)
        .where(Customer.id.in_(ids)).order_by(Customer.id)).all()
    return [(str(cid), name, masked, dept, kind, tuple(t for t in required[kind] if t not in found[cid]))
            for cid, name, masked, dept, kind in rows]


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0
