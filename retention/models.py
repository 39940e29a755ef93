"""Retention's tables: schedules per document type, trigger events, computed disposition dates, holds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.models import Base, utcnow

TRIGGERS = ("filing_date", "document_date", "event")
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
