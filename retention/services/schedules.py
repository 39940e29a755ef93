"""Retention schedules per document type ("the class decides the record's fate") and the named events
that start a clock. A change shows how many records it moves before it is saved (dry run)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, ValidationError
from archive.identity import classify_identifier
from archive.models import Customer, Document, DocumentType
from archive.pii import lookup_hash
from archive.unit_of_work import UnitOfWork
from retention.events import event_schedule_changed, event_trigger_recorded
from retention.models import ACTIONS, TRIGGERS, Disposition, RetentionEvent, RetentionSchedule
from retention.permissions import permission_disposition_view, permission_schedule_manage
from retention.services.dispositions import (
    MAX_MONTHS,
    MAX_YEARS,
    effective_schedules,
    planned,
    recompute_dispositions,
)
from retention.services.holds import held_document_ids
from retention.views import ScheduleChange, ScheduleView


def list_schedules(uow: UnitOfWork, *, actor: Actor) -> list[ScheduleView]:
    """Every document type's schedule, its own or the default. Requires permission_disposition_view."""
    with uow:
        access.require(actor, permission_disposition_view)
        return sorted(effective_schedules(uow).values(), key=lambda s: s.document_type)


def set_schedule(uow: UnitOfWork, *, actor: Actor, document_type: str, years: int | None, months: int | None,
                 trigger: str, action: str, event_name: str = "", dry_run: bool = False) -> ScheduleChange:
    """Give a document type its schedule (years and months both None: permanent) and recompute its
    documents' disposition dates; with dry_run, only say how many records it would move. Requires
    permission_schedule_manage; audited as retention.schedule_changed with before and after. Raises
    ValidationError, NotFoundError, AccessDenied."""
    if trigger not in TRIGGERS:
        raise ValidationError(f"trigger must be one of {', '.join(TRIGGERS)}", code="unknown_trigger",
                              params={"value": trigger}, field="trigger")
    if action not in ACTIONS:
        raise ValidationError(f"action must be one of {', '.join(ACTIONS)}", code="unknown_action",
                              params={"value": action}, field="action")
    if (trigger == "event") != bool(event_name.strip()):
        raise ValidationError("name the event (e.g. account_closed) exactly when the trigger is an event",
                              code="event_name_with_event_trigger", field="event_name")
    if any(value is not None and value < 0 for value in (years, months)) or (years == 0 and not months):
        raise ValidationError("a period is a positive number of years and/or months, or none (permanent)",
                              code="retention_period_positive", field="years")
    for name, value, high in (("years", years, MAX_YEARS), ("months", months, MAX_MONTHS)):
        if value is not None and value > high:
            raise ValidationError(f"{name} must be at most {high}", code="period_too_long", field=name,
                                  params={"high": high})
    with uow:
        access.require(actor, permission_schedule_manage)
        if uow.session.get(DocumentType, document_type) is None:
            raise NotFoundError(f"no document type {document_type!r}")
        schedules = effective_schedules(uow)
        before = schedules[document_type]
        after = ScheduleView(document_type, years, months, trigger, event_name.strip(), action, True)
        current = dict(uow.session.execute(
            select(Disposition.document_id, Disposition.due_on)
            .join(Document, Document.id == Disposition.document_id)
            .where(Document.document_type == document_type)).all())
        moved = [doc for doc, _, due, _ in planned(uow, {**schedules, document_type: after},
                                                    document_type=document_type) if current.get(doc) != due]
        held = held_document_ids(uow.session, moved)
        change = ScheduleChange(before, after, len(moved) - len(held), len(held), saved=not dry_run)
        if dry_run:
            return change
        row = uow.session.get(RetentionSchedule, document_type) or RetentionSchedule(document_type=document_type)
        row.years, row.months, row.trigger, row.event_name, row.action = years, months, trigger, after.event_name, action
        row.updated_at = uow.clock.now()
        uow.session.add(row)
        uow.session.flush()
        recompute_dispositions(uow, actor=actor, document_type=document_type)
        audit.record(uow.session, actor, event_schedule_changed, target_type="document_type",
                     target_id=document_type, before=asdict(before), after=asdict(after),
                     records_moved=change.records_moved, records_held=change.records_held)
        uow.commit()
        return change


def record_trigger_event(uow: UnitOfWork, *, actor: Actor, name: str, occurred_on: date,
                         customer: str | None = None, archive_code: str | None = None) -> int:
    """Record that a named event (account_closed 销户, contract_terminated 合同终止, ...) happened to a
    customer (by ID number or credit code) or to one document (by archive code), and recompute the
    disposition dates it starts. Returns how many dates changed. Requires permission_schedule_manage;
    audited as retention.trigger_recorded."""
    name = name.strip()
    if not name or (customer is None) == (archive_code is None):
        raise ValidationError("name the event and either the customer or the document it happened to",
                              code="trigger_needs_event_and_target")
    with uow:
        access.require(actor, permission_schedule_manage)
        if customer is not None:
            _, normalised = classify_identifier(customer)
            found = uow.session.scalar(select(Customer).where(
                Customer.identity_hash == lookup_hash(normalised, uow.keyring)))
            if found is None:
                raise NotFoundError("no customer with that ID number or credit code")
            event = RetentionEvent(name=name, customer_id=found.id, occurred_on=occurred_on)
            affected = list(uow.session.scalars(select(Document.id).where(Document.customer_id == found.id)))
            target = ("customer", found.id)
        else:
            document = uow.session.scalar(select(Document).where(Document.archive_code == archive_code))
            if document is None:
                raise NotFoundError(f"no document with archive code {archive_code}")
            event = RetentionEvent(name=name, document_id=document.id, occurred_on=occurred_on)
            affected, target = [document.id], ("document", document.id)
        event.recorded_by_id, event.recorded_at = actor.user_id, uow.clock.now()
        uow.session.add(event)
        uow.session.flush()
        changed, _ = recompute_dispositions(uow, actor=actor, document_ids=affected)
        audit.record(uow.session, actor, event_trigger_recorded, target_type=target[0], target_id=target[1],
                     name=name, occurred_on=occurred_on.isoformat(), dispositions_changed=changed)
        uow.commit()
        return changed
