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
from typing import Any

from flask import Flask, Request, Response, session
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import CallbackDict

from archive.security import sessions


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
        self.unavailable: Exception | None = None  # the database error that kept the session from loading

    def regenerate(self) -> None:
        """Forget the current token: its row is deleted and the next response carries a new one."""
        if self.sid:
            self.ended.append(self.sid)
        self.sid = None
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    """Flask's session interface over archive/security/sessions.py, which keeps the rows and the timeouts."""

    def _uow(self, app: Flask) -> Any:
        return app.extensions["archive"].uow()

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = request.cookies.get(self.get_cookie_name(app))
        if not token or len(token) > 200:
            return ServerSession()
        sid = token_digest(token)
        try:
            found = sessions.load_session(self._uow(app), sid)
        except DBAPIError as error:
            # Raised here, Flask would answer a bare 500 before any error handler runs; the request
            # raises it again once dispatched (raise_if_unavailable), where web/errors.py answers 503.
            empty = ServerSession()
            empty.unavailable = error
            return empty
        if found is None:
            return ServerSession()
        data, stale = found
        return ServerSession(data, sid, stale=stale)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        if session.unavailable is not None:
            return  # keep the cookie: the session row is still there once the database is back
        name = self.get_cookie_name(app)
        domain, path = self.get_cookie_domain(app), self.get_cookie_path(app)
        if session.accessed:
            response.vary.add("Cookie")
        if not (session.modified or session.stale or session.ended):
            return
        if not session:
            if session.sid or session.ended:
                sessions.store_session(self._uow(app), sid=session.sid or "", new=False, data=None, user_id=None,
                                       ended=session.ended)
                response.delete_cookie(name, domain=domain, path=path)
            return
        token = secrets.token_urlsafe(32) if session.sid is None else None
        kept = sessions.store_session(self._uow(app), sid=token_digest(token) if token else session.sid,
                                      new=token is not None, data=dict(session), user_id=_user_id(session),
                                      ended=session.ended)
        if token:
            response.set_cookie(name, token, httponly=True, domain=domain, path=path,
                                secure=self.get_cookie_secure(app), samesite=self.get_cookie_samesite(app))
        elif not kept:  # ended meanwhile (logout elsewhere, password change): do not bring it back
            response.delete_cookie(name, domain=domain, path=path)


def _user_id(session: SessionMixin) -> int | None:
    try:
        return int(session["_user_id"]) if "_user_id" in session else None
    except (TypeError, ValueError):
        return None


def current_session_id(session: SessionMixin) -> str | None:
    """The row of the request's session, to keep while ending the user's others."""
    return getattr(session, "sid", None)


def raise_if_unavailable() -> None:
    """Before the view: a session that could not be loaded raises its database error."""
    unavailable = getattr(session, "unavailable", None)
    if unavailable is not None:
        raise unavailable


def init_app(app: Flask) -> None:
    app.session_interface = DatabaseSessionInterface()
    app.before_request(raise_if_unavailable)
