"""Appraisal 鉴定 and destruction 销毁.

Due records are gathered into one open batch per department. Each record is decided by the group:
a decision counts once at least two appraisers agree on it (destroy, extend by the same N years, or
transfer), each with a reason for an extension. When every record is decided the batch is appraised,
and a leader approves it or returns it to the group with a comment (their votes are cleared).

An approved batch is executed as a resumable run: each record in its own transaction, which asks the
hold guard, crypto-shreds the record (archive.services.shredding.shred: data key destroyed, text, word
boxes and index entries gone, objects deleted after commit), forgets its content hash for the duplicate
check, and writes its destruction-register entry. A record a hold covers by then is skipped and says so.
Killed part-way, the run is started again and goes on from the first record without an outcome. Once
every record has its outcome, the register is kept as a sealed PDF snapshot (register.keep_register).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError, RecordHeldError, ValidationError
from archive.models import Department, Document, User
from archive.pii import redact
from archive.services.shredding import shred
from archive.unit_of_work import UnitOfWork
from retention.events import (
    event_appraisal_batch_approved,
    event_appraisal_batch_opened,
    event_appraisal_batch_rejected,
    event_destruction_skipped,
    event_record_appraised,
    event_record_destroyed,
    event_record_extended,
)
from retention.models import (
    DECISIONS,
    AppraisalBatch,
    AppraisalItem,
    AppraisalVote,
    DestructionRecord,
    Disposition,
)
from retention.permissions import (
    DISPOSAL_ACTOR,
    permission_appraisal_decide,
    permission_disposition_approve,
    permission_disposition_execute,
    permission_disposition_view,
    permission_schedule_manage,
)
from retention.services.dispositions import MAX_YEARS, add_period, effective_schedules
from retention.services.holds import covered_by_active_hold
from retention.services.register import keep_register, register_values
from retention.views import AppraisalBatchView, AppraisalItemView

MIN_APPRAISERS = 2
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class DestructionRun:
    batch_id: int
    destroyed: int
    extended: int
    for_transfer: int
    held: int  # skipped: a hold placed after approval covers them
    register_snapshot: int | None = None  # the register kept as a record once the batch destroyed records


def gather_due_records(uow: UnitOfWork, *, actor: Actor, on: date | None = None) -> list[int]:
    """Put every due record (not held, not shredded, in no open batch yet) into its department's open
    batch, opening one where needed; returns the batches that received records. Requires
    permission_schedule_manage (the records manager, or the daily job)."""
    with uow:
        access.require(actor, permission_schedule_manage)
        on = on or uow.clock.today()
        in_open_batch = select(AppraisalItem.document_id).join(AppraisalBatch).where(
            AppraisalBatch.status != "done")
        due = uow.session.execute(
            select(Document.id, Document.department_id, Disposition.due_on)
            .join(Disposition, Disposition.document_id == Document.id)
            .where(Disposition.due_on <= on, ~Document.is_shredded, ~covered_by_active_hold(),
                   Document.id.not_in(in_open_batch))
            .order_by(Document.id)).all()
        batches: dict[int, AppraisalBatch] = {}
        for document_id, department_id, due_on in due:
            batch = batches.get(department_id) or _open_batch(uow, actor, department_id)
            batches[department_id] = batch
            uow.session.add(AppraisalItem(batch_id=batch.id, document_id=document_id, due_on=due_on))
        uow.commit()
        return sorted(batch.id for batch in batches.values())


def _open_batch(uow: UnitOfWork, actor: Actor, department_id: int) -> AppraisalBatch:
    batch = uow.session.scalar(select(AppraisalBatch).where(AppraisalBatch.department_id == department_id,
                                                            AppraisalBatch.status == "appraising"))
    if batch is None:
        batch = AppraisalBatch(department_id=department_id, created_at=uow.clock.now(), waiting_since=uow.clock.now())
        uow.session.add(batch)
        uow.session.flush()
        audit.record(uow.session, actor, event_appraisal_batch_opened, target_type="appraisal_batch",
                     target_id=batch.id, department_id=department_id)
    return batch


def appraise_record(uow: UnitOfWork, *, actor: Actor, batch_id: int, archive_code: str, decision: str,
                    extend_years: int | None = None, reason: str = "") -> str | None:
    """One appraiser's decision on a record of an open batch; returns the record's agreed decision so
    far (None until two appraisers agree). Requires permission_appraisal_decide; audited."""
    if decision not in DECISIONS:
        raise ValidationError(f"decision must be one of {', '.join(DECISIONS)}", code="unknown_decision",
                              params={"value": decision}, field="decision")
    if decision == "extend" and (not extend_years or extend_years < 1 or not reason.strip()):
        raise ValidationError("an extension gives a number of years and a reason", code="extension_years_and_reason")
    if decision == "extend" and (extend_years or 0) > MAX_YEARS:
        raise ValidationError(f"years must be at most {MAX_YEARS}", code="period_too_long", field="years",
                              params={"high": MAX_YEARS})
    with uow:
        access.require(actor, permission_appraisal_decide)
        batch = _batch(uow, batch_id, "appraising", "appraised")  # votes may change until a leader decides
        item = uow.session.scalar(select(AppraisalItem).join(Document, Document.id == AppraisalItem.document_id)
                                  .where(AppraisalItem.batch_id == batch.id, Document.archive_code == archive_code))
        if item is None:
            raise NotFoundError(f"{archive_code} is not in appraisal batch {batch_id}")
        vote = uow.session.scalar(select(AppraisalVote).where(AppraisalVote.item_id == item.id,
                                                              AppraisalVote.appraiser_id == actor.user_id))
        vote = vote or AppraisalVote(item_id=item.id, appraiser_id=actor.user_id)
        vote.decision, vote.extend_years = decision, extend_years if decision == "extend" else None
        vote.reason, vote.voted_at = redact(reason.strip()), uow.clock.now()
        uow.session.add(vote)
        uow.session.flush()
        votes = list(uow.session.scalars(select(AppraisalVote).where(AppraisalVote.item_id == item.id)))
        agreed = {(v.decision, v.extend_years) for v in votes}
        if len(votes) >= MIN_APPRAISERS and len(agreed) == 1:
            item.decision, item.extend_years = next(iter(agreed))
            item.reason = "; ".join(v.reason for v in votes if v.reason)
        else:
            item.decision, item.extend_years = None, None
        undecided = uow.session.scalar(select(func.count(AppraisalItem.id)).where(
            AppraisalItem.batch_id == batch.id, AppraisalItem.decision.is_(None)))
        status = "appraised" if undecided == 0 else "appraising"
        if status != batch.status:  # now waiting for other people: the reminder clock starts again
            batch.status, batch.waiting_since, batch.reminded_on = status, uow.clock.now(), None
        audit.record(uow.session, actor, event_record_appraised, target_type="document", target_id=item.document_id,
                     batch_id=batch.id, decision=decision, extend_years=vote.extend_years, reason=vote.reason,
                     agreed=item.decision)
        uow.commit()
        return item.decision


def decide_batch(uow: UnitOfWork, *, actor: Actor, batch_id: int, approve: bool, comment: str = "") -> None:
    """A leader approves an appraised batch, or returns it to the group with a comment (required); the
    group's votes are then cleared. Requires permission_disposition_approve; audited."""
    if not approve and not comment.strip():
        raise ValidationError("say why the batch goes back to the appraisal group", code="reject_reason_required",
                              field="comment")
    with uow:
        access.require(actor, permission_disposition_approve)
        batch = _batch(uow, batch_id, "appraised")
        appraisers = set(uow.session.scalars(select(AppraisalVote.appraiser_id).join(AppraisalItem)
                                             .where(AppraisalItem.batch_id == batch.id)))
        if actor.user_id in appraisers:
            raise ValidationError("a leader who appraised the batch cannot approve it", code="appraiser_cannot_approve")
        batch.decided_by_id, batch.decided_at, batch.comment = actor.user_id, uow.clock.now(), redact(comment.strip())
        if approve:
            batch.status = "approved"
            audit.record(uow.session, actor, event_appraisal_batch_approved, target_type="appraisal_batch",
                         target_id=batch.id, comment=batch.comment)
        else:
            batch.status, batch.waiting_since, batch.reminded_on = "appraising", uow.clock.now(), None
            items = list(uow.session.scalars(select(AppraisalItem).where(AppraisalItem.batch_id == batch.id)))
            for item in items:
                item.decision, item.extend_years = None, None
            for vote in uow.session.scalars(select(AppraisalVote).where(
                    AppraisalVote.item_id.in_([item.id for item in items]))):
                uow.session.delete(vote)
            audit.record(uow.session, actor, event_appraisal_batch_rejected, target_type="appraisal_batch",
                         target_id=batch.id, comment=batch.comment)
        uow.commit()


