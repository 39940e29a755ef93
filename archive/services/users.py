"""Accounts: creation, authentication with lockout, and turning a user into an Actor."""

from __future__ import annotations

from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import access, audit, registry
from archive.actors import Actor
from archive.errors import AuthenticationError, NotFoundError, ValidationError
from archive.events import (
    event_user_created,
    event_user_locked,
    event_user_logged_in,
    event_user_logged_out,
    event_user_login_failed,
)
from archive.models import ClassificationLevel, Department, User, utcnow
from archive.permissions import permission_user_manage
from archive.unit_of_work import UnitOfWork
from archive.views import UserView

_hasher = PasswordHasher()
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValidationError(f"a password needs at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def create_user(
    uow: UnitOfWork, *, actor: Actor, username: str, password: str, role: str,
    department: str | None = None, clearance: str = "internal", display_name: str = "",
) -> int:
    """Create an account. Requires permission_user_manage."""
    with uow:
        access.require(actor, permission_user_manage)
        session = uow.session
        if role not in registry.roles():
            raise ValidationError(f"role must be one of {', '.join(registry.roles())}")
        if not username.strip():
            raise ValidationError("a username is required")
        if session.scalar(select(User).where(User.username == username)):
            raise ValidationError(f"user {username!r} already exists")
        if session.get(ClassificationLevel, clearance) is None:
            raise ValidationError(f"unknown clearance {clearance!r}")
        department_id = None
        if department:
            dept = session.scalar(select(Department).where(Department.code == department))
            if dept is None:
                raise ValidationError(f"unknown department {department!r}")
            department_id = dept.id
        elif role in ("clerk", "staff", "approver"):
            raise ValidationError(f"a {role} belongs to a department")
        user = User(
            username=username, display_name=display_name or username, password_hash=hash_password(password),
            role=role, department_id=department_id, clearance=clearance,
        )
        session.add(user)
        session.flush()
        audit.record(session, actor, event_user_created, target_type="user", target_id=user.id,
                     username=username, role=role, department=department or "", clearance=clearance)
        uow.commit()
        return user.id


def _actor_for(session: Session, user: User, remote_addr: str = "") -> Actor:
    rank = user.clearance_level.rank
    levels = session.scalars(select(ClassificationLevel.code).where(ClassificationLevel.rank <= rank))
    return Actor(
        user_id=user.id, username=user.username, role=user.role, department_id=user.department_id,
        department_code=user.department.code if user.department else "", clearance=user.clearance,
        visible_classifications=frozenset(levels), remote_addr=remote_addr,
    )


def resolve_actor(uow: UnitOfWork, *, username: str | None = None, user_id: int | None = None,
                  remote_addr: str = "") -> Actor:
    """Snapshot an active user as an Actor; NotFoundError if unknown or disabled."""
    with uow:
        query = select(User).where(User.username == username if username is not None else User.id == user_id)
        user = uow.session.scalar(query)
        if user is None or not user.active:
            raise NotFoundError(f"no active user {username or user_id!r}")
        return _actor_for(uow.session, user, remote_addr)


def authenticate(uow: UnitOfWork, *, username: str, password: str, remote_addr: str = "") -> Actor:
    """Check credentials; lock the account after repeated failures. Every attempt is audited."""
    settings = uow.settings
    with uow:
        session = uow.session
        user = session.scalar(select(User).where(User.username == username))
        now = utcnow()
        anonymous = Actor(user_id=None, username=username[:100], role="anonymous", remote_addr=remote_addr)
        if user is None or not user.active:
            audit.record(session, anonymous, event_user_login_failed, outcome="failed", reason="unknown user")
            uow.commit()
            raise AuthenticationError("用户名或密码错误 / wrong username or password")
        actor = _actor_for(session, user, remote_addr)
        if user.is_locked(now):
            audit.record(session, actor, event_user_login_failed, outcome="denied", reason="locked")
            uow.commit()
            raise AuthenticationError("账户已锁定，请稍后再试 / account locked, try again later")
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            user.failed_logins += 1
            audit.record(session, actor, event_user_login_failed, outcome="failed",
                         reason="wrong password", attempts=user.failed_logins)
            if user.failed_logins >= settings.lockout_attempts:
                user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
                user.failed_logins = 0
                audit.record(session, actor, event_user_locked, outcome="ok", target_type="user",
                             target_id=user.id, minutes=settings.lockout_minutes)
            uow.commit()
            raise AuthenticationError("用户名或密码错误 / wrong username or password") from None
        user.failed_logins = 0
        user.locked_until = None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        audit.record(session, actor, event_user_logged_in)
        uow.commit()
        return actor


def list_users(uow: UnitOfWork, *, actor: Actor) -> list[UserView]:
    with uow:
        access.require(actor, permission_user_manage)
        users = uow.session.scalars(select(User).order_by(User.username))
        return [
            UserView(u.id, u.username, u.display_name, u.role, u.department.code if u.department else "",
                     u.clearance, u.active)
            for u in users
        ]


def count_users(uow: UnitOfWork) -> int:
    with uow:
        return uow.session.scalar(select(func.count(User.id))) or 0


def log_out(uow: UnitOfWork, *, actor: Actor) -> None:
    with uow:
        audit.record(uow.session, actor, event_user_logged_out)
        uow.commit()
