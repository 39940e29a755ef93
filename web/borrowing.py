"""Borrowing 借阅 pages: the request form, one's own requests, a request's steps and decisions, the
approver's desk (pending, decided, delegations), the archive room (originals lent and returned) and the
approval chains. Views translate form fields into service calls; archive/borrowing decides everything."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from archive.borrowing import chains, services
from archive.borrowing.models import CAPACITIES, MODES
from archive.borrowing.permissions import (
    permission_borrow_approve,
    permission_borrow_request,
    permission_chain_manage,
    permission_loan_manage,
)
from archive.errors import ValidationError
from web.security import is_id
from web.support import current_actor, document_type_names, get_archive, label, may, new_uow, require_login

bp = Blueprint("borrowing", __name__, url_prefix="/borrow")
require_login(bp)


@bp.app_context_processor
def borrowing_navigation() -> dict[str, object]:
    """Which borrowing pages the layout offers (base.html); the services still decide."""
    return {
        "may_borrow": may(permission_borrow_request),
        "may_approve_borrowing": may(permission_borrow_approve),
        "may_lend_originals": may(permission_loan_manage),
        "may_manage_chains": may(permission_chain_manage),
        "may_oversee_borrowing": current_user.is_authenticated and services.oversees(current_actor()),
    }


def split_codes(text: str) -> list[str]:
    """Archive codes typed one per line, or separated by commas or spaces."""
    return [code for code in text.replace(",", " ").replace(",", " ").split() if code]


def _optional_int(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not is_id(number):
        raise ValidationError(f"{name} must be a number", field=name)
    return number


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{name} must be a date (YYYY-MM-DD)") from None


def ask(fields: dict[str, object]) -> str:
    """Call request_borrow with the fields of the form or of the API's JSON body; the request number."""
    codes = fields.get("codes") or []
    types = fields.get("types") or []
    if isinstance(codes, str):
        codes = split_codes(codes)
    if isinstance(types, str):
        types = [types]
    if not isinstance(codes, list) or not isinstance(types, list):
        raise ValidationError("codes and types are lists")
    dossier = fields.get("dossier_id")
    days = fields.get("days")
    try:
        days_number = int(days) if days not in (None, "") else 0  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError("days must be a number") from None
    return services.request_borrow(
        new_uow(), actor=current_actor(), purpose=str(fields.get("purpose") or ""), mode=str(fields.get("mode") or ""),
        days=days_number, codes=[str(c) for c in codes],
        dossier_id=_optional_int(str(dossier), "dossier") if dossier not in (None, "") else None,
        customer=str(fields.get("customer") or "").strip() or None, types=[str(t) for t in types])


def _back_to(request_id: int) -> ResponseReturnValue:
    return redirect(url_for("borrowing.show", request_id=request_id))


def _refused(error: ValidationError, back: str) -> ResponseReturnValue:
    flash(_("Refused: %(reason)s", reason=str(error)), "error")
    return redirect(back)


# --- the requester ------------------------------------------------------------------------------


@bp.get("/")
def index() -> ResponseReturnValue:
    """The actor's own requests."""
    mine = services.list_requests(new_uow(), actor=current_actor(), which="mine")
    return render_template("borrowing/index.html", requests=mine)


