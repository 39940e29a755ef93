"""Retention in the JSON API under /api/v1/retention: legal holds (list, place, release), appraisal
batches (gather the due records, each appraiser's vote, the leader's decision, the destruction), the
schedules (with a preview of what a change moves), the destruction register 销毁清册 and its kept
snapshots, and transfers to another department or fonds. The same services as the retention pages
(retention.services), which check the duties and audit every step."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.errors import ValidationError
from retention.models import ACTIONS, DECISIONS, HOLD_TARGETS, HOLD_TYPES, TRIGGERS
from retention.services import appraisal, dispositions, holds, register, schedules, transfers
from retention.services.appraisal import DestructionRun
from retention.services.dispositions import MAX_MONTHS, MAX_YEARS
from retention.views import (
    AppraisalBatchView,
    DueRecordView,
    LegalHoldView,
    RegisterEntryView,
    RegisterSnapshotView,
    ScheduleChange,
    ScheduleView,
    TransferView,
)
from web.api_auth import protect_api
from web.openapi import operation
from web.pagination import PageQuery, keyset_page, list_page, page_request
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("retention_api", __name__, url_prefix="/api/v1/retention")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

MAX_LIMIT = 200



class DueAnswer(BaseModel):
    records: list[DueRecordView] = Field(description="oldest due first (the first 500)")
    next_cursor: str | None


class HoldsQuery(PageQuery):
    all: bool = Field(False, description="released holds too")


class HoldsAnswer(BaseModel):
    holds: list[LegalHoldView]
    next_cursor: str | None


class NewHold(BaseModel):
    target_type: Literal[HOLD_TARGETS]  # type: ignore[valid-type]
    ref: str = Field(max_length=100, description="the customer's ID number or credit code, the dossier's id, "
                     "or the document's archive code")
    hold_type: Literal[HOLD_TYPES]  # type: ignore[valid-type]
    reason: str = Field(min_length=1, max_length=2000)


class CreatedHold(BaseModel):
    """The new record's id."""

    id: int


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class BatchesQuery(PageQuery):
    status: str = Field("", max_length=32, description="open, appraised, approved, destroying, done; "
                        "absent for all")


class BatchesAnswer(BaseModel):
    batches: list[AppraisalBatchView]
    next_cursor: str | None


class Gathered(BaseModel):
    batches: list[int] = Field(description="the batches that received records")


class Vote(BaseModel):
    archive_code: str = Field(max_length=100)
    decision: Literal[DECISIONS]  # type: ignore[valid-type]
    years: int | None = Field(None, ge=1, le=MAX_YEARS, description="for extend: by how many years")
    reason: str = Field("", max_length=2000, description="required for extend")


class VoteAnswer(BaseModel):
    agreed: str | None = Field(description="the record's decision once two appraisers agree")


class BatchDecision(BaseModel):
    approve: bool
    comment: str = Field("", max_length=2000, description="required when returning the batch")


class SchedulesAnswer(BaseModel):
    schedules: list[ScheduleView]


class RegisterAnswer(BaseModel):
    entries: list[RegisterEntryView]
    next_cursor: str | None


class NewSchedule(BaseModel):
    years: int | None = Field(None, ge=0, le=MAX_YEARS, description="years and months both absent: permanent")
    months: int | None = Field(None, ge=0, le=MAX_MONTHS)
    trigger: Literal[TRIGGERS]  # type: ignore[valid-type]
    event_name: str = Field("", max_length=64, description="exactly when the trigger is event")
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    confirm: bool = Field(False, description="false: only say what it would move; true: save it")


class SnapshotsAnswer(BaseModel):
    snapshots: list[RegisterSnapshotView]
    next_cursor: str | None


class TransfersAnswer(BaseModel):
    transfers: list[TransferView]
    next_cursor: str | None


class NewTransfer(BaseModel):
    archive_codes: list[str] = Field(min_length=1, max_length=500)
    to_department: str | None = Field(None, max_length=32, description="for a transfer inside the fonds")
    to_fonds: str | None = Field(None, max_length=32, description="the receiving archive's 全宗号")
    to_archive: str = Field("", max_length=200, description="the receiving archive's name (with to_fonds)")
    note: str = Field("", max_length=2000)


class Receipt(BaseModel):
    kind: Literal["department", "fonds"] = Field("department", description="department: the receiving "
                                                 "records manager confirms; fonds: the sender records the other "
                                                 "archive's confirmation")
    reference: str = Field("", max_length=100, description="the receiving archive's reference (fonds)")
    signed_by: str = Field("", max_length=100, description="who signed for it there (fonds)")


class OneTransfer(BaseModel):
    transfer: TransferView


