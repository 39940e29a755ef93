"""Borrowing's JSON API under /api/v1 (session login; JSON POSTs carry the X-CSRFToken header): requests,
decisions, return and revocation, the approvers' delegations, the archive room's loans of originals, the
approval chains, and the inbox. The same services as the pages."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Literal

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.borrowing import chains, services
from archive.borrowing.models import CAPACITIES
from archive.borrowing.views import DelegationView, LoanView, RequestView
from archive.errors import ValidationError, check_filter_value
from archive.services import inbox
from archive.services.inbox import InboxEntry
from web.api_auth import protect_api
from web.borrowing import ask, parse_date
from web.inbox import language, safe_link, sentence
from web.openapi import operation, with_fields
from web.pagination import CURSOR, PageQuery, keyset_page, list_page, page_request
from web.security import is_id
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("borrowing_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

WHICH = ("mine", "to_approve", "decided", "active", "all")
MAX_LIMIT = 200

# --- what the description says (web/openapi.py) ------------------------------------------------------

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
    ids: list[int] | None = Field(None, description="the entries to mark read; absent for all ([] marks none; null is refused)")


class Unread(BaseModel):
    unread: int


class DelegationsAnswer(BaseModel):
    delegations: list[DelegationView] = Field(description="given or received, not yet ended")
    next_cursor: str | None


class NewDelegation(BaseModel):
    to: str = Field(max_length=100, description="the approver's user name")
    starts_on: date
    ends_on: date


class Created(BaseModel):
    id: int


class LoansQuery(PageQuery):
    overdue: bool = Field(False, description="only those past their due date")


class LoansAnswer(BaseModel):
    loans: list[LoanView]
    next_cursor: str | None


class LendBody(BaseModel):
    note: str = Field("", max_length=500)


class Lent(BaseModel):
    loans: list[int]


class ChainStep(BaseModel):
    capacity: Literal[CAPACITIES]  # type: ignore[valid-type]
    rule: Literal[tuple(chains.RULES)] = "any"  # type: ignore[valid-type]


class Chain(BaseModel):
    classification: str
    in_department: bool = Field(description="for requesters of the owning department, else for the others")
    steps: list[ChainStep]


class ChainsAnswer(BaseModel):
    chains: list[Chain] = Field(description="two per classification level, answered whole")


class ChainBody(BaseModel):
    steps: list[ChainStep] = Field(max_length=len(CAPACITIES) + 2)


def _request_json(view: RequestView) -> dict[str, object]:
    return asdict(view) | {"url": url_for("borrowing.show", request_id=view.id),
                           "api_url": url_for("borrowing_api.borrow_request", request_id=view.id)}


@bp.post("/borrow-requests")
@operation("Ask to borrow documents", body=BorrowRequestBody, response=CreatedRequest, status=201)
def create_borrow_request() -> ResponseReturnValue:
    """{"codes": [...] | "dossier_id": n | "customer": "ID or credit code", "types": [...], "purpose": "...",
    "mode": "view"|"download"|"original", "days": n} → 201 {"number", "id", "url"}."""
    number = ask(json_body())
    request_id = services.own_request_id(new_uow(), actor=current_actor(), number=number)
    body: dict[str, object] = {"number": number, "id": request_id}
    if request_id is not None:
        body["url"] = url_for("borrowing_api.borrow_request", request_id=request_id)
    return jsonify(body), 201


@bp.get("/borrow-requests")
@operation("Borrow requests", query=RequestsQuery, response=RequestsAnswer)
def borrow_requests() -> ResponseReturnValue:
    """?which=mine (default) | to_approve | decided | active | all; newest first."""
    which = request.args.get("which") or "mine"
    check_filter_value("which", which, WHICH)
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
    body = json_body()
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
    services.revoke(new_uow(), actor=current_actor(), request_id=request_id, reason=str(json_body().get("reason") or ""))
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
    body = json_body()  # only an absent "ids" means all; [] marks none
    if "ids" in body and not (isinstance(body["ids"], list) and all(is_id(i) for i in body["ids"])):
        raise ValidationError("ids must be a list of entry ids", field="ids")
    inbox.mark_read(new_uow(), actor=current_actor(), entry_ids=body.get("ids"))
    return jsonify(unread=inbox.unread_count(new_uow(), actor=current_actor()))


@bp.get("/borrow-delegations")
@operation("The approver's delegations", query=PageQuery, response=DelegationsAnswer)
def delegations() -> ResponseReturnValue:
    found, next_cursor = list_page(services.list_delegations(new_uow(), actor=current_actor()),
                                   page_request(default_limit=50, max_limit=MAX_LIMIT))
    return jsonify(delegations=[asdict(d) for d in found], next_cursor=next_cursor)


@bp.post("/borrow-delegations")
@operation("Delegate one's approvals for a period", body=NewDelegation, response=Created, status=201)
def add_delegation() -> ResponseReturnValue:
    """{"to", "starts_on", "ends_on"} → 201 {"id"}: another approver of the same capacity decides for the
    caller in that period."""
    body = json_body()
    delegation_id = services.delegate(new_uow(), actor=current_actor(), to=str(body.get("to") or "").strip(),
                                      starts_on=parse_date(str(body.get("starts_on") or ""), "starts_on"),
                                      ends_on=parse_date(str(body.get("ends_on") or ""), "ends_on"))
    return jsonify(id=delegation_id), 201


@bp.get("/loans")
@operation("Originals out of the archive room", query=LoansQuery, response=LoansAnswer)
def loans() -> ResponseReturnValue:
    """The archive room's loans of originals (`loan.manage`); `overdue=true` for those past due."""
    overdue = request.args.get("overdue", "").lower() in ("1", "true")
    found, next_cursor = list_page(services.list_loans(new_uow(), actor=current_actor(), overdue_only=overdue),
                                   page_request(default_limit=50, max_limit=MAX_LIMIT))
    return jsonify(loans=[asdict(loan) for loan in found], next_cursor=next_cursor)


