"""Reading the audit trail (compliance). Reading it is itself audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.events import event_audit_viewed
from archive.models import AuditEvent
from archive.permissions import permission_audit_view
from archive.unit_of_work import UnitOfWork
from archive.views import AuditEventView


def list_audit_events(
    uow: UnitOfWork, *, actor: Actor, event_type: str = "", actor_name: str = "", outcome: str = "",
    since: datetime | None = None, limit: int = 200,
) -> list[AuditEventView]:
    """Newest first, filtered. Requires permission_audit_view."""
    with uow:
        access.require(actor, permission_audit_view)
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if event_type:
            query = query.where(AuditEvent.event_type == event_type)
        if actor_name:
            query = query.where(AuditEvent.actor_name == actor_name)
        if outcome:
            query = query.where(AuditEvent.outcome == outcome)
        if since:
            query = query.where(AuditEvent.occurred_at >= since)
        events = [
            AuditEventView(e.id, e.occurred_at, e.actor_name, e.event_type,
                           f"{e.target_type}:{e.target_id}" if e.target_type else "", e.outcome, e.remote_addr,
                           dict(e.detail or {}))
            for e in uow.session.scalars(query)
        ]
        audit.record(uow.session, actor, event_audit_viewed, type_filter=event_type, actor_filter=actor_name,
                     outcome_filter=outcome, results=len(events))
        uow.commit()
        return events
