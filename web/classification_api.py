"""Classification changes 密级变更 in the JSON API under /api/v1/classification-changes: ask for a new level
for a document or a dossier, and the security administrator's list and decision. The same service as
the pages (archive.services.classification), which checks the duties and audits."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.errors import ValidationError
from archive.services import classification
from archive.services.classification import ClassificationChangeView
from web.api_auth import protect_api
from web.classification import STATUSES
from web.openapi import operation
from web.pagination import PageQuery, keyset_page, page_request
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("classification_api", __name__, url_prefix="/api/v1/classification-changes")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)


class ChangesQuery(PageQuery):
    status: Literal[STATUSES] = "pending"  # type: ignore[valid-type]


class ChangesAnswer(BaseModel):
    changes: list[ClassificationChangeView]
    next_cursor: str | None


class ChangeRequest(BaseModel):
    target_type: Literal["document", "dossier"]
    target_id: int = Field(ge=1, le=2**31 - 1)
    level: str = Field(max_length=32, description="the classification level's code")
    reason: str = Field(min_length=1, max_length=2000)


class CreatedChange(BaseModel):
    id: int


class Decision(BaseModel):
    approve: bool
    comment: str = Field("", max_length=2000, description="required to reject")



@bp.get("")
@operation("Classification changes", query=ChangesQuery, response=ChangesAnswer)
def list_changes() -> ResponseReturnValue:
    """Newest first, by status (pending by default). Security administrators
    (`classification.approve`); the others learn their outcome from the inbox."""
    status = request.args.get("status", "pending")
    if status not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}", field="status")
    found, next_cursor = keyset_page(
        lambda limit, before: classification.list_changes(new_uow(), actor=current_actor(), status=status,
                                                          limit=limit, before_id=before),
        page_request(default_limit=50, max_limit=200), key=lambda c: c.id)
    return jsonify(changes=[asdict(c) for c in found], next_cursor=next_cursor)


@bp.post("")
@operation("Ask for a new classification level", body=ChangeRequest, response=CreatedChange, status=201)
def ask() -> ResponseReturnValue:
    """{"target_type": document|dossier, "target_id", "level", "reason"} → 201 {"id"}; the security
    administrators are notified."""
    body = json_body()
    target_type, target_id = body.get("target_type"), body.get("target_id")
    if target_type not in ("document", "dossier"):
        raise ValidationError("target_type must be document or dossier", field="target_type")
    if isinstance(target_id, bool) or not isinstance(target_id, int) or not 1 <= target_id < 2**31:
        raise ValidationError("target_id must be a record's id", field="target_id")
    change_id = classification.request_change(new_uow(), actor=current_actor(), target_type=target_type,
                                              target_id=target_id, level=str(body.get("level") or ""),
                                              reason=str(body.get("reason") or ""))
    return jsonify(id=change_id), 201


@bp.post("/<int:change_id>/decision")
@operation("Decide a classification change", body=Decision, status=204)
def decide(change_id: int) -> ResponseReturnValue:
    """{"approve": true} applies the level (a dossier raised lifts its documents with it); {"approve":
    false, "comment"} rejects. A second person decides: never one's own request (403)."""
    body = json_body()
    classification.decide_change(new_uow(), actor=current_actor(), change_id=change_id,
                                 approve=body.get("approve") is True, comment=str(body.get("comment") or ""))
    return "", 204