def destroy_batch(uow: UnitOfWork, *, actor: Actor, batch_id: int,
                  progress: Progress | None = None) -> DestructionRun:
    """Execute an approved batch (resumable: rerun after a crash goes on where it stopped). Requires
    permission_disposition_execute; each record is audited and destroyed ones enter the register."""
    with uow:
        access.require(actor, permission_disposition_execute)
        batch = _batch(uow, batch_id, "approved", "destroying")
        batch.status = "destroying"
        item_ids = list(uow.session.scalars(select(AppraisalItem.id).where(
            AppraisalItem.batch_id == batch.id).order_by(AppraisalItem.id)))
        uow.commit()
    for done, item_id in enumerate(item_ids, start=1):
        _execute(uow, actor, item_id)
        if progress is not None:
            progress(done, len(item_ids))
    with uow:
        outcomes = dict(uow.session.execute(select(AppraisalItem.outcome, func.count(AppraisalItem.id))
                                            .where(AppraisalItem.batch_id == batch_id)
                                            .group_by(AppraisalItem.outcome)).all())
    # The register changed: keep it as a record before the batch is done, so a run killed here keeps it
    # when started again (keeping is idempotent per batch).
    snapshot = keep_register(uow, actor=actor, batch_id=batch_id).id if outcomes.get("destroyed") else None
    with uow:
        batch = _batch(uow, batch_id, "destroying")
        batch.status = "done"
        uow.commit()
    return DestructionRun(batch_id, outcomes.get("destroyed", 0), outcomes.get("extended", 0),
                          outcomes.get("transfer", 0), outcomes.get("held", 0), snapshot)


