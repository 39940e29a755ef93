"""Classification changes 密级变更: the request form on a document's page (clerks, approvers) and the
security administrator's list to approve or reject them. archive/services/classification decides."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from archive.errors import ValidationError, check_filter_value
from archive.permissions import permission_classification_approve
from archive.services import classification
from web.errors import translated
from web.support import current_actor, label, may, new_uow, require_login

bp = Blueprint("classification", __name__, url_prefix="/classification")
require_login(bp)

STATUSES = ("pending", "approved", "rejected")


@bp.app_context_processor
def classification_navigation() -> dict[str, object]:
    return {"may_decide_classification": may(permission_classification_approve)}


@bp.get("/")
def index() -> ResponseReturnValue:
    """The security administrator's list; others learn their outcome from the inbox."""
    status = request.args.get("status") or "pending"
    check_filter_value("status", status, STATUSES)
    if not may(permission_classification_approve):
        return render_template("classification/index.html", changes=None, status=status, statuses=STATUSES)
    changes = classification.list_changes(new_uow(), actor=current_actor(), status=status)
    return render_template("classification/index.html", changes=changes, status=status, statuses=STATUSES)


@bp.post("/<int:change_id>/decision")
def decide(change_id: int) -> ResponseReturnValue:
    approve = request.form.get("approve") == "yes"
    try:
        classification.decide_change(new_uow(), actor=current_actor(), change_id=change_id, approve=approve,
                                     comment=request.form.get("comment", ""))
    except ValidationError as error:
        flash(_("Refused: %(reason)s", reason=translated(error)), "error")
    else:
        flash(_("Classification change #%(id)s: %(outcome)s.", id=change_id,
                outcome=label("approved" if approve else "rejected")), "ok")
    return redirect(url_for("classification.index"))


@bp.post("/<any(document, dossier):target_type>/<int:target_id>")
def ask(target_type: str, target_id: int) -> ResponseReturnValue:
    """Ask for a new level for a document (from its page) or a dossier; back to where the form was."""
    back = (url_for("documents.show", document_id=target_id, _anchor="classification-change")
            if target_type == "document" else url_for("classification.index"))
    try:
        change_id = classification.request_change(new_uow(), actor=current_actor(), target_type=target_type,
                                                  target_id=target_id, level=request.form.get("level", ""),
                                                  reason=request.form.get("reason", ""))
    except ValidationError as error:
        flash(_("Refused: %(reason)s", reason=translated(error)), "error")
    else:
        flash(_("Classification change #%(id)s sent to the security administrator.", id=change_id), "ok")
    return redirect(back)
