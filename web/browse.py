"""The views by work order / business step and by dossier, beside the view by customer (seed 002).
The services list only what the user may see."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from archive.services import browsing
from web.pagination import number_arg
from web.support import current_actor, new_uow, require_login

work_orders_bp = Blueprint("work_orders", __name__, url_prefix="/work-orders")
dossiers_bp = Blueprint("dossiers", __name__, url_prefix="/dossiers")
require_login(work_orders_bp)
require_login(dossiers_bp)


@work_orders_bp.get("/")
def index() -> ResponseReturnValue:
    """?work_order= and ?step= narrow the list to one work order or business step."""
    work_order = request.args.get("work_order", "").strip()[:64]
    step = request.args.get("step", "").strip()[:100]
    groups = browsing.documents_by_work_order(new_uow(), actor=current_actor(), work_order=work_order,
                                              business_step=step)
    return render_template("browse/work_orders.html", groups=groups, work_order=work_order, step=step)


@dossiers_bp.get("/")
def dossiers() -> ResponseReturnValue:
    """?dossier= shows one dossier."""
    dossier_id = number_arg("dossier")
    groups = browsing.documents_by_dossier(new_uow(), actor=current_actor(), dossier_id=dossier_id)
    return render_template("browse/dossiers.html", groups=groups, dossier_id=dossier_id)
