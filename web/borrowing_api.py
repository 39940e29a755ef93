"""Borrowing's JSON API under /api/v1 (session login; JSON POSTs carry the X-CSRFToken header): requests,
decisions, return and revocation, and the inbox. The same services as the pages."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from archive.borrowing import services
from archive.borrowing.views import RequestView
from archive.errors import ValidationError, check_filter_value
from archive.services import inbox
from web.api_auth import protect_api
from web.borrowing import ask
from web.inbox import language, safe_link, sentence
from web.support import current_actor, new_uow, require_login

bp = Blueprint("borrowing_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

WHICH = ("mine", "to_approve", "decided", "active", "all")


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
def borrow_requests() -> ResponseReturnValue:
    """?which=mine (default) | to_approve | decided | active | all."""
    which = request.args.get("which") or "mine"
    check_filter_value("which", which, WHICH)
    found = services.list_requests(new_uow(), actor=current_actor(), which=which)
    return jsonify(which=which, requests=[_request_json(v) for v in found])


@bp.get("/borrow-requests/<int:request_id>")
def borrow_request(request_id: int) -> ResponseReturnValue:
    return jsonify(_request_json(services.get_request(new_uow(), actor=current_actor(), request_id=request_id)))


@bp.post("/borrow-requests/<int:request_id>/decision")
def decision(request_id: int) -> ResponseReturnValue:
    """{"approve": true|false, "comment": "..."} (a comment is required to reject) → {"status"}."""
    body = _body()
    if not isinstance(body.get("approve"), bool):
        raise ValidationError("approve must be true or false")
    status = services.decide(new_uow(), actor=current_actor(), request_id=request_id, approve=body["approve"],
                             comment=str(body.get("comment") or ""))
    return jsonify(status=status)


@bp.post("/borrow-requests/<int:request_id>/return")
def give_back(request_id: int) -> ResponseReturnValue:
    services.return_borrow(new_uow(), actor=current_actor(), request_id=request_id)
    return jsonify(status="returned")


@bp.post("/borrow-requests/<int:request_id>/revoke")
def revoke(request_id: int) -> ResponseReturnValue:
    """{"reason": "..."} (required)."""
    services.revoke(new_uow(), actor=current_actor(), request_id=request_id, reason=str(_body().get("reason") or ""))
    return jsonify(status="revoked")


@bp.get("/inbox")
def inbox_entries() -> ResponseReturnValue:
    """The user's entries, newest first, each with its sentence in the UI's language (?lang=en)."""
    lang = language()
    entries = inbox.list_inbox(new_uow(), actor=current_actor())
    return jsonify(unread=inbox.unread_count(new_uow(), actor=current_actor()), entries=[
        asdict(e) | {"text": sentence(e, lang), "link": safe_link(e.link)} for e in entries])


@bp.post("/inbox/read")
def inbox_read() -> ResponseReturnValue:
    """{"ids": [...]} or {} for all → {"unread"}."""
    ids = _body().get("ids") if request.get_json(silent=True) else None
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) for i in ids)):
        raise ValidationError("ids must be a list of entry ids")
    inbox.mark_read(new_uow(), actor=current_actor(), entry_ids=ids)
    return jsonify(unread=inbox.unread_count(new_uow(), actor=current_actor()))
