"""Record audit events inside the caller's transaction; audit cannot be switched off."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from archive import audit_chain as chain
from archive.actors import Actor
from archive.models import AuditEvent, utcnow


def record(
    session: Session,
    actor: Actor,
    event_type: str,
    *,
    outcome: str = "ok",
    target_type: str = "",
    target_id: object = "",
    **detail: Any,
) -> AuditEvent:
    if target_type == "document" and actor.grants and str(target_id).isdigit():  # a borrowed file (seed 002)
        lent = actor.grant_for(int(str(target_id)))
        if lent is not None:  # the request number and purpose
            detail = {**detail, "borrow_request": lent.request_number, "purpose": lent.purpose}
    if actor.api_token_id is not None:  # the request came with a personal API token
        detail = {**detail, "api_token": actor.api_token_id}
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.user_id,
        actor_name=actor.username,
        event_type=event_type,
        target_type=target_type,
        target_id="" if target_id is None else str(target_id),
        outcome=outcome,
        remote_addr=actor.remote_addr,
        detail=chain.normalise_json(detail),
    )
    chain.enqueue(session, event)  # added, with its place in the hash chain, when the session commits
    return event
