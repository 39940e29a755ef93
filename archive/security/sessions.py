"""Server-side web sessions (ASVS 3.2, 3.3): the store the web layer's session interface uses, and
ending a user's sessions from any service (logout, password change, deactivation).

A row is keyed by the SHA-256 of the cookie's token and records whose session it is. A session unused
for ARCHIVE_SESSION_IDLE_MINUTES, or older than ARCHIVE_SESSION_ABSOLUTE_HOURS, is ended when next seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from archive.models import as_utc
from archive.security.models import WebSession
from archive.unit_of_work import UnitOfWork

TOUCH_EVERY = timedelta(seconds=30)  # refresh last_seen_at at most this often


def end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """Delete the user's server-side sessions (all, or all but `keep`); return how many ended."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep:
        query = query.where(WebSession.id != keep)
    return session.execute(query).rowcount or 0


def load_session(uow: UnitOfWork, sid: str) -> tuple[dict[str, Any], bool] | None:
    """The session's data and whether its last-seen time is due a refresh; None when there is no such
    session or it timed out (then it is deleted)."""
    settings, now = uow.settings, uow.clock.now()
    with uow:
        row = uow.session.get(WebSession, sid)
        if row is None:
            return None
        idle = now - as_utc(row.last_seen_at) > timedelta(minutes=settings.session_idle_minutes)
        too_old = now - as_utc(row.created_at) > timedelta(hours=settings.session_absolute_hours)
        if idle or too_old:
            uow.session.delete(row)
            uow.commit()
            return None
        return dict(row.data), now - as_utc(row.last_seen_at) > TOUCH_EVERY


def store_session(uow: UnitOfWork, *, sid: str, new: bool, data: dict[str, Any] | None, user_id: int | None,
                  ended: Iterable[str] = ()) -> bool:
    """Write the session: end the `ended` rows, then create it (`new`), update it, or delete it (data
    None). Returns False when an existing session was ended meanwhile (it is not brought back)."""
    now = uow.clock.now()
    with uow:
        ended = list(ended)
        if ended:
            uow.session.execute(delete(WebSession).where(WebSession.id.in_(ended)))
        if data is None:
            uow.session.execute(delete(WebSession).where(WebSession.id == sid))
            uow.commit()
            return True
        if new:
            idle = timedelta(minutes=uow.settings.session_idle_minutes)
            uow.session.execute(delete(WebSession).where(WebSession.last_seen_at < now - idle))  # nobody's any more
            uow.session.add(WebSession(id=sid, user_id=user_id, data=data, created_at=now, last_seen_at=now))
            uow.commit()
            return True
        row = uow.session.get(WebSession, sid)
        if row is None:  # ended meanwhile (logout elsewhere, password change)
            uow.commit()
            return False
        row.data, row.user_id, row.last_seen_at = data, user_id, now
        uow.commit()
        return True
