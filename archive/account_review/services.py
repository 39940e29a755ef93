"""The account review's use cases: unused and changed accounts, the review campaign (start, decide each
account, sign off), and disabling accounts unused for ARCHIVE_ACCOUNT_INACTIVE_DAYS (the daily job).

An account's last use is the latest of: the last thing it did successfully (its events in the audit
trail), its creation, and its last reactivation or confirmation in a review, so an account confirmed or
re-enabled is not disabled again the next night. Times are the archive's clock.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.account_review.events import (
    event_account_disabled_inactive,
    event_account_review_confirmed,
    event_account_review_disabled,
    event_account_review_signed_off,
    event_account_review_started,
    event_accounts_listed,
)
from archive.account_review.models import (
    CONFIRMED,
    DISABLED,
    OPEN,
    OWN,
    SIGNED_OFF,
    AccountReview,
    AccountReviewItem,
)
from archive.account_review.permissions import permission_account_disable_inactive, permission_account_review
from archive.account_review.views import AccountChange, AccountUse, ReviewItemView, ReviewView
from archive.actors import Actor
from archive.errors import AccessDenied, NotFoundError, ValidationError
from archive.models import AuditEvent, User, as_utc
from archive.security.events import event_account_change_approved, event_user_deactivated
from archive.security.sessions import end_sessions
from archive.unit_of_work import UnitOfWork

REACTIVATED = "user.reactivated"  # services/users.py set_user_active
DEFAULT_INACTIVE_DAYS = 90
MAX_INACTIVE_DAYS = 3650


def checked_days(days: int) -> int:
    """How long unused makes an account inactive: 1..MAX_INACTIVE_DAYS days, else ValidationError."""
    if not 1 <= days <= MAX_INACTIVE_DAYS:
        raise ValidationError(f"天数须在 1 到 {MAX_INACTIVE_DAYS} 之间 / the number of days must be from 1 to "
                              f"{MAX_INACTIVE_DAYS}", code="days_out_of_range", field="days",
                              params={"low": 1, "high": MAX_INACTIVE_DAYS})
    return days


def last_used(session: Session) -> dict[int, datetime]:
    """Every account's last use (see the module's docstring): two grouped queries over the trail."""
    found = {uid: as_utc(created) for uid, created in session.execute(select(User.id, User.created_at))}

    def later(uid: int, moment: datetime | None) -> None:
        if moment is not None and uid in found:
            found[uid] = max(found[uid], as_utc(moment))

    for uid, moment in session.execute(
            select(AuditEvent.actor_id, func.max(AuditEvent.occurred_at))
            .where(AuditEvent.actor_id.is_not(None), AuditEvent.outcome == "ok").group_by(AuditEvent.actor_id)):
        later(uid, moment)
    for target, moment in session.execute(
            select(AuditEvent.target_id, func.max(AuditEvent.occurred_at))
            .where(AuditEvent.target_type == "user",
                   AuditEvent.event_type.in_((REACTIVATED, event_account_review_confirmed)))
            .group_by(AuditEvent.target_id)):
        if target.isdigit():
            later(int(target), moment)
    return found


def _unused(session: Session, now: datetime, days: int) -> list[AccountUse]:
    used = last_used(session)
    cutoff = now - timedelta(days=days)
    found = []
    for user in session.scalars(select(User).where(User.active).order_by(User.username)):
        moment = used.get(user.id)
        if moment is None or moment < cutoff:
            found.append(AccountUse(user.id, user.username, user.role, user.department.code if user.department else "",
                                    user.clearance, moment, (now - moment).days if moment else days))
    return found


def inactive_accounts(uow: UnitOfWork, *, actor: Actor, days: int) -> list[AccountUse]:
    """Active accounts not used in `days` days, by name. Requires permission_account_review."""
    checked_days(days)
    with uow:
        access.require(actor, permission_account_review)
        found = _unused(uow.session, uow.clock.now(), days)
        audit.record(uow.session, actor, event_accounts_listed, which="inactive", days=days, accounts=len(found))
        uow.commit()
        return found


def _changes(session: Session, since: datetime) -> list[AccountChange]:
    rows = session.execute(
        select(AuditEvent.target_id, AuditEvent.occurred_at, AuditEvent.actor_name, AuditEvent.detail)
        .where(AuditEvent.event_type == event_account_change_approved, AuditEvent.target_type == "user",
               AuditEvent.occurred_at >= since)
        .order_by(AuditEvent.occurred_at)).all()
    return [AccountChange(int(target), str((detail or {}).get("username", "")), as_utc(at), by,
                          list((detail or {}).get("before") or []), list((detail or {}).get("after") or []))
            for target, at, by, detail in rows if str(target).isdigit()]


def changed_accounts(uow: UnitOfWork, *, actor: Actor, since: datetime) -> list[AccountChange]:
    """Accounts whose role or clearance changed since then, oldest change first. Requires
    permission_account_review."""
    with uow:
        access.require(actor, permission_account_review)
        found = _changes(uow.session, since)
        audit.record(uow.session, actor, event_accounts_listed, which="changed", since=since.isoformat(),
                     changes=len(found))
        uow.commit()
        return found


def last_signed_off(uow: UnitOfWork) -> datetime | None:
    """When the last review was signed off (the default start of "changed since")."""
    with uow:
        moment = uow.session.scalar(select(func.max(AccountReview.signed_off_at)))
        return as_utc(moment) if moment else None


def start_review(uow: UnitOfWork, *, actor: Actor, inactive_days: int = DEFAULT_INACTIVE_DAYS) -> int:
    """Open a review of every active account, marking those unused in inactive_days days and those whose
    role or clearance changed since the last signed-off review. One review is open at a time. Requires
    permission_account_review; raises ValidationError when one is open already."""
    checked_days(inactive_days)
    with uow:
        access.require(actor, permission_account_review)
        session, now = uow.session, uow.clock.now()
        if session.scalar(select(AccountReview.id).where(AccountReview.status == OPEN)) is not None:
            raise ValidationError("已有进行中的复核,请先完成并签署 / a review is already open: finish and sign it off first",
                                  code="review_already_open")
        previous = session.scalar(select(func.max(AccountReview.signed_off_at)))
        since = as_utc(previous) if previous else now - timedelta(days=inactive_days)
        used = last_used(session)
        cutoff = now - timedelta(days=inactive_days)
        changes: dict[int, list[dict[str, object]]] = {}
        for change in _changes(session, since):
            changes.setdefault(change.user_id, []).append(
                {"at": change.at.isoformat(), "by": change.by, "before": change.before, "after": change.after})
        review = AccountReview(status=OPEN, inactive_days=inactive_days, changes_since=since, started_at=now,
                               started_by_id=actor.user_id, started_by=actor.username)
        for user in session.scalars(select(User).where(User.active).order_by(User.username)):
            moment = used.get(user.id)
            review.items.append(AccountReviewItem(
                user_id=user.id, username=user.username, role=user.role,
                department=user.department.code if user.department else "", clearance=user.clearance,
                last_used_at=moment, inactive=moment is None or moment < cutoff, changes=changes.get(user.id, [])))
        session.add(review)
        session.flush()
        audit.record(session, actor, event_account_review_started, target_type="account_review",
                     target_id=review.id, accounts=len(review.items), inactive_days=inactive_days,
                     inactive=sum(1 for i in review.items if i.inactive),
                     changed=sum(1 for i in review.items if i.changes))
        uow.commit()
        return review.id


def _open_review(session: Session, review_id: int) -> AccountReview:
    review = session.get(AccountReview, review_id, with_for_update=True)
    if review is None:
        raise NotFoundError(f"no account review {review_id}")
    if review.status != OPEN:
        raise ValidationError("本次复核已签署,不能再修改 / this review is signed off: it no longer changes",
                              code="review_signed_off")
    return review


def _denied(actor: Actor, reason: str, review_id: int) -> AccessDenied:
    return access.denied(actor, permission_account_review, reason, "account_review", review_id)


def decide_account(uow: UnitOfWork, *, actor: Actor, review_id: int, user_id: int, disable: bool,
                   comment: str = "") -> None:
    """Confirm the account (it keeps its access) or disable it (its sessions end at once). Nobody decides
    their own account; a decision is final within the review. Requires permission_account_review;
    raises AccessDenied, NotFoundError, ValidationError."""
    comment = comment.strip()[:2000]
    with uow:
        access.require(actor, permission_account_review)
        session, now = uow.session, uow.clock.now()
        review = _open_review(session, review_id)
        item = next((i for i in review.items if i.user_id == user_id), None)
        if item is None:
            raise NotFoundError(f"account {user_id} is not in review {review_id}")
        if user_id == actor.user_id:
            raise _denied(actor, "nobody reviews their own account", review_id)
        if item.decision is not None:
            raise ValidationError(f"{item.username} 已在本次复核中决定 / {item.username} was already decided in this review",
                                  code="review_item_decided", params={"username": item.username})
        if disable and not comment:
            raise ValidationError("停用账户须说明理由 / say why the account is disabled", code="disable_reason_required",
                                  field="comment")
        item.decision = DISABLED if disable else CONFIRMED
        item.decided_at, item.decided_by_id, item.decided_by, item.comment = now, actor.user_id, actor.username, comment
        if disable:
            user = session.get(User, user_id)
            assert user is not None
            ended = 0
            if user.active:
                user.active = False
                ended = end_sessions(session, user.id)
            audit.record(session, actor, event_user_deactivated, target_type="user", target_id=user.id,
                         username=user.username, sessions_ended=ended, account_review=review.id, reason=comment)
        audit.record(session, actor, event_account_review_disabled if disable else event_account_review_confirmed,
                     target_type="user", target_id=user_id, username=item.username, account_review=review.id,
                     comment=comment)
        uow.commit()


def review_record(review: AccountReview) -> dict[str, object]:
    """The signed-off record as canonical data: what the digest covers and the audit event holds."""
    def moment(value: datetime | None) -> str | None:
        return as_utc(value).isoformat() if value else None

    return {
        "review": review.id, "inactive_days": review.inactive_days, "changes_since": moment(review.changes_since),
        "started_at": moment(review.started_at), "started_by": review.started_by,
        "signed_off_at": moment(review.signed_off_at), "signed_off_by": review.signed_off_by,
        "comment": review.comment,
        "accounts": [{"user_id": i.user_id, "username": i.username, "role": i.role, "department": i.department,
                      "clearance": i.clearance, "last_used_at": moment(i.last_used_at), "inactive": i.inactive,
                      "changes": i.changes, "decision": i.decision, "decided_by": i.decided_by,
                      "decided_at": moment(i.decided_at), "comment": i.comment}
                     for i in sorted(review.items, key=lambda i: i.user_id)],
    }


def record_digest(review: AccountReview) -> str:
    data = json.dumps(review_record(review), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def sign_off_review(uow: UnitOfWork, *, actor: Actor, review_id: int, comment: str = "") -> str:
    """Close the review as a kept record once every account is decided (the signer's own account, which
    they may not decide, is recorded as such when nobody else did). Returns the record's SHA-256, which
    the audit event keeps with the whole record. Requires permission_account_review."""
    with uow:
        access.require(actor, permission_account_review)
        session, now = uow.session, uow.clock.now()
        review = _open_review(session, review_id)
        waiting = [i.username for i in review.items if i.decision is None and i.user_id != actor.user_id]
        if waiting:
            raise ValidationError(f"还有 {len(waiting)} 个账户未决定 / {len(waiting)} accounts are not decided yet: {', '.join(waiting[:10])}",
                                  code="review_undecided", params={"count": len(waiting), "names": ", ".join(waiting[:10])})
        for item in review.items:
            if item.decision is None:
                item.decision = OWN
        review.status, review.signed_off_at = SIGNED_OFF, now
        review.signed_off_by_id, review.signed_off_by, review.comment = actor.user_id, actor.username, comment.strip()[:2000]
        review.digest = record_digest(review)
        record = review_record(review)
        audit.record(session, actor, event_account_review_signed_off, target_type="account_review",
                     target_id=review.id, sha256=review.digest, record=record,
                     confirmed=sum(1 for i in review.items if i.decision == CONFIRMED),
                     disabled=sum(1 for i in review.items if i.decision == DISABLED))
        uow.commit()
        return review.digest


def verify_review(uow: UnitOfWork, *, actor: Actor, review_id: int) -> bool:
    """Whether a signed-off review still matches the SHA-256 it was signed off with."""
    with uow:
        access.require(actor, permission_account_review)
        review = uow.session.get(AccountReview, review_id)
        if review is None:
            raise NotFoundError(f"no account review {review_id}")
        return review.status == SIGNED_OFF and review.digest == record_digest(review)


def _view(review: AccountReview) -> ReviewView:
    return ReviewView(
        review.id, review.status, review.inactive_days, as_utc(review.changes_since), as_utc(review.started_at),
        review.started_by, as_utc(review.signed_off_at) if review.signed_off_at else None, review.signed_off_by,
        review.comment, review.digest,
        [ReviewItemView(i.user_id, i.username, i.role, i.department, i.clearance,
                        as_utc(i.last_used_at) if i.last_used_at else None, i.inactive, list(i.changes or []),
                        i.decision, i.decided_by, as_utc(i.decided_at) if i.decided_at else None, i.comment)
         for i in review.items])


def get_review(uow: UnitOfWork, *, actor: Actor, review_id: int) -> ReviewView:
    """Requires permission_account_review."""
    with uow:
        access.require(actor, permission_account_review)
        review = uow.session.get(AccountReview, review_id)
        if review is None:
            raise NotFoundError(f"no account review {review_id}")
        return _view(review)


def list_reviews(uow: UnitOfWork, *, actor: Actor, limit: int = 50, before_id: int | None = None) -> list[ReviewView]:
    """The reviews, newest first (older than `before_id` when given), without their items. Requires
    permission_account_review."""
    with uow:
        access.require(actor, permission_account_review)
        query = select(AccountReview).order_by(AccountReview.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(AccountReview.id < before_id)
        rows = uow.session.scalars(query)
        return [_view(r) for r in rows]


def disable_inactive_accounts(uow: UnitOfWork, *, actor: Actor) -> list[str]:
    """Disable every active account unused for ARCHIVE_ACCOUNT_INACTIVE_DAYS (nothing while it is 0, the
    default); each is audited and its sessions end. Returns the usernames. Requires
    permission_account_disable_inactive (the daily job's system actor)."""
    days = uow.settings.account_inactive_days
    with uow:
        access.require(actor, permission_account_disable_inactive)
        if not days:
            return []
        session = uow.session
        disabled = []
        for account in _unused(session, uow.clock.now(), days):
            user = session.get(User, account.user_id)
            assert user is not None
            user.active = False
            ended = end_sessions(session, user.id)
            audit.record(session, actor, event_user_deactivated, target_type="user", target_id=user.id,
                         username=user.username, sessions_ended=ended, reason="inactive", days=days,
                         last_used_at=account.last_used_at.isoformat() if account.last_used_at else None)
            audit.record(session, actor, event_account_disabled_inactive, target_type="user", target_id=user.id,
                         username=user.username, days=days)
            disabled.append(user.username)
        uow.commit()
        return disabled
