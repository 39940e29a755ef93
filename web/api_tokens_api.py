"""The user's own personal API tokens under /api/v1/tokens: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from archive.api_tokens import services
from archive.errors import ValidationError
from web.api_auth import protect_api
from web.support import current_actor, new_uow, require_login

bp = Blueprint("api_tokens_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)


@bp.get("/tokens")
def list_tokens() -> ResponseReturnValue:
    return jsonify(tokens=[asdict(v) for v in services.list_api_tokens(new_uow(), actor=current_actor())])


@bp.post("/tokens")
def create_token() -> ResponseReturnValue:
    """{"name": str, "scope": "read"|"write", "days": 1..365} → 201 {"token": {...}, "secret": "..."}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("days"), int) or isinstance(body.get("days"), bool):
        raise ValidationError("send a JSON object with name, scope and days (a whole number)")
    created = services.create_api_token(new_uow(), actor=current_actor(), name=str(body.get("name") or ""),
                                        scope=str(body.get("scope") or ""), days=body["days"])
    return jsonify(token=asdict(created.token), secret=created.secret), 201


@bp.delete("/tokens/<int:token_id>")
def revoke_token(token_id: int) -> ResponseReturnValue:
    view = services.revoke_api_token(new_uow(), actor=current_actor(), token_id=token_id)
    return jsonify(token=asdict(view))
