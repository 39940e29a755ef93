"""The security administrator's account review: accounts unused in N days, accounts whose role or
clearance changed, and the review campaigns (confirm or disable each account, then sign off). Views
parse and translate; archive.account_review decides and audits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from archive.account_review import services
from archive.account_review.permissions import permission_account_review
from archive.errors import ValidationError
from web.errors import translated
from web.pagination import number_arg, whole_number
from web.support import current_actor, get_archive, may, new_uow, require_login

bp = Blueprint("account_review", __name__, url_prefix="/account-review")
require_login(bp)


@bp.app_context_processor
def account_review_navigation() -> dict[str, object]:
    """Whether the layout offers the account review (base.html); the services still decide."""
    return {"may_review_accounts": may(permission_account_review)}


def default_days() -> int:
    return get_archive().settings.account_inactive_days or services.DEFAULT_INACTIVE_DAYS


def inactive_days() -> int:
    """The `days` argument: how long unused makes an account inactive (the setting's, by default);
    ValidationError when it is no number or out of the service's range."""
    days = number_arg("days")
    return default_days() if days is None else services.checked_days(days)


def changes_since(days: int) -> datetime:
    """The `since` argument: changes from then on (by default since the last signed-off review)."""
    raw = request.args.get("since", "").strip()
    if raw:
        try:
            return datetime.strptime(raw[:10], "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            abort(400)
    return services.last_signed_off(new_uow()) or get_archive().clock.now() - timedelta(days=days)


@bp.get("/")
def index() -> ResponseReturnValue:
    actor, status, days_error = current_actor(), 200, None
    try:
        days = inactive_days()
    except ValidationError as error:
        days, status, days_error = default_days(), 400, translated(error)
    since = changes_since(days)
    inactive = services.inactive_accounts(new_uow(), actor=actor, days=days)
    changed = services.changed_accounts(new_uow(), actor=actor, since=since)
    reviews = services.list_reviews(new_uow(), actor=actor)
    return render_template("account_review/index.html", inactive=inactive, changed=changed, reviews=reviews,
                           days=days, since=since, auto_days=get_archive().settings.account_inactive_days,
                           days_error=days_error), status


@bp.post("/")
def start() -> ResponseReturnValue:
    try:
        days = whole_number(request.form.get("days"), "days")
        review_id = services.start_review(new_uow(), actor=current_actor(),
                                          inactive_days=services.DEFAULT_INACTIVE_DAYS if days is None else days)
    except ValidationError as error:
        flash(translated(error), "error")
        return redirect(url_for("account_review.index"))
    return redirect(url_for("account_review.show", review_id=review_id))


@bp.get("/<int:review_id>")
def show(review_id: int) -> ResponseReturnValue:
    review = services.get_review(new_uow(), actor=current_actor(), review_id=review_id)
    intact = services.verify_review(new_uow(), actor=current_actor(), review_id=review_id) \
        if review.status == "signed_off" else None
    return render_template("account_review/show.html", review=review, intact=intact)


@bp.post("/<int:review_id>/accounts/<int:user_id>")
def decide(review_id: int, user_id: int) -> ResponseReturnValue:
    disable = request.form.get("decision") == "disable"
    try:
        services.decide_account(new_uow(), actor=current_actor(), review_id=review_id, user_id=user_id,
                                disable=disable, comment=request.form.get("comment", ""))
        flash(_("Account disabled.") if disable else _("Account confirmed."), "ok")
    except ValidationError as error:
        flash(translated(error), "error")
    return redirect(url_for("account_review.show", review_id=review_id) + f"#account-{user_id}")


@bp.post("/<int:review_id>/sign-off")
def sign_off(review_id: int) -> ResponseReturnValue:
    try:
        digest = services.sign_off_review(new_uow(), actor=current_actor(), review_id=review_id,
                                          comment=request.form.get("comment", ""))
        flash(_("The review is signed off (SHA-256 %(digest)s).", digest=digest[:16] + "…"), "ok")
    except ValidationError as error:
        flash(translated(error), "error")
    return redirect(url_for("account_review.show", review_id=review_id))
