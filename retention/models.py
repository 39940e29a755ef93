"""Retention's tables: schedules per document type, trigger events, computed disposition dates, holds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from archive.models import Base, utcnow

TRIGGERS = ("filing_date", "document_date", "contract_end", "event")
ACTIONS = ("review", "destroy", "transfer")
HOLD_TYPES = ("litigation", "regulator_inspection", "internal_audit", "other")
HOLD_TARGETS = ("customer", "dossier", "document")


class RetentionSchedule(Base):
    """A document type's fate: kept for a period (none: permanent) counted from a trigger, then an action.

    The trigger is the filing date, the document's own date, or a named event recorded later for the
    document or its customer (e.g. `account_closed` 销户, `contract_terminated` 合同终止).
    """

    __tablename__ = "retention_schedule"
    document_type: Mapped[str] = mapped_column(ForeignKey("document_type.code"), primary_key=True)
    years: Mapped[int | None] = mapped_column(Integer)
    months: Mapped[int | None] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(20), default="filing_date")
    event_name: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(16), default="review")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def permanent(self) -> bool:
        return self.years is None and self.months is None


class RetentionEvent(Base):
    """A named event that starts a retention clock, for one document or for every document of a customer."""

    __tablename__ = "retention_event"
    __table_args__ = (Index("ix_retention_event_customer_name", "customer_id", "name"),
                      Index("ix_retention_event_document_name", "document_id", "name"))
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    occurred_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Disposition(Base):
    """A document's computed disposition date (None: permanent, or its trigger has not happened)."""

    __tablename__ = "retention_disposition"
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    trigger_date: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date, index=True)
    action: Mapped[str] = mapped_column(String(16))


class LegalHold(Base):
    """冻结: keeps everything under its target (customer, dossier or document) from disposition."""

    __tablename__ = "legal_hold"
    __table_args__ = (Index("ix_legal_hold_target", "target_type", "target_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int] = mapped_column(Integer)
    hold_type: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    released_at: Mapped[datetime | None] = mapped_column()
    release_reason: Mapped[str | None] = mapped_column(Text)


BATCH_STATES = ("appraising", "appraised", "approved", "destroying", "done")
DECISIONS = ("destroy", "extend", "transfer")


class AppraisalBatch(Base):
    """鉴定: the records of one department that came due, decided by a group, approved by a leader."""

    __tablename__ = "appraisal_batch"
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="appraising", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # the leader
    decided_at: Mapped[datetime | None] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")  # the leader's, on approval or rejection
    # Since when the batch waits for its current deciders (opened, appraised, returned); reminders count from it.
    waiting_since: Mapped[datetime | None] = mapped_column()
    reminded_on: Mapped[date | None] = mapped_column(Date)  # the last day a reminder about it went out


class AppraisalItem(Base):
    """One record of a batch: the group's agreed decision (None until at least two appraisers agree)."""

    __tablename__ = "appraisal_item"
    __table_args__ = (UniqueConstraint("batch_id", "document_id", name="uq_appraisal_item_batch_document"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("appraisal_batch.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)
    decision: Mapped[str | None] = mapped_column(String(16))
    extend_years: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(16))  # destroyed | extended | transfer | held


class AppraisalVote(Base):
    """One appraiser's decision on one record of a batch."""

    __tablename__ = "appraisal_vote"
    __table_args__ = (UniqueConstraint("item_id", "appraiser_id", name="uq_appraisal_vote_item_appraiser"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("appraisal_item.id"), index=True)
    appraiser_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    decision: Mapped[str] = mapped_column(String(16))
    extend_years: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")
    voted_at: Mapped[datetime] = mapped_column(default=utcnow)


class DestructionRecord(Base):
    """销毁清册: one destroyed record, kept for ever. The database refuses UPDATE and DELETE (and, on
    SQLite, an INSERT that would replace a row), as for the audit table."""

    __tablename__ = "destruction_register"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), unique=True)
    archive_code: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))  # PII masked
    document_type: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(32))
    document_date: Mapped[date | None] = mapped_column(Date)
    captured_at: Mapped[datetime] = mapped_column()
    pages: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    schedule: Mapped[str] = mapped_column(String(200))  # the schedule it was destroyed under, in words
    due_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    appraisers: Mapped[str] = mapped_column(String(300))
    approved_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column()
    executed_by: Mapped[str] = mapped_column(String(64))
    destroyed_at: Mapped[datetime] = mapped_column()
    batch_id: Mapped[int] = mapped_column(ForeignKey("appraisal_batch.id"), index=True)


class RegisterSnapshot(Base):
    """The destruction register kept as a record: a PDF of the whole register at an instant, sealed under
    its own data key in the object store; its SHA-256 is also in the audit chain."""

    __tablename__ = "register_snapshot"
    id: Mapped[int] = mapped_column(primary_key=True)
    object_key: Mapped[str] = mapped_column(String(200))
    cipher: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))  # of the PDF as written (plaintext)
    size_bytes: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    last_entry_id: Mapped[int | None] = mapped_column(Integer)  # the register's last entry it covers
    period_from: Mapped[date | None] = mapped_column(Date)  # first and last destruction day it covers
    period_to: Mapped[date | None] = mapped_column(Date)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("appraisal_batch.id"))  # None: kept on demand
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Transfer(Base):
    """移交: records handed over to another department, or to another fonds (an external archive, with a
    handover package); the receiving side confirms receipt."""

    __tablename__ = "transfer"
    id: Mapped[int] = mapped_column(primary_key=True)
    from_department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    to_department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))  # None: another fonds
    to_fonds: Mapped[str | None] = mapped_column(String(32))  # 全宗号 of the receiving archive
    to_archive: Mapped[str] = mapped_column(String(200), default="")  # the receiving archive's name
    receiver_reference: Mapped[str | None] = mapped_column(String(100))  # the receiving archive's own reference
    received_signed_by: Mapped[str | None] = mapped_column(String(100))  # who signed for it over there
    note: Mapped[str] = mapped_column(Text, default="")
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    received_at: Mapped[datetime | None] = mapped_column()


class TransferItem(Base):
    """One record of a handover, as it was sent: archive code, content hash and page count."""

    __tablename__ = "transfer_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfer.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    archive_code: Mapped[str] = mapped_column(String(100))
    content_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
