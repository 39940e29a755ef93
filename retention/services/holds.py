"""Legal holds 冻结: placed and released with a reason by a records manager; binding through HoldGuard.

A hold covers everything under its target: a customer's every document (including those captured
later), a dossier's documents, or one document. The archive asks the guard (archive.ports
.DispositionGuard) inside the transaction that would destroy or delete a record, so a hold committed
a moment earlier wins.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, ValidationError
from archive.identity import classify_identifier
from archive.models import Customer, Document, Dossier, User
from archive.permissions import permission_document_view
from archive.pii import lookup_hash, redact
from archive.unit_of_work import UnitOfWork
from retention.events import event_hold_placed, event_hold_released
from retention.models import HOLD_TARGETS, HOLD_TYPES, LegalHold
from retention.permissions import permission_hold_manage, permission_hold_view
from retention.views import LegalHoldView

CHUNK = 500  # ids per IN (...) list: SQLite bounds the parameters of one statement


@dataclass(frozen=True)
class HoldTarget:
    """What a hold is placed on: a customer by ID number or credit code, a dossier by id, a document by
    archive code."""

    kind: str  # customer | dossier | document
    ref: str


def covered_by_active_hold() -> ColumnElement[bool]:
    """A SQL condition on Document: some hold not yet released covers it."""
    active = LegalHold.released_at.is_(None)
    return or_(*(
        exists().where(active, LegalHold.target_type == kind, LegalHold.target_id == column)
        for kind, column in (("document", Document.id), ("dossier", Document.dossier_id),
                             ("customer", Document.customer_id))
    ))


def held_document_ids(session: Session, document_ids: Iterable[int] | None = None) -> set[int]:
    """The documents (of those given, or of all) that an active hold covers."""
    if document_ids is None:
        return set(session.scalars(select(Document.id).where(covered_by_active_hold())))
    ids, held = list(document_ids), set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        held.update(session.scalars(select(Document.id).where(Document.id.in_(chunk), covered_by_active_hold())))
    return held


class HoldGuard:
    """Retention's DispositionGuard: a record under an active hold is not disposed of."""

    def held(self, session: Session, document_ids: Collection[int]) -> set[int]:
        return held_document_ids(session, document_ids)


def place_legal_hold(uow: UnitOfWork, *, actor: Actor, target: HoldTarget, hold_type: str, reason: str) -> int:
    """Place a hold and return its id. Requires permission_hold_manage; audited as retention.hold_placed.
    Raises ValidationError (unknown type, no reason), NotFoundError (no such target), AccessDenied."""
    reason = reason.strip()
    if hold_type not in HOLD_TYPES:
        raise ValidationError(f"hold type must be one of {', '.join(HOLD_TYPES)}", code="unknown_hold_type",
                              params={"value": hold_type}, field="hold_type")
    if not reason:
        raise ValidationError("say why the hold is placed (the case, the inspection, the audit)",
                              code="hold_reason_required", field="reason")
    with uow:
        access.require(actor, permission_hold_manage)
        target_id, label = _resolve(uow, target)
        hold = LegalHold(target_type=target.kind, target_id=target_id, hold_type=hold_type, reason=redact(reason),
                         placed_by_id=actor.user_id, placed_at=uow.clock.now())
        uow.session.add(hold)
        uow.session.flush()
        audit.record(uow.session, actor, event_hold_placed, target_type=target.kind, target_id=target_id,
                     hold_id=hold.id, hold_type=hold_type, reason=hold.reason, target=label)
        uow.commit()
        return hold.id


def release_legal_hold(uow: UnitOfWork, *, actor: Actor, hold_id: int, reason: str) -> None:
    """Release a hold with a reason. Requires permission_hold_manage; audited as retention.hold_released.
    Raises ValidationError (no reason, already released), NotFoundError, AccessDenied."""
    reason = reason.strip()
    if not reason:
        raise ValidationError("say why the hold is released (the case closed, the inspection ended)",
                              code="release_reason_required", field="reason")
    with uow:
        access.require(actor, permission_hold_manage)
        hold = uow.session.get(LegalHold, hold_id)
        if hold is None:
            raise NotFoundError(f"no legal hold {hold_id}")
        if hold.released_at is not None:
            raise ValidationError(f"legal hold {hold_id} was already released", code="hold_already_released",
                                  params={"id": hold_id})
        hold.released_at, hold.released_by_id, hold.release_reason = uow.clock.now(), actor.user_id, redact(reason)
        audit.record(uow.session, actor, event_hold_released, target_type=hold.target_type,
                     target_id=hold.target_id, hold_id=hold.id, reason=hold.release_reason)
        uow.commit()