@bp.route("/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    """The request form; ?code= fills in an archive code (from a document page or a search hit)."""
    max_days = get_archive().settings.borrow_max_days
    form: dict[str, object] = {"codes": request.args.get("code", ""), "mode": request.args.get("mode", "view"),
                               "days": "7" if max_days >= 7 else str(max_days), "dossier_id": request.args.get(
                                   "dossier", ""), "customer": "", "types": [], "purpose": ""}
    error = ""
    if request.method == "POST":
        form = {key: request.form.get(key, "") for key in ("codes", "mode", "days", "dossier_id", "customer",
                                                           "purpose")}
        form["types"] = request.form.getlist("types")
        try:
            number = ask(form)
        except ValidationError as refused:
            error = str(refused)
        else:
            flash(_("Borrow request %(number)s sent for approval.", number=number), "ok")
            return redirect(url_for("borrowing.index"))
    return render_template("borrowing/new.html", form=form, error=error, modes=MODES, max_days=max_days,
                           types=document_type_names()), 400 if error else 200


@bp.get("/<int:request_id>")
def show(request_id: int) -> ResponseReturnValue:
    view = services.get_request(new_uow(), actor=current_actor(), request_id=request_id)
    return render_template("borrowing/show.html", borrow=view, is_mine=view.requester == current_actor().username,
                           may_revoke="revoke" in view.actions, may_lend="lend" in view.actions)


@bp.post("/<int:request_id>/decision")
def decide(request_id: int) -> ResponseReturnValue:
    approve = request.form.get("approve") == "yes"
    try:
        status = services.decide(new_uow(), actor=current_actor(), request_id=request_id, approve=approve,
                                 comment=request.form.get("comment", ""))
    except ValidationError as error:
        return _refused(error, url_for("borrowing.show", request_id=request_id))
    flash(_("Your decision was recorded; the request is now: %(status)s.", status=label(status)), "ok")
    return _back_to(request_id)


@bp.post("/<int:request_id>/return")
def give_back(request_id: int) -> ResponseReturnValue:
    try:
        services.return_borrow(new_uow(), actor=current_actor(), request_id=request_id)
    except ValidationError as error:
        return _refused(error, url_for("borrowing.show", request_id=request_id))
    flash(_("The borrowing was returned; access has ended."), "ok")
    return _back_to(request_id)


@bp.post("/<int:request_id>/revoke")
def revoke(request_id: int) -> ResponseReturnValue:
    try:
        services.revoke(new_uow(), actor=current_actor(), request_id=request_id,
                        reason=request.form.get("reason", ""))
    except ValidationError as error:
        return _refused(error, url_for("borrowing.show", request_id=request_id))
    flash(_("The grant was revoked."), "ok")
    return _back_to(request_id)


@bp.get("/all")
def overview() -> ResponseReturnValue:
    """Every request (?which=all, the security administrator) or the running grants (?which=active)."""
    which = "active" if request.args.get("which") == "active" else "all"
    found = services.list_requests(new_uow(), actor=current_actor(), which=which)
    return render_template("borrowing/overview.html", requests=found, which=which)


# --- the approver -------------------------------------------------------------------------------


@bp.get("/approvals")
def approvals() -> ResponseReturnValue:
    """Requests awaiting the actor, those they decided, their delegations and (archive room) overdue loans."""
    actor = current_actor()
    pending = services.list_requests(new_uow(), actor=actor, which="to_approve")
    decided = services.list_requests(new_uow(), actor=actor, which="decided")
    delegations = services.list_delegations(new_uow(), actor=actor)
    overdue = services.list_loans(new_uow(), actor=actor, overdue_only=True) if may(permission_loan_manage) else []
    return render_template("borrowing/approvals.html", pending=pending, decided=decided, delegations=delegations,
                           overdue=overdue, today=get_archive().clock.today())


@bp.post("/delegations")
def add_delegation() -> ResponseReturnValue:
    form = request.form
    back = url_for("borrowing.approvals", _anchor="delegation")
    try:
        services.delegate(new_uow(), actor=current_actor(), to=form.get("to", "").strip(),
                          starts_on=_date(form.get("starts_on", ""), "start"),
                          ends_on=_date(form.get("ends_on", ""), "end"))
    except ValidationError as error:
        return _refused(error, back)
    flash(_("Delegation to %(user)s saved.", user=form.get("to", "").strip()), "ok")
    return redirect(back)


# --- the archive room ---------------------------------------------------------------------------


@bp.get("/room")
def archive_room() -> ResponseReturnValue:
    """Approved loans of originals still to hand over, originals out, and those overdue."""
    actor = current_actor()
    out = services.list_loans(new_uow(), actor=actor)
    to_lend = [r for r in services.list_requests(new_uow(), actor=actor, which="active") if "lend" in r.actions]
    return render_template("borrowing/archive_room.html", to_lend=to_lend, out=out,
                           overdue=[loan for loan in out if loan.days_overdue > 0])


@bp.post("/<int:request_id>/lend")
def lend(request_id: int) -> ResponseReturnValue:
    try:
        loans = services.lend_originals(new_uow(), actor=current_actor(), request_id=request_id,
                                        note=request.form.get("note", ""))
    except ValidationError as error:
        return _refused(error, url_for("borrowing.archive_room"))
    flash(_("%(n)s originals handed over.", n=len(loans)), "ok")
    return redirect(url_for("borrowing.archive_room"))


@bp.post("/loans/<int:loan_id>/return")
def return_original(loan_id: int) -> ResponseReturnValue:
    services.return_original(new_uow(), actor=current_actor(), loan_id=loan_id)
    flash(_("The original is registered back in the archive room."), "ok")
    return redirect(url_for("borrowing.archive_room"))


# --- the approval chains (security administrator) -----------------------------------------------


@bp.get("/chains")
def chain_list() -> ResponseReturnValue:
    found = chains.list_chains(new_uow(), actor=current_actor())
    return render_template("borrowing/chains.html", chains=found, capacities=CAPACITIES, rules=chains.RULES)


@bp.post("/chains/<classification>/<any(in, out):side>")
def set_chain(classification: str, side: str) -> ResponseReturnValue:
    """Replace a chain with the steps of the form (capacity_N / rule_N; an empty capacity drops the step)."""
    form = request.form
    steps = []
    for index in range(len(CAPACITIES) + 2):
        capacity = form.get(f"capacity_{index}", "")
        if capacity:
            steps.append({"capacity": capacity, "rule": form.get(f"rule_{index}", "any")})
    back = url_for("borrowing.chain_list", _anchor=f"chain-{classification}-{side}")
    try:
        chains.set_chain(new_uow(), actor=current_actor(), classification=classification, in_department=side == "in",
                         steps=steps)
    except ValidationError as error:
        return _refused(error, back)
    flash(_("Approval chain saved."), "ok")
    return redirect(back)
