"""Customers: the list (by name, or by ID number, credit code or phone), the customer page, the
registration form with its live key check, and superseding a wrong identity key (seed 004)."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from archive.capture.permissions import permission_document_capture
from archive.errors import ValidationError
from archive.identity import ID_TYPES
from archive.permissions import permission_customer_register, permission_customer_supersede
from archive.services import customers
from archive.views import IdentifierCheck
from web.errors import translated
from web.support import current_actor, document_type_names, json_body, may, new_uow, require_login

bp = Blueprint("customers", __name__, url_prefix="/customers")
require_login(bp)

REGISTRATION_FIELDS = ("id_type", "identifier", "name", "phone", "customer_class")


@bp.get("/")
def index() -> ResponseReturnValue:
    name = request.args.get("name", "").strip()[:100]
    number = request.args.get("number", "").strip()[:40]
    found = customers.list_customers(new_uow(), actor=current_actor(), name=name, number=number)
    return render_template("customers/index.html", customers=found, name=name, number=number,
                           may_register=may(permission_customer_register))


@bp.get("/<int:customer_id>")
def show(customer_id: int, supersede_errors: dict[str, str] | None = None,
         supersede_form: dict[str, str] | None = None) -> ResponseReturnValue:
    view = customers.get_customer(new_uow(), actor=current_actor(), customer_id=customer_id)
    names = document_type_names()
    missing = [(code, names.get(code, code)) for code in view.missing_types]
    status = 400 if supersede_errors else 200
    return render_template("customers/show.html", customer=view, missing=missing,
                           may_capture=may(permission_document_capture),
                           may_supersede=permission_customer_supersede in view.actions
                           and view.superseded_by is None and view.summary.status == "normal",
                           errors=supersede_errors or {}, form=supersede_form or {}, id_types=ID_TYPES), status


def registration_form(source: dict[str, str] | None = None) -> dict[str, str]:
    source = source or {}
    return {name: (source.get(name) or "").strip()[:200] for name in REGISTRATION_FIELDS}


def register(form: dict[str, str]) -> int:
    """Register from the form's (or the API body's) fields; raises ValidationError (code, field)."""
    return customers.register_customer(
        new_uow(), actor=current_actor(), id_type=form["id_type"] or "resident_id", identifier=form["identifier"],
        name=form["name"], phone=form["phone"], customer_class=form["customer_class"])


@bp.get("/new")
def new() -> ResponseReturnValue:
    return render_template("customers/new.html", form=registration_form({"id_type": "resident_id"}), errors={},
                           id_types=ID_TYPES)


@bp.post("/new")
def create() -> ResponseReturnValue:
    form = registration_form(request.form)
    try:
        customer_id = register(form)
    except ValidationError as error:
        errors = {error.field or "form": translated(error)}
        return render_template("customers/new.html", form=form, errors=errors, id_types=ID_TYPES), 400
    flash(_("Customer %(name)s registered.", name=form["name"]), "ok")
    return redirect(url_for("customers.show", customer_id=customer_id))


def check_json(check: IdentifierCheck) -> dict[str, object]:
    """The live check as JSON: valid, its translated message, registered, and where that customer is."""
    if not check.valid:
        message = translated(ValidationError(check.message, code=check.code))
    elif check.registered:
        message = _("Already registered.")
    else:
        message = _("Valid, not yet registered.")
    return {
        "valid": check.valid, "code": check.code, "message": message, "registered": check.registered,
        "customer_url": url_for("customers.show", customer_id=check.customer_id) if check.customer_id else None,
        "customer_name": check.customer_name,
    }


def check_body() -> tuple[str, str]:
    """(id_type, identifier) from a JSON body: a POST keeps the number out of addresses and access logs."""
    body = json_body()
    return str(body.get("id_type") or "")[:20], str(body.get("identifier") or "")[:40]


@bp.post("/check")
def check() -> ResponseReturnValue:
    """{"id_type": "resident_id"|"uscc", "identifier": "…"} → the key's live check as JSON (see check_json)."""
    id_type, identifier = check_body()
    result = customers.check_identifier(new_uow(), actor=current_actor(), id_type=id_type, identifier=identifier)
    response = jsonify(check_json(result))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def supersede(customer_id: int, form: dict[str, str]) -> int:
    """Supersede from the form's (or the API body's) fields; the new customer's id."""
    return customers.supersede_customer(
        new_uow(), actor=current_actor(), customer_id=customer_id, id_type=form.get("id_type") or "resident_id",
        identifier=form.get("identifier", ""), reason=form.get("reason", ""), name=form.get("name", ""))


@bp.post("/<int:customer_id>/supersede")
def supersede_form(customer_id: int) -> ResponseReturnValue:
    form = {name: (request.form.get(name) or "").strip()[:500] for name in ("id_type", "identifier", "name", "reason")}
    try:
        new_id = supersede(customer_id, form)
    except ValidationError as error:
        return show(customer_id, supersede_errors={error.field or "form": translated(error)}, supersede_form=form)
    flash(_("The wrong key is superseded: the file continues under the corrected one."), "ok")
    return redirect(url_for("customers.show", customer_id=new_id))
