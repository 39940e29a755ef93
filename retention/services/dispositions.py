"""Disposition dates: computed from each document's schedule and trigger, stored, and recomputed when
a schedule or a trigger event changes (and by the daily job, which also covers new captures).

A document under a legal hold keeps the date it had: a hold blocks changing its retention. A document
not yet filed 归档 has no filing date, so a schedule counted from filing does not start for it.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Iterator
from datetime import date

from sqlalchemy import delete, func, insert, select

from archive import access, audit
from archive.actors import Actor
from archive.models import Department, Document, DocumentType, RetentionPeriod, as_utc
from archive.unit_of_work import UnitOfWork
from retention.events import event_dispositions_computed
from retention.models import Disposition, RetentionEvent, RetentionSchedule
from retention.permissions import permission_disposition_view, permission_schedule_manage
from retention.services.holds import CHUNK, covered_by_active_hold, held_document_ids
from retention.views import DueRecordView, ScheduleView

BATCH = 5000
MAX_YEARS, MAX_MONTHS = 100, 1200  # the longest period a schedule or an extension may give


def add_period(start: date, years: int | None, months: int | None) -> date:
    """start plus the period; a day that the target month lacks becomes its last (29 Feb → 28 Feb)."""
    total = start.month - 1 + (years or 0) * 12 + (months or 0)
    year, month = start.year + total // 12, total % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def effective_schedules(uow: UnitOfWork) -> dict[str, ScheduleView]:
    """Every document type's schedule: its own, or the default its retention period gives (counted
    from filing, reviewed at the end)."""
    explicit = {s.document_type: s for s in uow.session.scalars(select(RetentionSchedule))}
    schedules = {}
    for code, years in uow.session.execute(
            select(DocumentType.code, RetentionPeriod.years)
            .join(RetentionPeriod, RetentionPeriod.code == DocumentType.retention_code)):
        own = explicit.get(code)
        schedules[code] = (ScheduleView(code, own.years, own.months, own.trigger, own.event_name, own.action, True)
                           if own else ScheduleView(code, years, None, "filing_date", "", "review", False))
    return schedules


def compute(schedule: ScheduleView, filed_on: date | None, document_date: date | None, contract_end: date | None,
            event_date: date | None) -> tuple[date | None, date | None]:
    """(trigger date, disposition date) of one document; None where permanent or not yet triggered."""
    trigger = {"filing_date": filed_on, "document_date": document_date, "contract_end": contract_end,
               "event": event_date}[schedule.trigger]
    if trigger is None or (schedule.years is None and schedule.months is None):
        return trigger, None
    return trigger, add_period(trigger, schedule.years, schedule.months)


def planned(uow: UnitOfWork, schedules: dict[str, ScheduleView], document_ids: Collection[int] | None = None,
            document_type: str | None = None) -> Iterator[tuple[int, date | None, date | None, str]]:
    """(document, trigger date, disposition date, action) for documents not shredded, by batch of ids."""
    query = select(Document.id, Document.document_type, Document.filed_at, Document.document_date,
                   Document.contract_end_date, Document.customer_id).where(~Document.is_shredded)
    if document_type is not None:
        query = query.where(Document.document_type == document_type)
    if document_ids is None:
        rows = uow.session.execute(query).all()
    else:
        ids, rows = list(document_ids), []
        for start in range(0, len(ids), CHUNK):
            rows += uow.session.execute(query.where(Document.id.in_(ids[start:start + CHUNK]))).all()
    names = {s.event_name for s in schedules.values() if s.trigger == "event"}
    first: dict[tuple[str, int, str], date] = {}
    if names:
        for name, customer_id, document_id, occurred in uow.session.execute(
                select(RetentionEvent.name, RetentionEvent.customer_id, RetentionEvent.document_id,
                       func.min(RetentionEvent.occurred_on))
                .where(RetentionEvent.name.in_(names))
                .group_by(RetentionEvent.name, RetentionEvent.customer_id, RetentionEvent.document_id)):
            key = ("document", document_id, name) if document_id is not None else ("customer", customer_id, name)
            first[key] = min(occurred, first.get(key, occurred))
    for row in rows:
        schedule = schedules[row.document_type]
        event = None
        if schedule.trigger == "event":
            event = first.get(("document", row.id, schedule.event_name)) or \
                first.get(("customer", row.customer_id, schedule.event_name))
        filed_on = as_utc(row.filed_at).date() if row.filed_at else None
        trigger, due = compute(schedule, filed_on, row.document_date, row.contract_end_date, event)
        yield row.id, trigger, due, schedule.action


def recompute_dispositions(uow: UnitOfWork, *, actor: Actor, document_ids: Collection[int] | None = None,
                           document_type: str | None = None) -> tuple[int, int]:
    """Inside an open unit of work: store the disposition dates of the documents given (default all)
    that changed; held documents keep theirs. Returns (changed, kept by a hold); audited when any changed."""
    schedules = effective_schedules(uow)
    wanted = list(planned(uow, schedules, document_ids, document_type))
    current = _current_dates(uow, None if document_ids is None and document_type is None else
                             [doc for doc, *_ in wanted])
    changed = [(doc, trigger, due, action) for doc, trigger, due, action in wanted
               if doc not in current or current[doc] != due]
    held = held_document_ids(uow.session, [doc for doc, *_ in changed if doc in current])
    changed = [row for row in changed if row[0] not in held]
    ids = [doc for doc, *_ in changed]
    for start in range(0, len(ids), CHUNK):
        uow.session.execute(delete(Disposition).where(Disposition.document_id.in_(ids[start:start + CHUNK])))
    for start in range(0, len(changed), BATCH):
        uow.session.execute(insert(Disposition), [
            {"document_id": doc, "trigger_date": trigger, "due_on": due, "action": action}
            for doc, trigger, due, action in changed[start:start + BATCH]])
    if changed:
        audit.record(uow.session, actor, event_dispositions_computed, documents=len(changed), held=len(held),
                     document_type=document_type or "")
    return len(changed), len(held)


def _current_dates(uow: UnitOfWork, document_ids: list[int] | None) -> dict[int, date | None]:
    """Stored disposition dates: of these documents (a filing, an event), or of all (a full run)."""
    query = select(Disposition.document_id, Disposition.due_on)
    if document_ids is None:
        return dict(uow.session.execute(query).all())
    found: dict[int, date | None] = {}
    for start in range(0, len(document_ids), CHUNK):
        found.update(uow.session.execute(
            query.where(Disposition.document_id.in_(document_ids[start:start + CHUNK]))).all())
    return found


def due_records(uow: UnitOfWork, *, actor: Actor, on: date | None = None, limit: int = 500) -> list[DueRecordView]:
    """Documents whose disposition date has come (by `on`, default today), not held, not shredded; oldest
    due first. The list is the archive room's, of every department: it shows record metadata (archive
    code, type, department, date), no content. Requires permission_disposition_view."""
    with uow:
        access.require(actor, permission_disposition_view)
        on = on or uow.clock.today()
        rows = uow.session.execute(
            select(Document.id, Document.archive_code, Document.document_type, Department.code, Disposition.due_on,
                   Disposition.action)
            .join(Disposition, Disposition.document_id == Document.id)
            .join(Department, Department.id == Document.department_id)
            .where(Disposition.due_on <= on, ~Document.is_shredded, ~covered_by_active_hold())
            .order_by(Disposition.due_on, Document.id).limit(limit)
        ).all()
    return [DueRecordView(*row) for row in rows]


def refresh_dispositions(uow: UnitOfWork, *, actor: Actor) -> tuple[int, int]:
    """Recompute every document's disposition date (the daily job: new captures get theirs). Returns
    (changed, kept by a hold). Requires permission_schedule_manage."""
    with uow:
        access.require(actor, permission_schedule_manage)
        result = recompute_dispositions(uow, actor=actor)
        uow.commit()
        return result


def on_filed(uow: UnitOfWork, actor: Actor, document_ids: list[int]) -> None:
    """Inside the filing transaction: the documents just filed get their disposition dates."""
    recompute_dispositions(uow, actor=actor, document_ids=document_ids)
