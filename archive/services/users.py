"""Accounts: creation, authentication with lockout, and turning a user into an Actor."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import access, audit, registry
from archive.actors import Actor
from archive.errors import AuthenticationError, NotFoundError, ValidationError
from archive.events import (
    event_user_created,
    event_user_logged_in,
    event_user_logged_out,
    event_user_login_failed,
)
from archive.models import ClassificationLevel, Department, User, as_utc, utcnow
from archive.permissions import permission_user_manage
from archive.roles import SEPARATED_ROLES
from archive.security import passwords, throttle
from archive.security.events import (
    event_user_deactivated,
    event_user_password_changed,
    event_user_throttled,
    event_user_token_issued,
    event_user_totp_enabled,
    event_user_unlocked,
)
from archive.security.sessions import end_sessions
from archive.unit_of_work import UnitOfWork
from archive.views import UserView
from storage.envelope import Keyring, open_sealed, seal

_hasher = PasswordHasher()
MIN_PASSWORD = passwords.MIN_LENGTH
WRONG_CREDENTIALS = "用户名或密码错误 / wrong username or password"
_dummy_hashes: dict[int, str] = {}


class LoginThrottledError(AuthenticationError):
    """Too many failed logins for this name or address: wait `seconds` before the next try."""

    def __init__(self, seconds: int) -> None:
        super().__init__(f"尝试次数过多，请{seconds}秒后再试 / too many attempts, try again in {seconds} s",
                         code="login_throttled", params={"seconds": seconds})
        self.seconds = seconds


ONE_TIME_VALIDITY = timedelta(hours=72)


def _one_time_expired(user: User, now: datetime) -> bool:
    """A one-time password an administrator set works for 72 hours; then only a new reset helps."""
    return bool(user.must_change_password and user.password_changed_at
                and now - as_utc(user.password_changed_at) > ONE_TIME_VALIDITY)


def _second_factor_ok(user: User, code: str | None, keyring: Keyring, now: datetime) -> bool:
    """No TOTP enrolled, or the code of this or the neighbouring 30-second step."""
    if not user.totp_sealed:
        return True
    import pyotp

    digits = "".join(c for c in (code or "") if c.isdigit())
    return len(digits) == 6 and pyotp.TOTP(open_sealed(user.totp_sealed, keyring)).verify(
        digits, for_time=now, valid_window=1)


def enable_totp(uow: UnitOfWork, *, actor: Actor, secret: str, code: str) -> None:
    """Turn on the TOTP second factor once the user shows a code from the new secret. Raises
    ValidationError for a wrong code."""
    import pyotp

    with uow:
        user = uow.session.get(User, actor.user_id) if actor.user_id is not None else None
        if user is None or not user.active:
            raise AuthenticationError(WRONG_CREDENTIALS, code="wrong_credentials")
        if not pyotp.TOTP(secret).verify("".join(c for c in code if c.isdigit()), valid_window=1):
            raise ValidationError("验证码错误 / the code does not match; check the authenticator's clock",
                                  code="totp_mismatch", field="code")
        user.totp_sealed = seal(secret, uow.keyring)
        audit.record(uow.session, actor, event_user_totp_enabled, target_type="user", target_id=user.id)
        uow.commit()


def _dummy_hash() -> str:
    """A hash made with the current hasher's parameters, verified when the name is unknown."""
    key = id(_hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hashes[key]


def hash_password(password: str) -> str:
    """Hash a new password after checking the policy (archive/security/passwords.py)."""
    passwords.check_password(password)
    return _hasher.hash(password)


def check_email(email: str) -> str | None:
    """The address, trimmed, or None; raise ValidationError for something that is not one."""
    email = email.strip()
    if email and (len(email) > 200 or email.count("@") != 1 or " " in email or "." not in email.split("@")[1]):
        raise ValidationError(f"{email!r} is not an e-mail address", code="invalid_email", params={"value": email},
                              field="email")
    return email or None


def department_of(session: Session, department: str | None, role: str) -> int | None:
    """The department's id by code (None for roles that belong to none); ValidationError otherwise."""
    if department:
        found = session.scalar(select(Department).where(Department.code == department))
        if found is None:
            raise ValidationError(f"unknown department {department!r}", code="unknown_department",
                                  params={"value": department}, field="department")
        if not found.active:
            raise ValidationError(f"department {department!r} is no longer in use", code="inactive_reference",
                                  params={"value": department}, field="department")
        return found.id
    if role in ("clerk", "staff", "approver"):
        raise ValidationError(f"a {role} belongs to a department", code="role_needs_department",
                              params={"role": role}, field="department")
    return None


def check_clearance(session: Session, clearance: str) -> None:
    """A clearance is a classification level in use (a deactivated one is not given to anyone new)."""
    level = session.get(ClassificationLevel, clearance)
    if level is None:
        raise ValidationError(f"unknown clearance {clearance!r}", code="unknown_classification",
                              params={"value": clearance}, field="clearance")
    if not level.active:
        raise ValidationError(f"clearance {clearance!r} is no longer in use", code="inactive_reference",
                              params={"value": clearance}, field="clearance")


def check_role(role: str) -> None:
    """Raise ValidationError unless some feature registered the role."""
    if role not in registry.roles():
        raise ValidationError(f"role must be one of {', '.join(registry.roles())}", code="unknown_role",
                              params={"value": role}, field="role")


def assign_role(actor: Actor, user: User, role: str) -> None:
    """Give the account its role under 三员分立 (access.check_role_change raises AccessDenied)."""
    access.check_role_change(actor, user.duty_role, role)
    user.role = role
    if role in SEPARATED_ROLES and user.duty_role is None:
        user.duty_role = role


def check_new_account(session: Session, username: str, role: str) -> None:
    """Raise ValidationError for an unknown role, or a username that is empty or taken."""
    check_role(role)
    if not username.strip():
        raise ValidationError("a username is required", code="username_required", field="username")
    if session.scalar(select(User).where(User.username == username)):
        raise ValidationError(f"user {username!r} already exists", code="username_taken", params={"value": username},
                              field="username")


def create_user(
    uow: UnitOfWork, *, actor: Actor, username: str, password: str, role: str,
    department: str | None = None, clearance: str = "internal", display_name: str = "", email: str = "",
) -> int:
    """Create an account (email: where a self-service unlock link goes). Requires permission_user_manage."""
    with uow:
        access.require(actor, permission_user_manage)
        session = uow.session
        check_new_account(session, username, role)
        check_clearance(session, clearance)
        department_id = department_of(session, department, role)
        user = User(
            username=username, display_name=display_name or username, password_hash=hash_password(password),
            role=role, department_id=department_id, clearance=clearance, email=check_email(email),
            duty_role=role if role in SEPARATED_ROLES else None,
        )
        session.add(user)
        session.flush()
        audit.record(session, actor, event_user_created, target_type="user", target_id=user.id,
                     username=username, role=role, department=department or "", clearance=clearance)
        uow.commit()
        return user.id


def actor_for(uow: UnitOfWork, user: User, remote_addr: str = "") -> Actor:
    """The user as an Actor now (on the archive's clock), with the borrow grants running at this instant."""
    session, totp_roles = uow.session, uow.settings.totp_required_roles
    rank = user.clearance_level.rank
    levels = session.scalars(select(ClassificationLevel.code).where(ClassificationLevel.rank <= rank))
    return Actor(
        user_id=user.id, username=user.username, role=user.role, department_id=user.department_id,
        department_code=user.department.code if user.department else "", clearance=user.clearance,
        visible_classifications=frozenset(levels), remote_addr=remote_addr,
        must_change_password=user.must_change_password,
        must_enrol_totp=user.role in totp_roles and not user.totp_sealed,
        grants=tuple(lending.grants(session, user.id, uow.clock.now())) if (lending := registry.lending()) else (),
    )


def resolve_actor(uow: UnitOfWork, *, username: str | None = None, user_id: int | None = None,
                  remote_addr: str = "") -> Actor:
    """Snapshot an active user as an Actor; NotFoundError if unknown or disabled."""
    with uow:
        query = select(User).where(User.username == username if username is not None else User.id == user_id)
        user = uow.session.scalar(query)
        if user is None or not user.active or user.is_locked(utcnow()):
            raise NotFoundError(f"no active user {username or user_id!r}")
        return actor_for(uow, user, remote_addr)


def authenticate(uow: UnitOfWork, *, username: str, password: str, remote_addr: str = "",
                 totp_code: str | None = None) -> Actor:
    """Check credentials. Every attempt is audited and answered alike for known and unknown names.

    Failures are counted per account name as typed and per address; beyond ARCHIVE_LOCKOUT_ATTEMPTS
    each further try must wait longer (1, 2, 4 … s, at most ARCHIVE_LOCKOUT_MINUTES), so nobody can
    lock an account for good and guessing stays slow. Raises AuthenticationError (LoginThrottledError
    while a delay runs).
    """
    settings = uow.settings
    free, cap = settings.lockout_attempts, settings.lockout_minutes * 60
    user_key, addr_key = throttle.login_keys(username, remote_addr)
    with uow:
        session = uow.session
        user = session.scalar(select(User).where(User.username == username))
        now = utcnow()
        anonymous = Actor(user_id=None, username=username[:100], role="anonymous", remote_addr=remote_addr)
        known = user is not None and user.active
        actor = actor_for(uow, user, remote_addr) if known else anonymous
        wait = max(throttle.wait_seconds(session, user_key, free=free, max_seconds=cap, now=now),
                   throttle.wait_seconds(session, addr_key, free=free * throttle.ADDRESS_FACTOR,
                                         max_seconds=cap, now=now))
        if wait:
            audit.record(session, actor, event_user_login_failed, outcome="denied", reason="throttled", wait=wait)
            uow.commit()
            raise LoginThrottledError(wait)
        # The same Argon2 work for an unknown name as for a known one: no timing difference to measure.
        reason = "unknown user"
        try:
            _hasher.verify(user.password_hash if known else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            reason = "wrong password" if known else reason
        else:
            if known and user.is_locked(now):
                reason = "locked"
            elif known and _one_time_expired(user, now):
                reason = "one-time password expired"
            elif known and not _second_factor_ok(user, totp_code, uow.keyring, now):
                reason = "wrong second factor"
            elif known:
                reason = ""
        if reason:
            forget = timedelta(seconds=max(cap * 2, 3600))
            failures = throttle.record_failure(session, user_key, forget_after=forget, now=now)
            throttle.record_failure(session, addr_key, forget_after=forget, now=now)
            audit.record(session, actor, event_user_login_failed, outcome="failed", reason=reason,
                         attempts=failures)
            if known and failures == free:
                audit.record(session, actor, event_user_throttled, outcome="ok", target_type="user",
                             target_id=user.id, attempts=failures)
            uow.commit()
            raise AuthenticationError(WRONG_CREDENTIALS, code="wrong_credentials")
        throttle.clear(session, user_key)
        user.failed_logins = 0
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        audit.record(session, actor, event_user_logged_in)
        uow.commit()
        return actor


def list_users(uow: UnitOfWork, *, actor: Actor, limit: int | None = None, offset: int = 0) -> list[UserView]:
    """Accounts by user name (`limit` and `offset`: the API's pages). Requires permission_user_manage."""
    with uow:
        access.require(actor, permission_user_manage)
        users = uow.session.scalars(select(User).order_by(User.username).offset(offset).limit(limit))
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


def change_password(uow: UnitOfWork, *, actor: Actor, current: str, new: str, keep_session: str | None = None) -> None:
    """The user replaces their own password (also the forced change after a one-time password).

    Needs the current password; every other session of the user ends. Raises AuthenticationError,
    ValidationError (policy, or the same password again).
    """
    with uow:
        session = uow.session
        user = session.get(User, actor.user_id) if actor.user_id is not None else None
        if user is None or not user.active:
            raise AuthenticationError(WRONG_CREDENTIALS, code="wrong_credentials")
        try:
            _hasher.verify(user.password_hash, current)
        except (VerificationError, InvalidHashError):
            audit.record(session, actor, event_user_password_changed, outcome="failed", target_type="user",
                         target_id=user.id, reason="wrong current password")
            uow.commit()
            raise AuthenticationError("当前密码错误 / the current password is wrong",
                                          code="current_password_wrong") from None
        if new == current:
            raise ValidationError("新密码不能与当前密码相同 / the new password must differ from the current one",
                                  code="password_unchanged", field="new_password")
        user.password_hash = hash_password(new)
        user.must_change_password = False
        user.password_changed_at = utcnow()
        ended = end_sessions(session, user.id, keep=keep_session)
        audit.record(session, actor, event_user_password_changed, target_type="user", target_id=user.id,
                     sessions_ended=ended)
        uow.commit()


def _managed_user(uow: UnitOfWork, actor: Actor, user_id: int) -> User:
    access.require(actor, permission_user_manage)
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id}")
    return user


def unlock_user(uow: UnitOfWork, *, actor: Actor, user_id: int) -> None:
    """Forget the account's failed logins so it may log in at once. Requires permission_user_manage."""
    with uow:
        user = _managed_user(uow, actor, user_id)
        throttle.clear(uow.session, throttle.login_keys(user.username, "")[0])
        user.failed_logins, user.locked_until = 0, None
        audit.record(uow.session, actor, event_user_unlocked, target_type="user", target_id=user.id,
                     username=user.username)
        uow.commit()


def set_user_active(uow: UnitOfWork, *, actor: Actor, user_id: int, active: bool) -> None:
    """Deactivate (every session ends at once) or reactivate an account. Requires permission_user_manage."""
    with uow:
        user = _managed_user(uow, actor, user_id)
        if user.id == actor.user_id:
            raise ValidationError("不能停用自己的账户 / you cannot deactivate your own account",
                                  code="cannot_deactivate_self")
        user.active = active
        ended = end_sessions(uow.session, user.id) if not active else 0
        audit.record(uow.session, actor, event_user_deactivated if not active else "user.reactivated",
                     target_type="user", target_id=user.id, username=user.username, sessions_ended=ended)
        uow.commit()


def one_time_password() -> str:
    """A random password that meets the policy (20 URL-safe characters)."""
    return secrets.token_urlsafe(15)


def issue_cli_token(uow: UnitOfWork, *, actor: Actor) -> str:
    """A new personal token for the command line (replacing any earlier one), shown once; only its
    hash is kept. The actor must be a user (not a system actor)."""
    with uow:
        user = uow.session.get(User, actor.user_id) if actor.user_id is not None else None
        if user is None or not user.active:
            raise AuthenticationError(WRONG_CREDENTIALS, code="wrong_credentials")
        token = f"arch_{secrets.token_urlsafe(32)}"
        user.cli_token_hash = hashlib.sha256(token.encode()).hexdigest()
        audit.record(uow.session, actor, event_user_token_issued, target_type="user", target_id=user.id)
        uow.commit()
        return token


def actor_for_token(uow: UnitOfWork, *, username: str, token: str, remote_addr: str = "") -> Actor:
    """The Actor whose personal token this is; AuthenticationError (audited) otherwise."""
    with uow:
        session = uow.session
        user = session.scalar(select(User).where(User.username == username))
        digest = hashlib.sha256(token.encode()).hexdigest()
        ok = (user is not None and user.active and not user.is_locked(utcnow()) and user.cli_token_hash is not None
              and hmac.compare_digest(user.cli_token_hash, digest))
        if not ok:
            anonymous = Actor(user_id=None, username=username[:100], role="anonymous", remote_addr=remote_addr)
            audit.record(session, anonymous, event_user_login_failed, outcome="failed", reason="bad token")
            uow.commit()
            raise AuthenticationError("令牌无效 / the personal token is not valid for this user",
                                      code="personal_token_invalid")
        assert user is not None
        return actor_for(uow, user, remote_addr)
