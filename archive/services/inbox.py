"""Every user's inbox: requests to decide, decisions, reminders. An entry is always kept in-app, and is
e-mailed too when SMTP is configured and the user has an address (a failed send loses nothing)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from archive import registry
from archive.actors import Actor
from archive.models import Notification, User, as_utc
from archive.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# What each kind says, in both languages: the web layer shows the entry in the reader's language; an
# e-mail carries both. Params are formatted in (never PII: numbers and codes only). These are the core's
# kinds (classification changes); a feature declares its own in its registry entry (`Feature.messages`:
# borrowing's notices, retention's reminders).
MESSAGES: dict[str, tuple[str, str]] = {
    "classification.to_decide": ("密级变更申请 #{id} 待您审批", "Classification change #{id} awaits your "
                                                          "decision"),
    "classification.decided": ("密级变更申请 #{id} 已{outcome}", "Classification change #{id} was {outcome}"),
}


@dataclass(frozen=True)
class InboxEntry:
    id: int
    kind: str
    params: dict[str, Any]
    link: str
    created_at: datetime
    read: bool


def text(kind: str, params: dict[str, Any], language: str = "zh") -> str:
    zh, en = MESSAGES.get(kind) or registry.messages().get(kind, (kind, kind))
    template = zh if language.startswith("zh") else en
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def notify(uow: UnitOfWork, user_ids: Iterable[int], kind: str, *, link: str = "", **params: Any) -> None:
    """Add an inbox entry for each user in the unit of work's transaction; e-mail it when configured."""
    session = uow.session
    now = uow.clock.now()
    for user_id in dict.fromkeys(user_ids):
        session.add(Notification(user_id=user_id, kind=kind, params=params, link=link, created_at=now))
        email = session.scalar(select(User.email).where(User.id == user_id))
        if email and uow.mailer is not None:
            subject = text(kind, params, "zh")
            try:
                uow.mailer.send(email, subject, f"{subject}\n{text(kind, params, 'en')}\n\n{link}")
            except OSError as error:  # the in-app entry stays; the next reminder tries again
                log.warning("could not e-mail user %s a %s notice: %s", user_id, kind, error)


def list_inbox(uow: UnitOfWork, *, actor: Actor, limit: int = 100, before_id: int | None = None) -> list[InboxEntry]:
    """The actor's own entries, newest first (nobody reads another's inbox); before_id continues a list
    after the entry with that id."""
    if actor.user_id is None:
        return []
    query = select(Notification).where(Notification.user_id == actor.user_id)
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    with uow:
        rows = uow.session.scalars(query.order_by(Notification.id.desc()).limit(limit))
        return [InboxEntry(n.id, n.kind, dict(n.params or {}), n.link, as_utc(n.created_at), n.read_at is not None)
                for n in rows]


def unread_count(uow: UnitOfWork, *, actor: Actor) -> int:
    if actor.user_id is None:
        return 0
    with uow:
        return uow.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == actor.user_id, Notification.read_at.is_(None))) or 0


def mark_read(uow: UnitOfWork, *, actor: Actor, entry_ids: Iterable[int] | None = None) -> None:
    """Mark the actor's entries (all when entry_ids is None) as read."""
    if actor.user_id is None:
        return
    with uow:
        query = update(Notification).where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        if entry_ids is not None:
            query = query.where(Notification.id.in_(list(entry_ids)))
        uow.session.execute(query.values(read_at=uow.clock.now()))
        uow.commit()
