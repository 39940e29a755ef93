"""The capture page: upload scans for a customer. JS uploads file by file through the API; the
plain form POST works without it."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from archive.capture.permissions import permission_document_capture
from archive.services import customers
from web.pagination import number_arg
from web.support import (
    classification_choices,
    current_actor,
    document_type_choices,
    may,
    new_uow,
    require_login,
)
from web.uploads import CaptureFields, capture_uploads, progress_of, uploaded_files

bp = Blueprint("capture", __name__, url_prefix="/capture")
require_login(bp)


def _render(status: int = 200, **context: object) -> ResponseReturnValue:
    types = document_type_choices()
    classifications = classification_choices()
    context.setdefault("fields", CaptureFields(customer="", document_type=""))
    return render_template("capture/index.html", types=types, classifications=classifications, **context), status


@bp.get("/")
def index() -> ResponseReturnValue:
    """The form; ?customer_id= and ?document_type= fill it in (the customer page's missing documents)."""
    document_type = request.args.get("document_type", "")[:60]
    if document_type not in document_type_choices():
        document_type = ""
    key, name = "", ""
    customer_id = number_arg("customer_id")
    if customer_id is not None and may(permission_document_capture):
        key, name = customers.capture_prefill(new_uow(), actor=current_actor(), customer_id=customer_id)
    return _render(fields=CaptureFields(customer=key, document_type=document_type, customer_name=name or None))


@bp.post("/")
def upload() -> ResponseReturnValue:
    fields = CaptureFields.from_form(request.form)
    uploads = uploaded_files(request.files)
    if not uploads:
        return _render(400, fields=fields, form_error=_("Choose at least one file."))
    outcome = capture_uploads(uploads, fields)
    status = 200 if outcome.captured else 400
    ids = [r.document_id for _f, r in outcome.captured]
    progress = progress_of(ids)["documents"] if ids else {}
    return _render(status, fields=fields, outcome=outcome, progress=progress,
                   captured_ids=",".join(str(i) for i in ids))
