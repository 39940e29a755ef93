"""The auditor's review desk: filtered trail pages (keyset by seq), a document's trail, per-user statistics,
and the trail's verification status in plain words. Every read is audited; PII in details is masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from archive import access, audit
from archive.actors import Actor
from archive.compliance.events import event_audit_verified
from archive.compliance.models import AuditCheckpoint
from archive.compliance.permissions import permission_audit_view
from archive.events import event_audit_viewed
from archive.models import AuditChainHead, AuditEvent, Customer, Document
from archive.pii import lookup_hash, redact
from archive.unit_of_work import UnitOfWork

PAGE_SIZE = 50


@dataclass(frozen=True)
class DeskFilters:
    user: str = ""
    customer: str = ""  # customer id, or the ID number / credit code (looked up by keyed hash)
    document: str = ""  # document id
    archive_code: str = ""
    event_type: str = ""
    outcome: str = ""
    address: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def active(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v}


@dataclass(frozen=True)
class DeskEvent:
    id: int
    seq: int | None
    occurred_at: datetime
    actor: str
    event_type: str
    target_type: str
    target_id: str
    outcome: str
    remote_addr: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class DeskPage:
    events: list[DeskEvent]
    next_before: int | None  # pass as `before` for the next (older) page
    filters: DeskFilters = field(default_factory=DeskFilters)


@dataclass(frozen=True)
class UserStatistics:
    user: str
    events: int
    documents_viewed: int
    downloads: int
    denials: int


@dataclass(frozen=True)
class TrailStatus:
    head_seq: int
    last_checkpoint_number: int | None
    last_checkpoint_at: datetime | None
    last_checkpoint_seq: int | None
    unsigned_events: int
    last_verified_at: datetime | None
    last_verified_ok: bool | None
    first_problem: str
    last_verified_by: str


def mask_detail(value: Any) -> Any:
    """ID numbers and mobile numbers masked wherever they sit in an event's detail."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: mask_detail(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_detail(v) for v in value]
    return value


def _view(row: AuditEvent) -> DeskEvent:
    return DeskEvent(row.id, row.seq, row.occurred_at, row.actor_name, row.event_type, row.target_type,
                     row.target_id, row.outcome, row.remote_addr, mask_detail(dict(row.detail or {})))


def _document_ids(uow: UnitOfWork, filters: DeskFilters) -> tuple[list[str], list[str]] | None:
    """(customer ids, document ids) the target filters name; None when none narrows by target."""
    customers: list[str] = []
    documents: list[str] = []
    narrowed = False
    if filters.customer:
        narrowed = True
        value = filters.customer.strip()
        if value.isdigit() and len(value) < 15:
            customer_ids = [int(value)]
        else:
            digest = lookup_hash(value, uow.keyring)
            customer_ids = list(uow.session.scalars(select(Customer.id).where(Customer.identity_hash == digest)))
        customers = [str(c) for c in customer_ids]
        documents = [str(d) for d in uow.session.scalars(
            select(Document.id).where(Document.customer_id.in_(customer_ids)))] if customer_ids else []
    if filters.archive_code:
        narrowed = True
        ids = [str(d) for d in uow.session.scalars(
            select(Document.id).where(Document.archive_code == filters.archive_code.strip()))]
        documents = [d for d in documents if d in ids] if filters.customer else ids
        customers = []
    if filters.document:
        narrowed = True
        wanted = filters.document.strip()
        documents = [wanted] if not (filters.customer or filters.archive_code) or wanted in documents else []
        customers = []
    return (customers, documents) if narrowed else None


def _conditions(uow: UnitOfWork, filters: DeskFilters) -> list[Any]:
    conditions: list[Any] = []
    if filters.user:
        conditions.append(AuditEvent.actor_name == filters.user.strip())
    if filters.event_type:
        conditions.append(AuditEvent.event_type == filters.event_type.strip())
    if filters.outcome:
        conditions.append(AuditEvent.outcome == filters.outcome.strip())
    if filters.address:
        conditions.append(AuditEvent.remote_addr == filters.address.strip())
    if filters.since:
        conditions.append(AuditEvent.occurred_at >= filters.since)
    if filters.until:
        conditions.append(AuditEvent.occurred_at < filters.until)
    targets = _document_ids(uow, filters)
    if targets is not None:
        customers, documents = targets
        parts = []
        if customers:
            parts.append(and_(AuditEvent.target_type == "customer", AuditEvent.target_id.in_(customers)))
        if documents:
            parts.append(and_(AuditEvent.target_type == "document", AuditEvent.target_id.in_(documents)))
        conditions.append(or_(*parts) if parts else AuditEvent.id.is_(None))
    return conditions


