"""Tables of the security controls (migration 0004)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from archive.models import Base, utcnow


class WebSession(Base):
    """A server-side web session. `id` is the SHA-256 of the cookie's token, so a database reader
    cannot take over a session; deleting the row ends it at once."""

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnlockToken(Base):
    """A one-time link sent by e-mail that unlocks an account; only its SHA-256 is kept."""

    __tablename__ = "unlock_token"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class SecurityCounter(Base):
    """A named counter: failed logins of an account name or an address, or a user's rate-limited actions."""

    __tablename__ = "security_counter"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_at: Mapped[datetime] = mapped_column(default=utcnow)


class AccountChangeRequest(Base):
    """A role or clearance above staff/internal asked for an account; a security administrator
    (not the one who asked) approves or rejects it."""

    __tablename__ = "account_change_request"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    role: Mapped[str] = mapped_column(String(20))
    clearance: Mapped[str] = mapped_column(ForeignKey("classification_level.code"))
    department: Mapped[str | None] = mapped_column(String(32))  # a department move's code; None: no move
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|approved|rejected
    requested_by_id: Mapped[int | None] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime | None] = mapped_column()
