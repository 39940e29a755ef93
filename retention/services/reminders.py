"""Reminders for appraisal batches that wait: a batch waiting longer than ARCHIVE_APPRAISAL_REMIND_DAYS
reminds the people it waits for, once a day at most, through the inbox (in-app, and by e-mail when SMTP
is configured). Appraising, it waits for its department's appraisers who have not voted on every record;
appraised, for the leaders who may approve it (not those who appraised it)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select

from archive import access, audit
from archive.actors import Actor
from archive.models import User, as_utc
from archive.roles import LEADER
from archive.services import inbox
from archive.unit_of_work import UnitOfWork
from retention.events import event_appraisal_batch_reminded
from retention.models import AppraisalBatch, AppraisalItem, AppraisalVote
from retention.permissions import APPRAISER, permission_schedule_manage

LINK = "/retention/"
TO_APPRAISE = "retention.batch_to_appraise"
TO_APPROVE = "retention.batch_to_approve"
MESSAGES = {
    TO_APPRAISE: ("鉴定批次 {batch} 已等待 {days} 天,请完成鉴定", "Appraisal batch {batch} has waited {days} days "
                                                             "for your appraisal"),
    TO_APPROVE: ("鉴定批次 {batch} 已等待 {days} 天,待您审批", "Appraisal batch {batch} has waited {days} days "
                                                           "for your approval"),
}


def send_batch_reminders(uow: UnitOfWork, *, actor: Actor) -> int:
    """Remind whoever each batch has waited for longer than the configured days; returns how many batches
    reminded. Requires permission_schedule_manage (the daily job); each reminder is audited."""
    sent = 0
    with uow:
        access.require(actor, permission_schedule_manage)
        session = uow.session
        now, today = uow.clock.now(), uow.clock.today()
        cutoff = now - timedelta(days=uow.settings.appraisal_remind_days)
        waiting = session.scalars(select(AppraisalBatch).where(
            AppraisalBatch.status.in_(("appraising", "appraised")),
            or_(AppraisalBatch.reminded_on.is_(None), AppraisalBatch.reminded_on < today)).order_by(AppraisalBatch.id))
        for batch in list(waiting):
            since = as_utc(batch.waiting_since or batch.created_at)
            if since > cutoff:
                continue
            kind = TO_APPRAISE if batch.status == "appraising" else TO_APPROVE
            people = _appraisers_owing(uow, batch) if kind == TO_APPRAISE else _leaders(uow, batch)
            if not people:
                continue
            days = (now - since).days
            inbox.notify(uow, people, kind, link=LINK, batch=batch.id, days=days)
            batch.reminded_on = today
            audit.record(session, actor, event_appraisal_batch_reminded, target_type="appraisal_batch",
                         target_id=batch.id, kind=kind, user_ids=people, waited_days=days)
            sent += 1
        uow.commit()
    return sent


def _people(uow: UnitOfWork, role: str, department_id: int) -> list[int]:
    return list(uow.session.scalars(select(User.id).where(
        User.role == role, User.active.is_(True),
        or_(User.department_id == department_id, User.department_id.is_(None))).order_by(User.id)))


def _appraisers_owing(uow: UnitOfWork, batch: AppraisalBatch) -> list[int]:
    """The department's appraisers who have not yet voted on every record of the batch."""
    records = uow.session.scalar(select(func.count(AppraisalItem.id)).where(AppraisalItem.batch_id == batch.id))
    votes = dict(uow.session.execute(
        select(AppraisalVote.appraiser_id, func.count(AppraisalVote.id)).join(AppraisalItem)
        .where(AppraisalItem.batch_id == batch.id).group_by(AppraisalVote.appraiser_id)).all())
    return [user_id for user_id in _people(uow, APPRAISER, batch.department_id) if votes.get(user_id, 0) < records]


def _leaders(uow: UnitOfWork, batch: AppraisalBatch) -> list[int]:
    """The leaders who may decide the batch: not those who appraised it."""
    appraised = set(uow.session.scalars(select(AppraisalVote.appraiser_id).join(AppraisalItem)
                                        .where(AppraisalItem.batch_id == batch.id)))
    return [user_id for user_id in _people(uow, LEADER, batch.department_id) if user_id not in appraised]