def search_trail(uow: UnitOfWork, *, actor: Actor, filters: DeskFilters, before: int | None = None,
                 limit: int = PAGE_SIZE) -> DeskPage:
    """Newest first, `limit` events older than seq `before`. Requires permission_audit_view."""
    with uow:
        access.require(actor, permission_audit_view)
        query = select(AuditEvent).where(*_conditions(uow, filters))
        if before is not None:
            query = query.where(AuditEvent.seq < before)
        rows = list(uow.session.scalars(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)))
        events = [_view(row) for row in rows[:limit]]
        next_before = events[-1].seq if len(rows) > limit and events else None
        audit.record(uow.session, actor, event_audit_viewed, desk=True, results=len(events),
                     before=before, **{f"filter_{k}": v for k, v in filters.active().items()})
        uow.commit()
        return DeskPage(events, next_before, filters)


def user_statistics(uow: UnitOfWork, *, actor: Actor, since: datetime | None = None,
                    until: datetime | None = None, limit: int = 50, offset: int = 0) -> list[UserStatistics]:
    """Per-user access counts in the period, busiest first (`offset` skips the first users: the API's
    pages). Requires permission_audit_view."""
    with uow:
        access.require(actor, permission_audit_view)
        conditions = []
        if since:
            conditions.append(AuditEvent.occurred_at >= since)
        if until:
            conditions.append(AuditEvent.occurred_at < until)
        viewed = func.count(func.distinct(case(
            (AuditEvent.event_type.in_(("document.viewed", "page.image_viewed")), AuditEvent.target_id))))
        downloads = func.sum(case((AuditEvent.event_type == "document.downloaded", 1), else_=0))
        denials = func.sum(case((AuditEvent.outcome == "denied", 1), else_=0))
        total = func.count()
        rows = uow.session.execute(
            select(AuditEvent.actor_name, total, viewed, downloads, denials).where(*conditions)
            .group_by(AuditEvent.actor_name).order_by(total.desc(), AuditEvent.actor_name)
            .offset(offset).limit(limit)).all()
        stats = [UserStatistics(name, int(n), int(v or 0), int(d or 0), int(x or 0)) for name, n, v, d, x in rows]
        audit.record(uow.session, actor, event_audit_viewed, desk="statistics", users=len(stats))
        uow.commit()
        return stats


def trail_status(uow: UnitOfWork, *, actor: Actor) -> TrailStatus:
    """The head, the last checkpoint and the last verification. Requires permission_audit_view."""
    with uow:
        access.require(actor, permission_audit_view)
        head = uow.session.scalar(select(AuditChainHead.seq).where(AuditChainHead.id == 1)) or 0
        checkpoint = uow.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.number.desc())
                                         .limit(1)).first()
        verified = uow.session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_audit_verified)
                                       .order_by(AuditEvent.seq.desc()).limit(1)).first()
        return TrailStatus(
            head_seq=head,
            last_checkpoint_number=checkpoint.number if checkpoint else None,
            last_checkpoint_at=checkpoint.signed_at if checkpoint else None,
            last_checkpoint_seq=checkpoint.seq if checkpoint else None,
            unsigned_events=head - (checkpoint.seq if checkpoint else 0),
            last_verified_at=verified.occurred_at if verified else None,
            last_verified_ok=(verified.outcome == "ok") if verified else None,
            first_problem=str((verified.detail or {}).get("first_problem", "")) if verified else "",
            last_verified_by=verified.actor_name if verified else "",
        )


def event_types() -> list[str]:
    """The event types the core and the compliance feature declare (for the filter list)."""
    from archive import events
    from archive.compliance import events as compliance_events

    return sorted({value for module in (events, compliance_events) for name, value in vars(module).items()
                   if name.startswith("event_")})
