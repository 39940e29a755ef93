"""The capture page: upload scans for a customer. JS uploads file by file through the API; the
plain form POST works without it."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.support import classification_choices, document_type_choices, require_login
from web.uploads import CaptureFields, capture_uploads, uploaded_files

bp = Blueprint("capture", __name__, url_prefix="/capture")
require_login(bp)


def _render(status: int = 200, **context: object) -> ResponseReturnValue:
    types = document_type_choices()
    classifications = classification_choices()
    context.setdefault("fields", CaptureFields(customer="", document_type=""))
    return render_template("capture/index.html", types=types, classifications=classifications, **context), status


@bp.get("/")
def index() -> ResponseReturnValue:
    return _render()


@bp.post("/")
def upload() -> ResponseReturnValue:
    fields = CaptureFields.from_form(request.form)
    uploads = uploaded_files(request.files)
    if not uploads:
        return _render(400, fields=fields, form_error=_("Choose at least one file."))
    outcome = capture_uploads(uploads, fields)
    status = 200 if outcome.captured else 400
    return _render(status, fields=fields, outcome=outcome,
                   captured_ids=",".join(str(r.document_id) for _f, r in outcome.captured))
