"""The account review's tables (their migration: archive/migrations/versions/, "account review")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archive.models import Base

OPEN, SIGNED_OFF = "open", "signed_off"
CONFIRMED, DISABLED, OWN = "confirmed", "disabled", "own_account"


class AccountReview(Base):
    """One review campaign: every active account at its start, each confirmed or disabled, then signed
    off. Once signed off nothing in it changes; its SHA-256 (`digest`) is in the audit trail too."""

    __tablename__ = "account_review"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=OPEN, index=True)
    inactive_days: Mapped[int] = mapped_column(Integer)
    changes_since: Mapped[datetime] = mapped_column()
    started_at: Mapped[datetime] = mapped_column()
    started_by_id: Mapped[int | None] = mapped_column(Integer)
    started_by: Mapped[str] = mapped_column(String(100))
    signed_off_at: Mapped[datetime | None] = mapped_column()
    signed_off_by_id: Mapped[int | None] = mapped_column(Integer)
    signed_off_by: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str | None] = mapped_column(String(64))

    items: Mapped[list[AccountReviewItem]] = relationship(
        order_by="AccountReviewItem.username", lazy="selectin", cascade="all, delete-orphan")


class AccountReviewItem(Base):
    """One account as the review found it (role, department, clearance, last use, recent changes) and
    what the reviewer decided."""

    __tablename__ = "account_review_item"
    __table_args__ = (UniqueConstraint("review_id", "user_id", name="uq_account_review_item_review_user"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("account_review.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    department: Mapped[str] = mapped_column(String(32), default="")
    clearance: Mapped[str] = mapped_column(String(32))
    last_used_at: Mapped[datetime | None] = mapped_column()
    inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # role/clearance before → after
    decision: Mapped[str | None] = mapped_column(String(16))  # confirmed | disabled | own_account
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(Integer)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
