"""Customers: the list (by name, or by ID number, credit code or phone) and the customer page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from archive.services import customers
from web.support import current_actor, document_type_names, new_uow, require_login

bp = Blueprint("customers", __name__, url_prefix="/customers")
require_login(bp)


@bp.get("/")
def index() -> ResponseReturnValue:
    name = request.args.get("name", "").strip()[:100]
    number = request.args.get("number", "").strip()[:40]
    found = customers.list_customers(new_uow(), actor=current_actor(), name=name, number=number)
    return render_template("customers/index.html", customers=found, name=name, number=number)


@bp.get("/<int:customer_id>")
def show(customer_id: int) -> ResponseReturnValue:
    view = customers.get_customer(new_uow(), actor=current_actor(), customer_id=customer_id)
    names = document_type_names()
    missing = [names.get(code, code) for code in view.missing_types]
    return render_template("customers/show.html", customer=view, missing=missing)
