"""Accounts made by administrators: no path from administration to content (ASVS 1.4, 4.1.3, 2.5).

An administrator's new account starts as staff with at most internal clearance and a one-time
password; a higher role or clearance waits for a security administrator who did not ask for it.
Named system actors (the operator on the server host) create accounts directly (services/users.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError
from archive.events import event_user_created, event_user_department_changed
from archive.models import User, utcnow
from archive.permissions import permission_account_change_approve, permission_user_manage
from archive.security import throttle
from archive.security.events import (
    event_account_change_approved,
    event_account_change_rejected,
    event_account_change_requested,
    event_user_password_reset,
)
from archive.security.models import AccountChangeRequest
from archive.security.sessions import end_sessions
from archive.services import users
from archive.services.classification import rank
from archive.unit_of_work import UnitOfWork

BASE_ROLE = "staff"
BASE_CLEARANCE = "internal"


@dataclass(frozen=True)
class NewAccount:
    user_id: int
    one_time_password: str  # shown once to the administrator, to hand over; opens only the password change
    change_request_id: int | None  # the higher role or clearance waiting for approval


@dataclass(frozen=True)
class ChangeRequestView:
    id: int
    username: str
    role: str
    clearance: str
    requested_by: str
    requested_at: datetime
    status: str
    department: str | None = None  # a department move waiting with it


def _needs_approval(session, role: str, clearance: str) -> bool:  # noqa: ANN001
    return role != BASE_ROLE or rank(session, clearance) > rank(session, BASE_CLEARANCE)


def create_account(
    uow: UnitOfWork, *, actor: Actor, username: str, role: str, department: str | None = None,
    clearance: str = BASE_CLEARANCE, display_name: str = "",
) -> NewAccount:
    """Create an account with a one-time password; ask for role and clearance above staff/internal.
    Requires permission_user_manage."""
    with uow:
        access.require(actor, permission_user_manage)
        session = uow.session
        users.check_new_account(session, username, role)
        users.check_clearance(session, clearance)
        wants_more = _needs_approval(session, role, clearance)
        department_id = users.department_of(session, department, role)
        granted_clearance = BASE_CLEARANCE if rank(session, clearance) > rank(session, BASE_CLEARANCE) else clearance
        one_time = users.one_time_password()
        user = User(
            username=username, display_name=display_name or username, password_hash=users._hasher.hash(one_time),
            role=BASE_ROLE, department_id=department_id, clearance=granted_clearance, must_change_password=True,
            password_changed_at=utcnow(),  # when the one-time password was set: it expires (users.py)
        )
        session.add(user)
        session.flush()
        audit.record(session, actor, event_user_created, target_type="user", target_id=user.id,
                     username=username, role=BASE_ROLE, department=department or "", clearance=granted_clearance,
                     one_time_password=True)
        request_id = _request(session, actor, user, role, clearance) if wants_more else None
        uow.commit()
        return NewAccount(user.id, one_time, request_id)


def request_account_change(uow: UnitOfWork, *, actor: Actor, user_id: int, role: str, clearance: str) -> int | None:
    """Change an account's role and clearance: at once when it stays within staff/internal, else as a
    request for a security administrator (returned). Requires permission_user_manage."""
    with uow:
        access.require(actor, permission_user_manage)
        session = uow.session
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"no user {user_id}")
        users.check_role(role)
        if clearance != user.clearance:
            users.check_clearance(session, clearance)
        access.check_role_change(actor, user.duty_role, role)
        if _needs_approval(session, role, clearance):
            request_id = _request(session, actor, user, role, clearance)
            uow.commit()
            return request_id
        before = (user.role, user.clearance)
        users.assign_role(actor, user, role)
        user.clearance = clearance
        end_sessions(session, user.id)
        audit.record(session, actor, event_account_change_approved, target_type="user", target_id=user.id,
                     username=user.username, before=list(before), after=[role, clearance], approval="not needed")
        uow.commit()
        return None


def change_department(uow: UnitOfWork, *, actor: Actor, user_id: int, department: str | None) -> int | None:
    """Move an account to another department (an active one; None for roles that belong to none).
    The system administrator's duty (departments), audited with before and after; the user's sessions
    end, since what they may see changes with the department. An account above staff/internal moves
    only once a security administrator approves (三员分立): the request's id is returned. Requires
    permission_user_manage."""
    with uow:
        access.require(actor, permission_user_manage)
        session = uow.session
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"no user {user_id}")
        before = user.department.code if user.department else None
        if (department or None) == before:
            return None
        department_id = users.department_of(session, department or None, user.role)
        if department and _needs_approval(session, user.role, user.clearance):
            request_id = _request(session, actor, user, user.role, user.clearance, department=department)
            uow.commit()
            return request_id
        user.department_id = department_id
        end_sessions(session, user.id)
        audit.record(session, actor, event_user_department_changed, target_type="user", target_id=user.id,
                     username=user.username, before=before, after=department or None)
        uow.commit()
        return None


def _request(session, actor: Actor, user: User, role: str, clearance: str,  # noqa: ANN001
             department: str | None = None) -> int:
    rank(session, clearance)
    request = AccountChangeRequest(user_id=user.id, role=role, clearance=clearance, department=department,
                                   status="pending", requested_by_id=actor.user_id, requested_by=actor.username,
                                   requested_at=utcnow())
    session.add(request)
    session.flush()
    audit.record(session, actor, event_account_change_requested, target_type="user", target_id=user.id,
                 username=user.username, role=role, clearance=clearance, request_id=request.id,
                 **({"department": department} if department else {}))
    return request.id


def list_change_requests(uow: UnitOfWork, *, actor: Actor, status: str = "pending") -> list[ChangeRequestView]:
    """Requires permission_account_change_approve."""
    with uow:
        access.require(actor, permission_account_change_approve)
        rows = uow.session.execute(
            select(AccountChangeRequest, User.username).join(User, User.id == AccountChangeRequest.user_id)
            .where(AccountChangeRequest.status == status).order_by(AccountChangeRequest.id)
        )
        return [ChangeRequestView(r.id, name, r.role, r.clearance, r.requested_by, r.requested_at, r.status,
                                  r.department) for r, name in rows]


def decide_change_request(uow: UnitOfWork, *, actor: Actor, request_id: int, approve: bool) -> None:
    """Approve (the role and clearance apply; the user's sessions end) or reject a pending request.
    Requires permission_account_change_approve; nobody decides their own request or their own account."""
    with uow:
        access.require(actor, permission_account_change_approve)
        session = uow.session
        request = session.get(AccountChangeRequest, request_id, with_for_update=True)
        if request is None or request.status != "pending":
            raise NotFoundError(f"no pending account change {request_id}")
        if actor.user_id is not None and actor.user_id in (request.requested_by_id, request.user_id):
            raise access.denied(actor, permission_account_change_approve, "a second person must decide",
                                "account_change", request.id)
        user = session.get(User, request.user_id)
        assert user is not None
        request.status = "approved" if approve else "rejected"
        request.decided_by_id, request.decided_at = actor.user_id, utcnow()
        before = [user.role, user.clearance]
        moved: dict[str, object] = {"department_before": user.department.code if user.department else None}
        if approve:
            users.assign_role(actor, user, request.role)
            user.clearance = request.clearance
            if request.department:
                user.department_id = users.department_of(session, request.department, user.role)
                session.flush()
                session.refresh(user)
            end_sessions(session, user.id)
        moved["department_after"] = user.department.code if user.department else None
        audit.record(session, actor, event_account_change_approved if approve else event_account_change_rejected,
                     target_type="user", target_id=user.id, username=user.username, request_id=request.id,
                     requested_by=request.requested_by, before=before, after=[user.role, user.clearance],
                     **(moved if request.department else {}))
        uow.commit()


def reset_password(uow: UnitOfWork, *, actor: Actor, user_id: int) -> str:
    """Give the user a one-time password (returned once, to hand over) that opens only the password
    change; the user's sessions end. An account above staff/internal drops to staff/internal and its
    role and clearance wait for a security administrator again, so a reset is no way into content.
    Requires permission_user_manage."""
    with uow:
        access.require(actor, permission_user_manage)
        session = uow.session
        user = session.get(User, user_id)
        if user is None:
            raise NotFoundError(f"no user {user_id}")
        one_time = users.one_time_password()
        user.password_hash = users._hasher.hash(one_time)
        user.must_change_password, user.password_changed_at = True, utcnow()
        user.totp_sealed = None  # a lost authenticator is the usual reason for a reset: enrol again
        ended = end_sessions(session, user.id)
        throttle.clear(session, throttle.login_keys(user.username, "")[0])
        restore = None
        if actor.role != "system" and _needs_approval(session, user.role, user.clearance):
            restore = _request(session, actor, user, user.role, user.clearance)
            user.role, user.clearance = BASE_ROLE, BASE_CLEARANCE
        audit.record(session, actor, event_user_password_reset, target_type="user", target_id=user.id,
                     username=user.username, sessions_ended=ended, restore_request_id=restore)
        uow.commit()
        return one_time
