"""Bearer authentication for /api/v1 with personal API tokens (archive/api_tokens).

`Authorization: Bearer <token>` makes the token's user the request's user, with their role,
department, clearance and active/locked state exactly as for a session. Bearer requests carry no
cookie, so CSRF does not apply to them; cookie sessions on the API keep CSRF. A read token may only
send GET/HEAD/OPTIONS. An unknown, expired or revoked token is 401. The messages are in the request's
language (the session's choice, else Accept-Language).
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from archive.api_tokens import services
from archive.errors import AuthenticationError
from web.extensions import csrf
from web.support import WebUser, get_archive

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def _error(status: int, code: str, message: str) -> ResponseReturnValue:
    return jsonify(error={"code": code, "message": message, "field": None}), status


def protect_api(bp: Blueprint) -> None:
    """Bearer tokens for the blueprint (no CSRF for them, scope checked); CSRF for cookie sessions."""
    csrf.exempt(bp)

    @bp.before_request
    def _authenticate() -> ResponseReturnValue | None:
        secret = bearer_secret()
        if secret is None:
            config = current_app.config
            if config.get("WTF_CSRF_ENABLED", True) and request.method in config.get(
                    "WTF_CSRF_METHODS", ("POST", "PUT", "PATCH", "DELETE")):
                csrf.protect()  # a cookie session: the same CSRF check as every form
            return None
        if len(secret) > 200:
            return _error(401, "unauthenticated", _("The API token is not valid (unknown, expired or revoked)."))
        try:
            actor, token_id, scope = services.actor_for_api_token(
                get_archive().uow(), secret=secret, remote_addr=request.remote_addr or "")
        except AuthenticationError:
            return _error(401, "unauthenticated", _("The API token is not valid (unknown, expired or revoked)."))
        if scope != "write" and request.method not in READ_METHODS:
            return _error(403, "insufficient_scope", _("This token may only read (scope read)."))
        g.api_token_id = token_id
        g._login_user = WebUser(replace(actor, api_token_id=token_id))  # flask-login's user for this request
        return None

