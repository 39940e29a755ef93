"""The security administrator's account review in the JSON API under /api/v1/account-review: unused
accounts, accounts whose role or clearance changed, and the review campaigns (start one, confirm or
disable each account, sign off). The same services as the pages (archive.account_review), which check
`account.review` and audit each step."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from flask import Blueprint, jsonify, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.account_review import services
from archive.account_review.views import AccountChange, AccountUse, ReviewView
from archive.errors import ValidationError
from web.account_review import changes_since, inactive_days
from web.api_auth import protect_api
from web.openapi import operation, with_fields
from web.pagination import PageQuery, keyset_page, list_page, page_request
from web.support import current_actor, json_body, new_uow, require_login

bp = Blueprint("account_review_api", __name__, url_prefix="/api/v1/account-review")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)




class InactiveQuery(PageQuery):
    days: int | None = Field(None, ge=1, le=3650, description="unused for this many days (default: the setting)")


class InactiveAnswer(BaseModel):
    accounts: list[AccountUse]
    next_cursor: str | None


class ChangesQuery(PageQuery):
    since: date | None = Field(None, description="default: the last signed-off review")


class ChangesAnswer(BaseModel):
    changes: list[AccountChange]
    next_cursor: str | None


ReviewSummary = with_fields(ReviewView, "ReviewSummary", url=str)


class ReviewsAnswer(BaseModel):
    reviews: list[ReviewSummary]  # type: ignore[valid-type]
    next_cursor: str | None


class NewReview(BaseModel):
    days: int = Field(services.DEFAULT_INACTIVE_DAYS, ge=1, le=services.MAX_INACTIVE_DAYS, description="unused for this many days")


class CreatedReview(BaseModel):
    id: int
    url: str


class OneReview(BaseModel):
    review: ReviewView
    intact: bool | None = Field(description="a signed-off review's record still matches its digest; null while open")


class AccountDecision(BaseModel):
    decision: Literal["confirm", "disable"]
    comment: str = Field("", max_length=2000)


class Comment(BaseModel):
    comment: str = Field("", max_length=2000)


class SignedOff(BaseModel):
    digest: str = Field(description="the review record's SHA-256")



def _summary(review: ReviewView) -> dict[str, Any]:
    return {**asdict(review), "url": url_for("account_review_api.show_review", review_id=review.id)}


@bp.get("/inactive")
@operation("Accounts unused for a number of days", query=InactiveQuery, response=InactiveAnswer)
def inactive() -> ResponseReturnValue:
    found = services.inactive_accounts(new_uow(), actor=current_actor(), days=inactive_days())
    shown, next_cursor = list_page(found, page_request(default_limit=50, max_limit=200))
    return jsonify(accounts=[asdict(a) for a in shown], next_cursor=next_cursor)


@bp.get("/changes")
@operation("Accounts whose role or clearance changed", query=ChangesQuery, response=ChangesAnswer)
def changes() -> ResponseReturnValue:
    found = services.changed_accounts(new_uow(), actor=current_actor(), since=changes_since(inactive_days()))
    shown, next_cursor = list_page(found, page_request(default_limit=50, max_limit=200))
    return jsonify(changes=[asdict(c) for c in shown], next_cursor=next_cursor)


@bp.get("/reviews")
@operation("Account reviews", query=PageQuery, response=ReviewsAnswer)
def list_reviews() -> ResponseReturnValue:
    """Newest first, without their accounts (see each one's url)."""
    found, next_cursor = keyset_page(
        lambda limit, before: services.list_reviews(new_uow(), actor=current_actor(), limit=limit, before_id=before),
        page_request(default_limit=50, max_limit=200), key=lambda r: r.id)
    return jsonify(reviews=[_summary(r) for r in found], next_cursor=next_cursor)


@bp.post("/reviews")
@operation("Start an account review", body=NewReview, response=CreatedReview, status=201)
def start_review() -> ResponseReturnValue:
    """{"days"?} → 201 {"id", "url"}: every account unused that long or changed since the last signed-off
    review, to confirm or disable. One review is open at a time (400 otherwise)."""
    days = json_body().get("days", services.DEFAULT_INACTIVE_DAYS)
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValidationError("days must be a whole number", code="not_a_number", field="days")
    review_id = services.start_review(new_uow(), actor=current_actor(), inactive_days=days)
    return jsonify(id=review_id, url=url_for("account_review_api.show_review", review_id=review_id)), 201


@bp.get("/reviews/<int:review_id>")
@operation("One account review", response=OneReview)
def show_review(review_id: int) -> ResponseReturnValue:
    review = services.get_review(new_uow(), actor=current_actor(), review_id=review_id)
    intact = services.verify_review(new_uow(), actor=current_actor(), review_id=review_id) \
        if review.status == "signed_off" else None
    return jsonify(review=asdict(review), intact=intact)


@bp.post("/reviews/<int:review_id>/accounts/<int:user_id>")
@operation("Confirm or disable an account of the review", body=AccountDecision, status=204)
def decide(review_id: int, user_id: int) -> ResponseReturnValue:
    """{"decision": confirm|disable, "comment"?}: final within the review; nobody decides their own
    account (403). Disabling ends the account's sessions."""
    body = json_body()
    decision = body.get("decision")
    if decision not in ("confirm", "disable"):
        raise ValidationError("decision must be confirm or disable", field="decision")
    services.decide_account(new_uow(), actor=current_actor(), review_id=review_id, user_id=user_id,
                            disable=decision == "disable", comment=str(body.get("comment") or ""))
    return "", 204


@bp.post("/reviews/<int:review_id>/sign-off")
@operation("Sign off an account review", body=Comment, response=SignedOff)
def sign_off(review_id: int) -> ResponseReturnValue:
    """{"comment"?} → {"digest"}: the review's record is sealed with its SHA-256."""
    digest = services.sign_off_review(new_uow(), actor=current_actor(), review_id=review_id,
                                      comment=str(json_body().get("comment") or ""))
    return jsonify(digest=digest)