def _number(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be a whole number", code="not_a_number", field=name)
    return value



def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return "" if value is None else str(value)


def _flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true")


@bp.get("/due")
@operation("Records due for disposition", query=PageQuery, response=DueAnswer)
def due() -> ResponseReturnValue:
    """Documents whose disposition date has come, not held, not shredded; metadata only, no content
    (`disposition.view`)."""
    found, next_cursor = list_page(dispositions.due_records(new_uow(), actor=current_actor()),
                                   page_request(default_limit=50, max_limit=MAX_LIMIT))
    return jsonify(records=[asdict(r) for r in found], next_cursor=next_cursor)


@bp.get("/holds")
@operation("Legal holds", query=HoldsQuery, response=HoldsAnswer)
def list_holds() -> ResponseReturnValue:
    """Newest first; the active ones unless `all=true`. Records managers (`hold.manage`)."""
    active_only = not _flag("all")
    found, next_cursor = keyset_page(
        lambda limit, before: holds.list_legal_holds(new_uow(), actor=current_actor(), active_only=active_only,
                                                     limit=limit, before_id=before),
        page_request(default_limit=50, max_limit=MAX_LIMIT), key=lambda h: h.id)
    return jsonify(holds=[asdict(h) for h in found], next_cursor=next_cursor)


@bp.post("/holds")
@operation("Place a legal hold", body=NewHold, response=CreatedHold, status=201)
def place_hold() -> ResponseReturnValue:
    """{"target_type", "ref", "hold_type", "reason"} → 201 {"id"}. While it holds, nothing it covers is
    destroyed or deleted. Audited."""
    body = json_body()
    hold_id = holds.place_legal_hold(new_uow(), actor=current_actor(),
                                     target=holds.HoldTarget(_text(body, "target_type"), _text(body, "ref")),
                                     hold_type=_text(body, "hold_type"), reason=_text(body, "reason"))
    return jsonify(id=hold_id), 201


@bp.post("/holds/<int:hold_id>/release")
@operation("Release a legal hold", body=Reason, status=204)
def release_hold(hold_id: int) -> ResponseReturnValue:
    """{"reason"} → 204; 400 when already released. Audited."""
    holds.release_legal_hold(new_uow(), actor=current_actor(), hold_id=hold_id, reason=_text(json_body(), "reason"))
    return "", 204


@bp.get("/batches")
@operation("Appraisal batches", query=BatchesQuery, response=BatchesAnswer)
def list_batches() -> ResponseReturnValue:
    """Newest first, each with its records (`disposition.view`)."""
    status = request.args.get("status", "").strip()[:32] or None
    found, next_cursor = keyset_page(
        lambda limit, before: appraisal.list_batches(new_uow(), actor=current_actor(), status=status, limit=limit,
                                                     before_id=before),
        page_request(default_limit=20, max_limit=MAX_LIMIT), key=lambda b: b.id)
    return jsonify(batches=[asdict(b) for b in found], next_cursor=next_cursor)


@bp.post("/batches/gather")
@operation("Gather the due records into batches", response=Gathered)
def gather() -> ResponseReturnValue:
    """Every due record (not held, not shredded, in no open batch) joins its department's open batch
    (`schedule.manage`)."""
    return jsonify(batches=appraisal.gather_due_records(new_uow(), actor=current_actor()))


@bp.post("/batches/<int:batch_id>/votes")
@operation("An appraiser's decision on a record", body=Vote, response=VoteAnswer)
def vote(batch_id: int) -> ResponseReturnValue:
    """{"archive_code", "decision": destroy|extend|transfer, "years"?, "reason"?} → {"agreed"}
    (`appraisal.decide`)."""
    body = json_body()
    years = _number(body, "years")
    agreed = appraisal.appraise_record(new_uow(), actor=current_actor(), batch_id=batch_id,
                                       archive_code=_text(body, "archive_code"), decision=_text(body, "decision"),
                                       extend_years=years, reason=_text(body, "reason"))
    return jsonify(agreed=agreed)


@bp.post("/batches/<int:batch_id>/decision")
@operation("The leader's decision on an appraised batch", body=BatchDecision, status=204)
def decide(batch_id: int) -> ResponseReturnValue:
    """{"approve": true} approves; {"approve": false, "comment"} returns it to the appraisal group
    (`disposition.approve`)."""
    body = json_body()
    appraisal.decide_batch(new_uow(), actor=current_actor(), batch_id=batch_id, approve=body.get("approve") is True,
                           comment=_text(body, "comment"))
    return "", 204


@bp.post("/batches/<int:batch_id>/destruction")
@operation("Execute an approved batch", response=DestructionRun)
def destroy(batch_id: int) -> ResponseReturnValue:
    """Destroys, extends or marks for transfer each record as decided; records a hold covers are kept
    (`disposition.execute`). Resumable: a rerun goes on where it stopped."""
    return jsonify(asdict(appraisal.destroy_batch(new_uow(), actor=current_actor(), batch_id=batch_id)))


@bp.get("/schedules")
@operation("Retention schedules", response=SchedulesAnswer)
def list_schedules() -> ResponseReturnValue:
    """Each document type's schedule, its own or derived from the type's retention period; one per
    document type, answered whole."""
    return jsonify(schedules=[asdict(s) for s in schedules.list_schedules(new_uow(), actor=current_actor())])


@bp.get("/register")
@operation("The destruction register", query=PageQuery, response=RegisterAnswer)
def list_register() -> ResponseReturnValue:
    """Every destroyed record, oldest first (`register.view`)."""
    found, next_cursor = keyset_page(
        lambda limit, after: register.list_register(new_uow(), actor=current_actor(), limit=limit, after_id=after),
        page_request(default_limit=50, max_limit=MAX_LIMIT), key=lambda e: e.id)
    return jsonify(entries=[asdict(e) for e in found], next_cursor=next_cursor)


@bp.put("/schedules/<document_type>")
@operation("Change a document type's schedule", body=NewSchedule, response=ScheduleChange)
def set_schedule(document_type: str) -> ResponseReturnValue:
    """{"years"?, "months"?, "trigger", "event_name"?, "action", "confirm"?} → the change (before, after,
    how many records it moves, how many a hold keeps). Without `confirm: true` it is only a preview
    (`saved: false`), as on the page. Audited when saved (`schedule.manage`)."""
    body = json_body()
    change = schedules.set_schedule(new_uow(), actor=current_actor(), document_type=document_type,
                                    years=_number(body, "years"), months=_number(body, "months"),
                                    trigger=_text(body, "trigger"), event_name=_text(body, "event_name"),
                                    action=_text(body, "action"), dry_run=body.get("confirm") is not True)
    return jsonify(asdict(change))


@bp.get("/register/snapshots")
@operation("The register's kept snapshots", query=PageQuery, response=SnapshotsAnswer)
def list_snapshots() -> ResponseReturnValue:
    """Newest first; each one's PDF is on the register page (`register.view`)."""
    found, next_cursor = list_page(register.list_register_snapshots(new_uow(), actor=current_actor()),
                                   page_request(default_limit=50, max_limit=MAX_LIMIT))
    return jsonify(snapshots=[asdict(s) for s in found], next_cursor=next_cursor)


@bp.post("/register/snapshots")
@operation("Keep the register as a sealed snapshot", response=RegisterSnapshotView, status=201)
def keep_register() -> ResponseReturnValue:
    """A PDF of the whole register, sealed into the object store and recorded (`register.keep`); audited."""
    return jsonify(asdict(register.keep_register(new_uow(), actor=current_actor()))), 201


@bp.get("/transfers")
@operation("Transfers", query=PageQuery, response=TransfersAnswer)
def list_transfers() -> ResponseReturnValue:
    """The transfers the caller's department sent or receives, newest first (`transfer.manage`)."""
    found, next_cursor = list_page(transfers.list_transfers(new_uow(), actor=current_actor()),
                                   page_request(default_limit=50, max_limit=MAX_LIMIT))
    return jsonify(transfers=[asdict(t) for t in found], next_cursor=next_cursor)


@bp.get("/transfers/<int:transfer_id>")
@operation("One transfer's handover receipt", response=OneTransfer)
def show_transfer(transfer_id: int) -> ResponseReturnValue:
    return jsonify(transfer=asdict(transfers.get_transfer(new_uow(), actor=current_actor(), transfer_id=transfer_id)))


@bp.post("/transfers")
@operation("Send records to another department or fonds", body=NewTransfer, response=CreatedHold, status=201)
def send_transfer() -> ResponseReturnValue:
    """{"archive_codes", "to_department"} or {"archive_codes", "to_fonds", "to_archive"}, "note"? → 201
    {"id"}. The records must be filed, not held, of the sender's department, and pass the four-property
    check (400 naming its report otherwise)."""
    body = json_body()
    codes = body.get("archive_codes")
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise ValidationError("archive_codes is a list of archive codes", field="archive_codes")
    transfer_id = transfers.send_transfer(
        new_uow(), actor=current_actor(), archive_codes=codes, to_department=_text(body, "to_department") or None,
        to_fonds=_text(body, "to_fonds") or None, to_archive=_text(body, "to_archive"), note=_text(body, "note"))
    return jsonify(id=transfer_id), 201


@bp.post("/transfers/<int:transfer_id>/receipt")
@operation("Record a transfer's receipt", body=Receipt, response=OneTransfer)
def confirm_transfer(transfer_id: int) -> ResponseReturnValue:
    """The receiving department's records manager confirms ({"kind": "department"}), or the sender records
    the other archive's confirmation ({"kind": "fonds", "reference", "signed_by"}). Audited."""
    body = json_body()
    if body.get("kind") == "fonds":
        view = transfers.confirm_fonds_receipt(new_uow(), actor=current_actor(), transfer_id=transfer_id,
                                               reference=_text(body, "reference"), signed_by=_text(body, "signed_by"))
    else:
        view = transfers.receive_transfer(new_uow(), actor=current_actor(), transfer_id=transfer_id)
    return jsonify(transfer=asdict(view))
