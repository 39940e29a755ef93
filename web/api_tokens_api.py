"""The user's own personal API tokens under /api/v1/tokens: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.api_tokens import services
from archive.api_tokens.services import TokenView
from archive.errors import ValidationError
from web.api_auth import protect_api
from web.openapi import operation
from web.pagination import CURSOR, keyset_page, page_request
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("api_tokens_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

MAX_LIMIT = 100


class TokensQuery(BaseModel):
    limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str = CURSOR


class TokensAnswer(BaseModel):
    tokens: list[TokenView]
    next_cursor: str | None


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scope: Literal[services.SCOPES]  # type: ignore[valid-type]
    days: int = Field(ge=1, le=services.MAX_DAYS)


class CreatedToken(BaseModel):
    token: TokenView
    secret: str = Field(description="the token itself: shown this once, never again")


class OneToken(BaseModel):
    token: TokenView


@bp.get("/tokens")
@operation("The user's API tokens", query=TokensQuery, response=TokensAnswer, errors=(400, 401))
def list_tokens() -> ResponseReturnValue:
    """The user's own tokens, newest first (revoked and expired ones too)."""
    tokens, next_cursor = keyset_page(
        lambda limit, before: services.list_api_tokens(new_uow(), actor=current_actor(), limit=limit,
                                                       before_id=before),
        page_request(default_limit=MAX_LIMIT, max_limit=MAX_LIMIT), key=lambda v: v.id)
    return jsonify(tokens=[asdict(v) for v in tokens], next_cursor=next_cursor)


@bp.post("/tokens")
@operation("Create an API token", body=NewToken, response=CreatedToken, status=201, errors=(400, 401, 403))
def create_token() -> ResponseReturnValue:
    """{"name": str, "scope": "read"|"write", "days": 1..365} → 201 {"token": {...}, "secret": "..."}."""
    body = json_body()
    if not isinstance(body.get("days"), int) or isinstance(body.get("days"), bool):
        raise ValidationError("send a JSON object with name, scope and days (a whole number)")
    created = services.create_api_token(new_uow(), actor=current_actor(), name=str(body.get("name") or ""),
                                        scope=str(body.get("scope") or ""), days=body["days"])
    return jsonify(token=asdict(created.token), secret=created.secret), 201


@bp.delete("/tokens/<int:token_id>")
@operation("Revoke an API token", response=OneToken, errors=(401, 403, 404))
def revoke_token(token_id: int) -> ResponseReturnValue:
    view = services.revoke_api_token(new_uow(), actor=current_actor(), token_id=token_id)
    return jsonify(token=asdict(view))
