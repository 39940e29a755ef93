"""Borrowing's JSON API under /api/v1 (session login; JSON POSTs carry the X-CSRFToken header): requests,
decisions, return and revocation, and the inbox. The same services as the pages."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.borrowing import services
from archive.borrowing.views import RequestView
from archive.errors import ValidationError
from archive.services import inbox
from archive.services.inbox import InboxEntry
from web.api_auth import protect_api
from web.borrowing import ask
from web.inbox import language, safe_link, sentence
from web.openapi import operation, with_fields
from web.pagination import keyset_page, page_request
from web.security import is_id
from web.support import current_actor, new_uow, require_login

bp = Blueprint("borrowing_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

WHICH = ("mine", "to_approve", "decided", "active", "all")
MAX_LIMIT = 200

# --- what the description says (web/openapi.py) ------------------------------------------------------

CURSOR = Field("", description="next_cursor of the previous page; absent for the first page")
RequestJson = with_fields(RequestView, "BorrowRequestJson", url=str, api_url=str)


class BorrowRequestBody(BaseModel):
    """What to borrow (codes, a dossier, or a customer's documents of some types), why, how and how long."""

    codes: list[str] = Field([], description="archive codes")
    dossier_id: int | None = None
    customer: str = Field("", description="the customer's ID number or unified social credit code")
    types: list[str] = Field([], description="document type codes (with customer)")
    purpose: str
    mode: Literal["view", "download", "original"]
    days: int = Field(ge=1)


class CreatedRequest(BaseModel):
    number: str
    id: int | None
    url: str = ""


class RequestsQuery(BaseModel):
    which: Literal[WHICH] = "mine"  # type: ignore[valid-type]
    limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str = CURSOR


class RequestsAnswer(BaseModel):
    which: str
    requests: list[RequestJson]  # type: ignore[valid-type]
    next_cursor: str | None


class DecisionBody(BaseModel):
    approve: bool
    comment: str = Field("", description="required to reject")


class RevokeBody(BaseModel):
    reason: str


class Status(BaseModel):
    status: str


class InboxQuery(BaseModel):
    limit: int = Field(100, ge=1, le=MAX_LIMIT)
    cursor: str = CURSOR


class InboxAnswer(BaseModel):
    unread: int
    entries: list[with_fields(InboxEntry, text=str)]  # type: ignore[valid-type]
    next_cursor: str | None


class ReadBody(BaseModel):
    ids: list[int] | None = Field(None, description="the entries to mark read; absent for all")


class Unread(BaseModel):
    unread: int


def _body() -> dict[str, object]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValidationError("send a JSON object")
    return body


def _request_json(view: RequestView) -> dict[str, object]:
    return asdict(view) | {"url": url_for("borrowing.show", request_id=view.id),
                           "api_url": url_for("borrowing_api.borrow_request", request_id=view.id)}


def _find_id(number: str) -> int | None:
    found = [v for v in services.list_requests(new_uow(), actor=current_actor(), which="mine", limit=20)
             if v.number == number]
    return found[0].id if found else None


@bp.post("/borrow-requests")
@operation("Ask to borrow documents", body=BorrowRequestBody, response=CreatedRequest, status=201)
def create_borrow_request() -> ResponseReturnValue:
    """{"codes": [...] | "dossier_id": n | "customer": "ID or credit code", "types": [...], "purpose": "...",
    "mode": "view"|"download"|"original", "days": n} → 201 {"number", "id", "url"}."""
    number = ask(_body())
    request_id = _find_id(number)
    body: dict[str, object] = {"number": number, "id": request_id}
    if request_id is not None:
        body["url"] = url_for("borrowing_api.borrow_request", request_id=request_id)
    return jsonify(body), 201


@bp.get("/borrow-requests")
@operation("Borrow requests", query=RequestsQuery, response=RequestsAnswer)
def borrow_requests() -> ResponseReturnValue:
    """?which=mine (default) | to_approve | decided | active | all; newest first."""
    which = request.args.get("which", "mine")
    if which not in WHICH:
        raise ValidationError(f"which must be one of {', '.join(WHICH)}", field="which")
    found, next_cursor = keyset_page(
        lambda limit, before: services.list_requests(new_uow(), actor=current_actor(), which=which, limit=limit,
                                                     before_id=before),
        page_request(default_limit=MAX_LIMIT, max_limit=MAX_LIMIT), key=lambda v: v.id)
    return jsonify(which=which, requests=[_request_json(v) for v in found], next_cursor=next_cursor)


@bp.get("/borrow-requests/<int:request_id>")
@operation("A borrow request", response=RequestJson)
def borrow_request(request_id: int) -> ResponseReturnValue:
    return jsonify(_request_json(services.get_request(new_uow(), actor=current_actor(), request_id=request_id)))


@bp.post("/borrow-requests/<int:request_id>/decision")
@operation("Approve or reject a borrow request", body=DecisionBody, response=Status)
def decision(request_id: int) -> ResponseReturnValue:
    """{"approve": true|false, "comment": "..."} (a comment is required to reject) → {"status"}."""
    body = _body()
    if not isinstance(body.get("approve"), bool):
        raise ValidationError("approve must be true or false")
    status = services.decide(new_uow(), actor=current_actor(), request_id=request_id, approve=body["approve"],
                             comment=str(body.get("comment") or ""))
    return jsonify(status=status)


@bp.post("/borrow-requests/<int:request_id>/return")
@operation("Return borrowed documents", response=Status)
def give_back(request_id: int) -> ResponseReturnValue:
    services.return_borrow(new_uow(), actor=current_actor(), request_id=request_id)
    return jsonify(status="returned")


@bp.post("/borrow-requests/<int:request_id>/revoke")
@operation("Revoke a running grant", body=RevokeBody, response=Status)
def revoke(request_id: int) -> ResponseReturnValue:
    """{"reason": "..."} (required)."""
    services.revoke(new_uow(), actor=current_actor(), request_id=request_id, reason=str(_body().get("reason") or ""))
    return jsonify(status="revoked")


@bp.get("/inbox")
@operation("The user's inbox", query=InboxQuery, response=InboxAnswer, errors=(400, 401))
def inbox_entries() -> ResponseReturnValue:
    """The user's entries, newest first, each with its sentence in the UI's language (?lang=en)."""
    lang = language()
    entries, next_cursor = keyset_page(
        lambda limit, before: inbox.list_inbox(new_uow(), actor=current_actor(), limit=limit, before_id=before),
        page_request(default_limit=100, max_limit=MAX_LIMIT), key=lambda e: e.id)
    return jsonify(unread=inbox.unread_count(new_uow(), actor=current_actor()), entries=[
        asdict(e) | {"text": sentence(e, lang), "link": safe_link(e.link)} for e in entries], next_cursor=next_cursor)


@bp.post("/inbox/read")
@operation("Mark inbox entries read", body=ReadBody, response=Unread, errors=(400, 401))
def inbox_read() -> ResponseReturnValue:
    """{"ids": [...]} or {} for all → {"unread"}."""
    ids = _body().get("ids") if request.get_json(silent=True) else None
    if ids is not None and (not isinstance(ids, list) or not all(is_id(i) for i in ids)):
        raise ValidationError("ids must be a list of entry ids", field="ids")
    inbox.mark_read(new_uow(), actor=current_actor(), entry_ids=ids)
    return jsonify(unread=inbox.unread_count(new_uow(), actor=current_actor()))
