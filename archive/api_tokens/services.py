"""Create, list, revoke and check personal API tokens; every create and revoke is audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from archive import audit
from archive.actors import Actor
from archive.api_tokens.events import (
    event_api_token_created,
    event_api_token_refused,
    event_api_token_revoked,
)
from archive.api_tokens.models import ApiToken
from archive.errors import AuthenticationError, NotFoundError, ValidationError
from archive.models import User, as_utc
from archive.services.users import actor_for
from archive.unit_of_work import UnitOfWork

SCOPES = ("read", "write")  # write: non-GET requests are allowed too
MAX_DAYS = 365
PREFIX = "arch_pat_"
LAST_USE_PRECISION = timedelta(minutes=1)  # last_used_at is written at most this often, not on every request


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    scope: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedToken:
    token: TokenView
    secret: str  # shown once, never stored


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _view(row: ApiToken) -> TokenView:
    def utc(moment: datetime | None) -> datetime | None:
        return as_utc(moment) if moment is not None else None

    return TokenView(id=row.id, name=row.name, scope=row.scope, prefix=row.prefix, created_at=as_utc(row.created_at),
                     expires_at=as_utc(row.expires_at), last_used_at=utc(row.last_used_at),
                     revoked_at=utc(row.revoked_at))


def create_api_token(uow: UnitOfWork, *, actor: Actor, name: str, scope: str, days: int) -> CreatedToken:
    """A new token for the actor's own account; ValidationError for a bad name, scope or expiry."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError("name must be 1 to 100 characters")
    if scope not in SCOPES:
        raise ValidationError(f"scope must be one of {', '.join(SCOPES)}")
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"days must be between 1 and {MAX_DAYS}")
    if actor.user_id is None:
        raise ValidationError("only a user can hold an API token")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = uow.clock.now()
    with uow:
        row = ApiToken(user_id=actor.user_id, name=name, scope=scope, prefix=secret[:len(PREFIX) + 6],
                       token_hash=_digest(secret), created_at=now, expires_at=now + timedelta(days=days))
        uow.session.add(row)
        uow.session.flush()
        audit.record(uow.session, actor, event_api_token_created, target_type="api_token", target_id=row.id,
                     name=name, scope=scope, expires_at=row.expires_at.isoformat())
        view = _view(row)
        uow.commit()
    return CreatedToken(token=view, secret=secret)


def list_api_tokens(uow: UnitOfWork, *, actor: Actor, limit: int | None = None,
                    before_id: int | None = None) -> list[TokenView]:
    """The actor's own tokens, newest first; before_id continues a list after the token with that id."""
    query = select(ApiToken).where(ApiToken.user_id == actor.user_id)
    if before_id is not None:
        query = query.where(ApiToken.id < before_id)
    with uow:
        rows = uow.session.scalars(query.order_by(ApiToken.id.desc()).limit(limit))
        return [_view(row) for row in rows]


def revoke_api_token(uow: UnitOfWork, *, actor: Actor, token_id: int) -> TokenView:
    """Revoke one of the actor's own tokens; NotFoundError for anyone else's."""
    with uow:
        row = uow.session.get(ApiToken, token_id)
        if row is None or row.user_id != actor.user_id:
            raise NotFoundError(f"no API token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = uow.clock.now()
            audit.record(uow.session, actor, event_api_token_revoked, target_type="api_token", target_id=row.id)
        view = _view(row)
        uow.commit()
    return view


def actor_for_api_token(uow: UnitOfWork, *, secret: str, remote_addr: str = "") -> tuple[Actor, int, str]:
    """The token's user as an Actor (active and not locked), the token id and scope; records last use
    (to the minute: LAST_USE_PRECISION).
    AuthenticationError (audited) for an unknown, expired or revoked token or an unusable account."""
    now = uow.clock.now()
    with uow:
        row = uow.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(secret)))
        user = uow.session.get(User, row.user_id) if row is not None else None
        ok = (row is not None and user is not None and row.revoked_at is None and as_utc(row.expires_at) > now
              and user.active and not user.is_locked(now))
        if not ok:
            anonymous = Actor(user_id=None, username="api-token", role="anonymous", remote_addr=remote_addr)
            audit.record(uow.session, anonymous, event_api_token_refused, outcome="failed",
                         target_type="api_token", target_id=row.id if row is not None else "")
            uow.commit()
            raise AuthenticationError("the API token is not valid")
        assert row is not None and user is not None
        if row.last_used_at is None or now - as_utc(row.last_used_at) >= LAST_USE_PRECISION:
            row.last_used_at = now
        actor = actor_for(uow, user, remote_addr)
        token_id, scope = row.id, row.scope
        uow.commit()
    return actor, token_id, scope
