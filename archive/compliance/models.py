"""Compliance tables: the chain head, signed checkpoints, the audit desk's filter indexes, four-property runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from archive.models import AuditEvent, Base


class AuditCheckpoint(Base):
    """A signed chain head: `body` is the exact canonical JSON signed; append-only like audit_event."""

    __tablename__ = "audit_checkpoint"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    from_seq: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    merkle_root: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(200))  # base64


class AuditAlert(Base):
    """One raised alert; `fingerprint` keeps a rescan from raising it twice."""

    __tablename__ = "audit_alert"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(100), index=True)  # the user, or the trail
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)


class AuditAlertCursor(Base):
    """One row (id 1): the last seq the scan has looked at."""

    __tablename__ = "audit_alert_cursor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)


# The audit desk filters by these and pages by seq (keyset), newest first.
DESK_INDEXES = (
    Index("ix_audit_event_actor_name_seq", AuditEvent.actor_name, AuditEvent.seq),
    Index("ix_audit_event_event_type_seq", AuditEvent.event_type, AuditEvent.seq),
    Index("ix_audit_event_target_seq", AuditEvent.target_type, AuditEvent.target_id, AuditEvent.seq),
    Index("ix_audit_event_outcome_seq", AuditEvent.outcome, AuditEvent.seq),
    Index("ix_audit_event_remote_addr_seq", AuditEvent.remote_addr, AuditEvent.seq),
)


class FourCheckRun(Base):
    """One run of the four-property check 四性检测 (DA/T 70): its scope, who ran it, the pass/fail counts
    per property and every problem found (archive/compliance/fourcheck.py)."""

    __tablename__ = "fourcheck_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20), index=True)  # full | filing | transfer
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(Integer)  # a user id (no FK: system actors run it too)
    actor_name: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    documents_checked: Mapped[int] = mapped_column(Integer, default=0)
    # {"authenticity": {"passed": n, "failed": n, "problems": n}, ...}
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"check", "property", "severity", "document_id", "archive_code", "subject", "detail", "hint"}, ...]
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ok: Mapped[bool] = mapped_column(Boolean)