def _execute(uow: UnitOfWork, actor: Actor, item_id: int) -> None:
    """One record of a running batch, in one transaction; a record that has its outcome is left alone."""
    with uow:
        item = uow.session.get(AppraisalItem, item_id)
        assert item is not None
        if item.outcome is not None:
            return
        document = uow.session.get(Document, item.document_id)
        assert document is not None
        if item.decision == "transfer":
            item.outcome = "transfer"  # handed over by the transfer step (移交)
        elif item.decision == "extend":
            disposition = uow.session.get(Disposition, document.id)
            assert disposition is not None and item.extend_years
            disposition.due_on = add_period(item.due_on, item.extend_years, None)
            item.outcome = "extended"
            audit.record(uow.session, actor, event_record_extended, target_type="document", target_id=document.id,
                         archive_code=document.archive_code, years=item.extend_years, reason=item.reason,
                         due_on=disposition.due_on.isoformat())
        else:
            try:
                _destroy(uow, actor, item, document)
            except RecordHeldError:
                uow.session.rollback()
                item = uow.session.get(AppraisalItem, item_id)
                assert item is not None
                item.outcome = "held"
                audit.record(uow.session, actor, event_destruction_skipped, target_type="document",
                             target_id=item.document_id, batch_id=item.batch_id, reason="on hold")
        uow.commit()


