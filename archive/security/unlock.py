"""Self-service unlock by e-mail (ASVS 2.5): a user whose logins are being delayed asks for a link; when
SMTP is configured and the account has an e-mail address, a one-time link valid for 30 minutes is sent
to it. The answer is the same whether or not the account exists, has an address or is throttled, so it
tells nobody anything. Following the link forgets the account's failed logins, as an administrator's
unlock does. Both steps are audited."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select

from archive import audit
from archive.actors import Actor
from archive.errors import ValidationError
from archive.models import User, as_utc
from archive.security import throttle
from archive.security.events import event_unlock_requested, event_user_unlocked
from archive.security.models import UnlockToken
from archive.unit_of_work import UnitOfWork

VALID_FOR = timedelta(minutes=30)
SELF_SERVICE = Actor.system("self-service")  # who acts when someone asks for or follows a link
INVALID = "this unlock link is not valid any more: ask for a new one"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_unlock(uow: UnitOfWork, *, username: str, remote_addr: str) -> None:
    """Send an unlock link to the account's e-mail address, if there is an account, an address and a mail
    server; otherwise do nothing visible. Audited as user.unlock_requested either way."""
    actor = SELF_SERVICE.at(remote_addr)
    with uow:
        user = uow.session.scalar(select(User).where(User.username == username.strip()))
        sent = uow.mailer is not None and user is not None and user.active and bool(user.email)
        if sent:
            assert user is not None and user.email and uow.mailer is not None
            token = secrets.token_urlsafe(32)
            uow.session.add(UnlockToken(token_hash=_digest(token), user_id=user.id,
                                        expires_at=uow.clock.now() + VALID_FOR))
            link = f"{uow.settings.public_url}/login/unlock/{token}"
            uow.mailer.send(user.email, "客户档案管理系统: 解除登录限制 / unlock your account",
                            f"{user.username}:\n\n要立即解除登录限制，请在 30 分钟内打开 / To unlock your account, open "
                            f"within 30 minutes:\n\n{link}\n\n如果不是您本人的请求，请忽略本邮件 / If you did not ask, "
                            "ignore this message.\n")
        audit.record(uow.session, actor, event_unlock_requested, target_type="user",
                     target_id=user.id if user else "", username=username.strip()[:64], sent=sent)
        uow.commit()


def confirm_unlock(uow: UnitOfWork, *, token: str, remote_addr: str) -> str:
    """Follow an unlock link: forget the account's failed logins; return the username. Raises
    ValidationError for a link that is unknown, used or expired."""
    actor = SELF_SERVICE.at(remote_addr)
    with uow:
        row = uow.session.get(UnlockToken, _digest(token), with_for_update=True)
        now = uow.clock.now()
        if row is None or row.used_at is not None or as_utc(row.expires_at) < now:
            raise ValidationError(INVALID, code="unlock_link_invalid")
        user = uow.session.get(User, row.user_id)
        if user is None or not user.active:
            raise ValidationError(INVALID, code="unlock_link_invalid")
        row.used_at = now
        throttle.clear(uow.session, throttle.login_keys(user.username, "")[0])
        user.failed_logins, user.locked_until = 0, None
        audit.record(uow.session, actor, event_user_unlocked, target_type="user", target_id=user.id,
                     username=user.username, by="e-mail link")
        uow.commit()
        return user.username