@bp.post("/borrow-requests/<int:request_id>/lend")
@operation("Hand over an approved request's originals", body=LendBody, response=Lent)
def lend(request_id: int) -> ResponseReturnValue:
    """{"note"?} → {"loans": [id, ...]}, each due after the request's days (`loan.manage`)."""
    lent = services.lend_originals(new_uow(), actor=current_actor(), request_id=request_id,
                                   note=str(json_body().get("note") or ""))
    return jsonify(loans=lent)


@bp.post("/loans/<int:loan_id>/return")
@operation("Register an original back in the archive room", status=204)
def return_original(loan_id: int) -> ResponseReturnValue:
    """The last original back ends the request's grant."""
    services.return_original(new_uow(), actor=current_actor(), loan_id=loan_id)
    return "", 204


@bp.get("/borrow-chains")
@operation("The approval chains", response=ChainsAnswer)
def borrow_chains() -> ResponseReturnValue:
    """Every classification level's chain of approval steps (`chain.manage`: the security administrator)."""
    found = chains.list_chains(new_uow(), actor=current_actor())
    return jsonify(chains=[{"classification": level, "in_department": inside, "steps": steps}
                           for level, inside, steps in found])


@bp.put("/borrow-chains/<classification>/<any(in, out):side>")
@operation("Replace a level's approval chain", body=ChainBody, status=204)
def set_chain(classification: str, side: str) -> ResponseReturnValue:
    """{"steps": [{"capacity", "rule"}, ...]} for requesters inside (`in`) or outside (`out`) the owning
    department; audited with before and after."""
    steps = json_body().get("steps")
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise ValidationError("steps is a list of {capacity, rule}", field="steps")
    chains.set_chain(new_uow(), actor=current_actor(), classification=classification, in_department=side == "in",
                     steps=[{"capacity": str(step.get("capacity") or ""), "rule": str(step.get("rule") or "any")}
                            for step in steps])
    return "", 204
