"""Server-side web sessions in the archive's database (ASVS 3.2, 3.3).

The cookie holds only a random token; the row (keyed by the token's SHA-256) holds the data and whose
session it is, so logging out deletes it, and a password change or deactivation ends every session of
that user from the service layer (archive/security/sessions.py). Idle and absolute timeouts are
settings (ARCHIVE_SESSION_IDLE_MINUTES, ARCHIVE_SESSION_ABSOLUTE_HOURS).

Why not Flask-Session: its database backend needs Flask-SQLAlchemy, which this app does not use, and
it keeps no user column, so "end all sessions of this user" would need a scan of every session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from archive.models import as_utc, utcnow
from archive.security.models import WebSession

TOUCH_EVERY = timedelta(seconds=30)  # refresh last_seen_at at most this often


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):  # type: ignore[type-arg]
    """The session's data; `sid` is its row, `regenerate()` moves it to a new token (login, logout)."""

    def __init__(self, initial: dict[str, Any] | None = None, sid: str | None = None, *, stale: bool = False) -> None:
        def on_update(_self: Any) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid
        self.stale = stale  # last_seen_at is old enough to be refreshed
        self.modified = False
        self.ended: list[str] = []

    def regenerate(self) -> None:
        """Forget the current token: its row is deleted and the next response carries a new one."""
        if self.sid:
            self.ended.append(self.sid)
        self.sid = None
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    def _archive(self, app: Flask) -> Any:
        return app.extensions["archive"]

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 200:
            return ServerSession()
        sid = token_digest(token)
        archive = self._archive(app)
        settings = archive.settings
        now = utcnow()
        with archive.uow() as uow:
            row = uow.session.get(WebSession, sid)
            if row is None:
                return ServerSession()
            idle = now - as_utc(row.last_seen_at) > timedelta(minutes=settings.session_idle_minutes)
            too_old = now - as_utc(row.created_at) > timedelta(hours=settings.session_absolute_hours)
            if idle or too_old:
                uow.session.delete(row)
                uow.commit()
                return ServerSession()
            return ServerSession(dict(row.data), sid, stale=now - as_utc(row.last_seen_at) > TOUCH_EVERY)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.accessed:
            response.vary.add("Cookie")
        if not (session.modified or session.stale or session.ended):
            return
        now = utcnow()
        with self._archive(app).uow() as uow:
            db = uow.session
            for old in session.ended:
                db.query(WebSession).filter(WebSession.id == old).delete()
            user_id = _user_id(session)
            if not session:
                if session.sid:
                    db.query(WebSession).filter(WebSession.id == session.sid).delete()
                uow.commit()
                if session.sid or session.ended:
                    response.delete_cookie(name, domain=domain, path=path)
                return
            if session.sid is None:
                _forget_expired(uow, now)
                token = secrets.token_urlsafe(32)
                db.add(WebSession(id=token_digest(token), user_id=user_id, data=dict(session), created_at=now,
                                  last_seen_at=now))
                uow.commit()
                response.set_cookie(
                    name, token, httponly=True, domain=domain, path=path,
                    secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app),
                )
                return
            row = db.get(WebSession, session.sid)
            if row is None:  # ended meanwhile (logout elsewhere, password change): do not bring it back
                uow.commit()
                response.delete_cookie(name, domain=domain, path=path)
                return
            if session.modified:
                row.data, row.user_id = dict(session), user_id
            row.last_seen_at = now
            uow.commit()


def _forget_expired(uow: Any, now: Any) -> None:
    """Drop rows nobody can use any more (idle past the timeout), once per new session."""
    idle = timedelta(minutes=uow.settings.session_idle_minutes)
    uow.session.query(WebSession).filter(WebSession.last_seen_at < now - idle).delete()


def _user_id(session: SessionMixin) -> int | None:
    try:
        return int(session["_user_id"]) if "_user_id" in session else None
    except (TypeError, ValueError):
        return None


def current_session_id(session: SessionMixin) -> str | None:
    """The row of the request's session, to keep while ending the user's others."""
    return getattr(session, "sid", None)


def init_app(app: Flask) -> None:
    app.session_interface = DatabaseSessionInterface()
