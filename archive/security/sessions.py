"""Ending a user's web sessions from any service (logout, password change, deactivation)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from archive.security.models import WebSession


def end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """Delete the user's server-side sessions (all, or all but `keep`); return how many ended."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep:
        query = query.where(WebSession.id != keep)
    return session.execute(query).rowcount or 0
