"""Per-user rate limits on actions that can be abused in bulk (uploads, identifier lookups; ASVS 11.1.4).

Counted in the database (archive/security/throttle.py), so every web process and worker shares one
count without Redis; a refusal is audited.
"""

from __future__ import annotations

from datetime import timedelta

from archive import audit
from archive.actors import Actor
from archive.errors import ArchiveError
from archive.security import throttle
from archive.security.events import event_rate_limited
from archive.unit_of_work import UnitOfWork

WINDOW = timedelta(hours=1)


class RateLimitedError(ArchiveError):
    """Too many actions of one kind in the window; try again later."""

    def __init__(self, action: str, limit: int) -> None:
        super().__init__(f"操作过于频繁，请稍后再试 / too many {action}s: at most {limit} an hour, try again later")
        self.action = action
        self.limit = limit


def take(uow: UnitOfWork, *, actor: Actor, action: str, limit: int, window: timedelta = WINDOW) -> None:
    """Count one `action` of the actor; raise RateLimitedError (audited) once `limit` were made in the window."""
    who = actor.user_id if actor.user_id is not None else actor.username
    with uow:
        if throttle.hit(uow.session, f"rate:{action}:{who}", limit=limit, window=window):
            uow.commit()
            return
        audit.record(uow.session, actor, event_rate_limited, outcome="denied", action=action, limit=limit)
        uow.commit()
    raise RateLimitedError(action, limit)
