"""Borrowing's tables (migration 0009): requests, their approval steps, grants, loans of originals,
delegations, and the approval chains as reference data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models import Base, utcnow

VIEW, DOWNLOAD, ORIGINAL = "view", "download", "original"
MODES = (VIEW, DOWNLOAD, ORIGINAL)

# Capacities an approval step asks for, in escalation order, and the role that holds each.
DEPARTMENT_HEAD, ARCHIVE_MANAGER, LEADER = "department_head", "archive_manager", "leader"
CAPACITIES = (DEPARTMENT_HEAD, ARCHIVE_MANAGER, LEADER)


class ApprovalChain(Base):
    """Which steps a request passes, by the highest classification it covers and whether the
    requester belongs to the owning department. `steps`: [{"capacity": ..., "rule": "any"|"all"}]."""

    __tablename__ = "approval_chain"
    __table_args__ = (UniqueConstraint("classification", "in_department", name="uq_approval_chain_level"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    classification: Mapped[str] = mapped_column(ForeignKey("classification_level.code"))
    in_department: Mapped[bool] = mapped_column(Boolean)
    steps: Mapped[list[dict[str, str]]] = mapped_column(JSON)


class BorrowRequest(Base):
    __tablename__ = "borrow_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # JY-2026-000123, on watermarks and logs
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(20))
    days: Mapped[int] = mapped_column(Integer)
    asked: Mapped[dict[str, Any]] = mapped_column(JSON)  # what the requester named: codes, dossier, customer
    # pending | approved | rejected | withdrawn | returned | revoked | expired
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    classification: Mapped[str] = mapped_column(String(32))  # the highest level it covers
    in_department: Mapped[bool] = mapped_column(Boolean)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the chain as chosen (escalations noted)
    step: Mapped[int] = mapped_column(Integer, default=0)  # the step waiting
    step_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    items: Mapped[list[BorrowItem]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    decisions: Mapped[list[BorrowDecision]] = relationship(lazy="selectin", order_by="BorrowDecision.id")


class BorrowItem(Base):
    __tablename__ = "borrow_item"
    request_id: Mapped[int] = mapped_column(ForeignKey("borrow_request.id"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))


class BorrowDecision(Base):
    __tablename__ = "borrow_decision"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("borrow_request.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    department_id: Mapped[int | None] = mapped_column(Integer)  # the department a head decided for
    approver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # a delegation
    approve: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Grant(Base):
    """An approved request's time-boxed access; ends at expiry, by return or by revocation."""

    __tablename__ = "borrow_grant"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("borrow_request.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    end_reason: Mapped[str | None] = mapped_column(String(20))  # expired | returned | revoked
    ended_by_id: Mapped[int | None] = mapped_column(Integer)

    request: Mapped[BorrowRequest] = relationship(lazy="joined")


class Delegation(Base):
    """An approver away from start to end (dates, inclusive) lets another of the same capacity decide."""

    __tablename__ = "borrow_delegation"
    id: Mapped[int] = mapped_column(primary_key=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhysicalLoan(Base):
    """A paper original lent out of the archive room and its return, 登记在案."""

    __tablename__ = "physical_loan"
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("borrow_request.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    box: Mapped[str] = mapped_column(String(50), default="")
    shelf: Mapped[str] = mapped_column(String(50), default="")
    lent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lent_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reminded_on: Mapped[date | None] = mapped_column(Date)  # the last day a reminder went out
    note: Mapped[str] = mapped_column(Text, default="")