def _destroy(uow: UnitOfWork, actor: Actor, item: AppraisalItem, document: Document) -> None:
    batch = uow.session.get(AppraisalBatch, item.batch_id)
    assert batch is not None and batch.decided_at is not None
    names = dict(uow.session.execute(select(User.id, User.username).where(User.id.in_(
        select(AppraisalVote.appraiser_id).where(AppraisalVote.item_id == item.id)) | (User.id == batch.decided_by_id)
    )).all())
    appraisers = sorted(name for user_id, name in names.items() if user_id != batch.decided_by_id)
    schedule = effective_schedules(uow)[document.document_type]
    sha256, pages = document.content_sha256, len(document.pages)
    shred(uow, actor=DISPOSAL_ACTOR, document=document, reason=f"disposition batch {batch.id}: {item.reason or 'due'}")
    document.content_sha256 = f"destroyed:{document.id}"  # the duplicate check forgets it; the register keeps it
    department = uow.session.get(Department, document.department_id)
    entry = DestructionRecord(
        document_id=document.id, archive_code=document.archive_code, title=redact(document.title),
        document_type=document.document_type, department=department.code if department else "",
        document_date=document.document_date, captured_at=document.captured_at, pages=pages,
        content_sha256=sha256, schedule=_describe(schedule), due_on=item.due_on, reason=item.reason or "due",
        appraisers=", ".join(appraisers), approved_by=names.get(batch.decided_by_id, ""),
        approved_at=batch.decided_at, executed_by=actor.username, destroyed_at=uow.clock.now(), batch_id=batch.id)
    uow.session.add(entry)
    item.outcome = "destroyed"
    # The chained audit event carries the whole register entry: the hash chain covers the register, and
    # register.verify_register finds an entry changed behind the database's back.
    audit.record(uow.session, actor, event_record_destroyed, target_type="document", target_id=document.id,
                 archive_code=document.archive_code, batch_id=batch.id, sha256=sha256,
                 register_entry=register_values(entry))


def _describe(schedule) -> str:  # noqa: ANN001 - a ScheduleView
    period = "permanent" if schedule.years is None and schedule.months is None else \
        f"{schedule.years or 0} years {schedule.months or 0} months"
    trigger = f"event {schedule.event_name}" if schedule.trigger == "event" else schedule.trigger
    return f"{schedule.document_type}: {period} from {trigger}, then {schedule.action}"


def _batch(uow: UnitOfWork, batch_id: int, *states: str) -> AppraisalBatch:
    batch = uow.session.get(AppraisalBatch, batch_id)
    if batch is None:
        raise NotFoundError(f"no appraisal batch {batch_id}")
    if batch.status not in states:
        raise ValidationError(f"appraisal batch {batch_id} is {batch.status}, not {' or '.join(states)}",
                              code="batch_wrong_state", params={"id": batch_id, "status": batch.status})
    return batch


def list_batches(uow: UnitOfWork, *, actor: Actor, status: str | None = None, limit: int | None = None,
                 before_id: int | None = None) -> list[AppraisalBatchView]:
    """Appraisal batches, newest first, with their records (`limit` older than `before_id`: the API's
    pages). Requires permission_disposition_view. Three queries whatever the number of batches."""
    with uow:
        access.require(actor, permission_disposition_view)
        query = (select(AppraisalBatch, Department.code).join(Department).order_by(AppraisalBatch.id.desc())
                 .limit(limit))
        if before_id is not None:
            query = query.where(AppraisalBatch.id < before_id)
        if status is not None:
            query = query.where(AppraisalBatch.status == status)
        batches = uow.session.execute(query).all()
        ids = [batch.id for batch, _ in batches]
        items: dict[int, list[AppraisalItemView]] = {batch_id: [] for batch_id in ids}
        votes = dict(uow.session.execute(
            select(AppraisalVote.item_id, func.count(AppraisalVote.id)).join(AppraisalItem)
            .where(AppraisalItem.batch_id.in_(ids)).group_by(AppraisalVote.item_id)).all())
        for item, code, document_type in uow.session.execute(
                select(AppraisalItem, Document.archive_code, Document.document_type)
                .join(Document, Document.id == AppraisalItem.document_id)
                .where(AppraisalItem.batch_id.in_(ids)).order_by(AppraisalItem.id)):
            items[item.batch_id].append(AppraisalItemView(item.document_id, code, document_type, item.due_on,
                                                          item.decision, votes.get(item.id, 0), item.outcome))
        return [AppraisalBatchView(batch.id, department, batch.status, batch.created_at, batch.comment,
                                   items[batch.id]) for batch, department in batches]
