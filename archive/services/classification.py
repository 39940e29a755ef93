"""Classification as governed data: raising or lowering (解密) a record's 密级 is a request that the
security administrator decides, audited with before and after. A document is never below its
dossier's level; a held record (retention's legal hold) is not lowered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, ValidationError
from archive.events import (
    event_classification_change_decided,
    event_classification_change_requested,
    event_classification_changed,
)
from archive.models import ClassificationChange, ClassificationLevel, Document, Dossier, User, as_utc
from archive.permissions import (
    permission_classification_approve,
    permission_classification_request,
)
from archive.roles import SECURITY_ADMIN
from archive.services import inbox, indexing
from archive.unit_of_work import UnitOfWork

TARGETS = ("document", "dossier")


@dataclass(frozen=True)
class ClassificationChangeView:
    id: int
    target_type: str
    target_id: int
    target_label: str  # archive code or dossier title
    before: str
    after: str
    reason: str
    status: str
    requested_by: str
    requested_at: datetime
    comment: str


def rank(session, code: str) -> int:  # noqa: ANN001
    level = session.get(ClassificationLevel, code)
    if level is None:
        raise ValidationError(f"unknown classification {code!r}", code="unknown_classification", params={"value": code},
                              field="classification")
    return level.rank


def check_document_level(session, document: Document, level: str) -> None:  # noqa: ANN001
    """ValidationError when level is below the document's dossier's level."""
    floor = (document.dossier.classification or "public") if document.dossier is not None else "public"
    if rank(session, level) < rank(session, floor):
        raise ValidationError(f"a document is never below its dossier's level ({floor})", code="below_dossier_level",
                              params={"level": floor}, field="classification")


def _target(uow: UnitOfWork, target_type: str, target_id: int) -> Document | Dossier:
    if target_type not in TARGETS:
        raise ValidationError(f"target must be one of {', '.join(TARGETS)}", code="unknown_target",
                              params={"value": target_type})
    target = uow.session.get(Document if target_type == "document" else Dossier, target_id)
    if target is None:
        raise NotFoundError(f"no {target_type} {target_id}")
    return target


def request_change(uow: UnitOfWork, *, actor: Actor, target_type: str, target_id: int, level: str,
                   reason: str) -> int:
    """Ask for a new level for a document or a dossier of the actor's department. Requires
    permission_classification_request; the security administrators are notified."""
    with uow:
        session = uow.session
        target = _target(uow, target_type, target_id)
        access.require(actor, permission_classification_request, target)
        if not reason.strip():
            raise ValidationError("a reason is required", code="reason_required", field="reason")
        before = target.classification
        wanted = session.get(ClassificationLevel, level)
        if wanted is not None and not wanted.active:  # it names the records that have it, takes no new ones
            raise ValidationError(f"classification {level!r} is no longer in use", code="inactive_reference",
                                  params={"value": level}, field="classification")
        if rank(session, level) == rank(session, before):
            raise ValidationError(f"the {target_type} is already {level}", code="classification_unchanged",
                                  params={"level": level}, field="classification")
        if isinstance(target, Document):
            check_document_level(session, target, level)
        change = ClassificationChange(target_type=target_type, target_id=target.id, before=before, after=level,
                                      reason=reason.strip(), status="pending", requested_by_id=actor.user_id,
                                      requested_at=uow.clock.now(), comment="")
        session.add(change)
        session.flush()
        audit.record(session, actor, event_classification_change_requested, target_type=target_type,
                     target_id=target.id, request_id=change.id, before=before, after=level)
        admins = session.scalars(select(User.id).where(User.role == SECURITY_ADMIN, User.active.is_(True)))
        inbox.notify(uow, admins, "classification.to_decide", link="/classification", id=change.id)
        uow.commit()
        return change.id


def decide_change(uow: UnitOfWork, *, actor: Actor, change_id: int, approve: bool, comment: str = "") -> None:
    """Approve (the level applies: a dossier raised lifts its documents below the new level with it) or
    reject (a comment is required). Requires permission_classification_approve; nobody decides their own."""
    with uow:
        access.require(actor, permission_classification_approve)
        session = uow.session
        change = session.get(ClassificationChange, change_id, with_for_update=True)
        if change is None or change.status != "pending":
            raise NotFoundError(f"no pending classification change {change_id}")
        if actor.user_id == change.requested_by_id:
            raise access.denied(actor, permission_classification_approve, "a second person must decide",
                                "classification_change", change.id)
        if not approve and not comment.strip():
            raise ValidationError("a reason is required to reject", code="reject_reason_required", field="comment")
        target = _target(uow, change.target_type, change.target_id)
        change.status = "approved" if approve else "rejected"
        change.decided_by_id, change.decided_at, change.comment = actor.user_id, uow.clock.now(), comment.strip()
        audit.record(session, actor, event_classification_change_decided, target_type=change.target_type,
                     target_id=change.target_id, request_id=change.id, outcome_decided=change.status,
                     comment=change.comment)
        if approve:
            _apply(uow, actor, change, target)
        inbox.notify(uow, [change.requested_by_id], "classification.decided", link="/classification",
                     id=change.id, outcome=change.status)
        uow.commit()


def _apply(uow: UnitOfWork, actor: Actor, change: ClassificationChange, target: Document | Dossier) -> None:
    session = uow.session
    lowering = rank(session, change.after) < rank(session, target.classification)
    documents = [target] if isinstance(target, Document) else []
    if isinstance(target, Dossier):
        level = rank(session, change.after)
        documents = [d for d in session.scalars(select(Document).where(Document.dossier_id == target.id))
                     if rank(session, d.classification) < level]
    if lowering and isinstance(target, Document):
        check_document_level(session, target, change.after)
        if uow.disposition_guard.held(session, [target.id]):
            raise ValidationError("the record is under a legal hold: its classification is not lowered",
                                  code="held_not_lowered")
    if lowering and isinstance(target, Dossier):
        held_ids = [d for d in session.scalars(select(Document.id).where(Document.dossier_id == target.id))]
        if uow.disposition_guard.held(session, held_ids):
            raise ValidationError("a record of the dossier is under a legal hold: its level is not lowered",
                                  code="held_not_lowered")
    before = target.classification
    target.classification = change.after
    audit.record(session, actor, event_classification_changed, target_type=change.target_type,
                 target_id=target.id, request_id=change.id, before=before, after=change.after)
    for document in documents:
        if document is target:
            continue
        audit.record(session, actor, event_classification_changed, target_type="document", target_id=document.id,
                     request_id=change.id, before=document.classification, after=change.after, via="dossier")
        document.classification = change.after
    for document in documents:  # the index filters by classification
        indexing.queue_reindex(uow, document.id)


def list_changes(uow: UnitOfWork, *, actor: Actor, status: str = "pending", limit: int = 500,
                 before_id: int | None = None) -> list[ClassificationChangeView]:
    """Newest first (`limit` older than `before_id`: the API's pages). Requires
    permission_classification_approve (the security administrator's list)."""
    with uow:
        access.require(actor, permission_classification_approve)
        session = uow.session
        query = select(ClassificationChange, User.username).join(User, User.id == ClassificationChange.requested_by_id)
        if status:
            query = query.where(ClassificationChange.status == status)
        if before_id is not None:
            query = query.where(ClassificationChange.id < before_id)
        views = []
        for change, username in session.execute(query.order_by(ClassificationChange.id.desc()).limit(limit)):
            target = session.get(Document if change.target_type == "document" else Dossier, change.target_id)
            label = getattr(target, "archive_code", None) or getattr(target, "title", "")
            views.append(ClassificationChangeView(change.id, change.target_type, change.target_id, label, change.before,
                                                  change.after, change.reason, change.status, username,
                                                  as_utc(change.requested_at), change.comment))
        return views
