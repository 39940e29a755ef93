"""JSON API under /api/v1 (session login; JSON POSTs carry the X-CSRFToken header)."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from archive.errors import ValidationError
from archive.services import documents, searching
from web.search import FILTER_KEYS
from web.support import current_actor, new_uow, require_login
from web.uploads import CaptureFields, capture_uploads, parse_ids, progress_of, uploaded_files

bp = Blueprint("api", __name__, url_prefix="/api/v1")
require_login(bp)

MAX_LIMIT = 100


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(request.args.get(name, default)), low), high)
    except ValueError:
        raise ValidationError(f"{name} must be a number") from None


@bp.get("/search")
def search() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:500]
    filters = {key: value.strip() for key in FILTER_KEYS if (value := request.args.get(key, "")).strip()}
    page = searching.search_documents(
        new_uow(), actor=current_actor(), query=query, limit=_int_arg("limit", 20, 1, MAX_LIMIT),
        offset=_int_arg("offset", 0, 0, 10_000), filters=filters,
    )
    return jsonify(
        query=page.query, total=page.total, facets=page.facets,
        hits=[asdict(hit) | {"url": url_for("documents.show", document_id=hit.document_id)} for hit in page.hits],
    )


@bp.get("/documents/<int:document_id>")
def document(document_id: int) -> ResponseReturnValue:
    view = documents.get_document(new_uow(), actor=current_actor(), document_id=document_id)
    body = asdict(view)
    for page in body["pages"]:
        page["image_url"] = url_for("documents.page_image", document_id=document_id, number=page["number"])
    if view.may_download:
        body["download_url"] = url_for("documents.download", document_id=document_id)
    return jsonify(body)


@bp.post("/documents")
def capture() -> ResponseReturnValue:
    """Capture one or more files (multipart: files/file, customer, document_type, ...)."""
    uploads = uploaded_files(request.files)
    if not uploads:
        raise ValidationError("choose at least one file (multipart field 'files')")
    outcome = capture_uploads(uploads, CaptureFields.from_form(request.form))
    body = {
        "documents": [
            {"filename": filename, **asdict(result), "url": url_for("documents.show", document_id=result.document_id)}
            for filename, result in outcome.captured
        ],
        "errors": [
            {"filename": filename, "error": message, "existing_document_id": existing}
            for filename, message, existing in outcome.refused
        ],
    }
    return jsonify(body), 201 if outcome.captured else 400


@bp.get("/documents/progress")
def progress() -> ResponseReturnValue:
    return jsonify(progress_of(parse_ids(request.args.get("ids", ""))))
