"""Web-side security controls, attached with init_app: cookies, HSTS, no-store, bounded IDs, the
forced password change, and the local-only `next` target."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from web import sessions

MAX_ID = 2**63 - 1  # the largest id the databases store; beyond it a record cannot exist: 404
HSTS = "max-age=31536000; includeSubDomains"
ALLOWED_WHILE_PASSWORD_CHANGE = {"auth.change_password", "auth.enable_totp", "auth.logout", "auth.login", "static"}
_UNSAFE_NEXT = re.compile(r"[\x00-\x20\x7f\\]")


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` limited to what a database id can be, so 2**63 is "not found", not a server error."""

    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def is_id(value: object) -> bool:
    """Whether a value sent as a record id can be one (a whole number the databases store)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter
    sessions.init_app(app)
    app.before_request(require_password_change)
    app.after_request(no_store_and_hsts)


def require_password_change(*_args: object) -> ResponseReturnValue | None:
    """A user whose password an administrator chose may do nothing but choose their own; a role that
    needs a second factor does nothing before enrolling one."""
    if not current_user.is_authenticated:
        return None
    actor = current_user.actor
    if not (actor.must_change_password or actor.must_enrol_totp) or request.endpoint in ALLOWED_WHILE_PASSWORD_CHANGE:
        return None
    if request.path.startswith("/api/"):
        code = "password_change_required" if actor.must_change_password else "second_factor_required"
        message = (_("You must change your password first.") if actor.must_change_password
                   else _("You must turn on the second factor first."))
        return jsonify(error={"code": code, "message": message, "field": None}), 403
    return redirect(url_for("auth.change_password" if actor.must_change_password else "auth.enable_totp"))


def no_store_and_hsts(response: Response) -> Response:
    """Nothing but static files may be kept by a browser or proxy: pages and JSON carry customer data."""
    if request.endpoint != "static" and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Pragma", "no-cache")
    if app_secure():
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def app_secure() -> bool:
    from flask import current_app

    return bool(current_app.config.get("SESSION_COOKIE_SECURE"))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no control characters, spaces or backslashes
    (browsers drop tabs and newlines, so `/\\t/evil.example` would become `//evil.example`)."""
    if not target or len(target) > 2000 or _UNSAFE_NEXT.search(target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