def list_legal_holds(uow: UnitOfWork, *, actor: Actor, active_only: bool = True, limit: int | None = None,
                     before_id: int | None = None) -> list[LegalHoldView]:
    """Every hold, newest first (`limit` older than `before_id`: the API's pages). Requires
    permission_hold_manage."""
    with uow:
        access.require(actor, permission_hold_manage)
        query = select(LegalHold).order_by(LegalHold.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(LegalHold.id < before_id)
        if active_only:
            query = query.where(LegalHold.released_at.is_(None))
        return _views(uow, list(uow.session.scalars(query)))


def holds_on_document(uow: UnitOfWork, *, actor: Actor, document_id: int) -> list[LegalHoldView]:
    """The active holds that cover a document, for anyone who may view it (read-only). Requires
    permission_hold_view and permission_document_view on the document."""
    with uow:
        document = uow.session.get(Document, document_id)
        if document is None:
            raise NotFoundError(f"no document {document_id}")
        access.require(actor, permission_document_view, document)
        access.require(actor, permission_hold_view, document)
        covers = or_(*(and_(LegalHold.target_type == kind, LegalHold.target_id == value)
                       for kind, value in (("document", document.id), ("dossier", document.dossier_id),
                                           ("customer", document.customer_id)) if value is not None))
        holds = uow.session.scalars(select(LegalHold).where(LegalHold.released_at.is_(None), covers)
                                    .order_by(LegalHold.id))
        return _views(uow, list(holds))


def _resolve(uow: UnitOfWork, target: HoldTarget) -> tuple[int, str]:
    """The target's id and a label that shows no PII."""
    session, ref = uow.session, target.ref.strip()
    if target.kind not in HOLD_TARGETS:
        raise ValidationError(f"a hold is placed on one of {', '.join(HOLD_TARGETS)}", code="unknown_target",
                              params={"value": target.kind})
    if target.kind == "customer":
        _, normalised = classify_identifier(ref)
        customer = session.scalar(select(Customer).where(Customer.identity_hash == lookup_hash(normalised,
                                                                                                uow.keyring)))
        if customer is None:
            raise NotFoundError("no customer with that ID number or credit code")
        return customer.id, customer.identity_masked
    if target.kind == "dossier":
        dossier = session.get(Dossier, int(ref)) if ref.isdigit() and len(ref) < 19 else None
        if dossier is None:
            raise NotFoundError(f"no dossier {ref}")
        return dossier.id, redact(dossier.title)
    document = session.scalar(select(Document).where(Document.archive_code == ref))
    if document is None:
        raise NotFoundError(f"no document with archive code {ref}")
    return document.id, document.archive_code


def _views(uow: UnitOfWork, holds: list[LegalHold]) -> list[LegalHoldView]:
    names = dict(uow.session.execute(select(User.id, User.username).where(
        User.id.in_({h.placed_by_id for h in holds} | {h.released_by_id for h in holds}))).all())
    labels = _labels(uow.session, holds)
    return [LegalHoldView(h.id, h.target_type, h.target_id, labels.get((h.target_type, h.target_id), ""),
                          h.hold_type, h.reason, names.get(h.placed_by_id, "system"), h.placed_at,
                          names.get(h.released_by_id) if h.released_by_id else None, h.released_at,
                          h.release_reason) for h in holds]


def _labels(session: Session, holds: list[LegalHold]) -> dict[tuple[str, int], str]:
    """One query per target kind: archive codes, dossier titles (redacted), masked customer identities."""
    wanted: dict[str, set[int]] = {}
    for hold in holds:
        wanted.setdefault(hold.target_type, set()).add(hold.target_id)
    labels: dict[tuple[str, int], str] = {}
    for kind, model, column in (("document", Document, Document.archive_code), ("dossier", Dossier, Dossier.title),
                                ("customer", Customer, Customer.identity_masked)):
        if kind in wanted:
            for row_id, label in session.execute(select(model.id, column).where(model.id.in_(wanted[kind]))):
                labels[(kind, row_id)] = redact(label)
    return labels
