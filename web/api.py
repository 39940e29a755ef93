"""JSON API under /api/v1 (session login; JSON POSTs carry the X-CSRFToken header)."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from archive.capture.services import list_rescan_pages
from archive.errors import ValidationError
from archive.services import documents, filing, searching
from web.api_auth import protect_api
from web.rescan import replace_uploaded_page
from web.search import request_filters, search_options
from web.support import current_actor, new_uow, require_login
from web.uploads import CaptureFields, capture_uploads, parse_ids, progress_of, uploaded_files

bp = Blueprint("api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

MAX_LIMIT = 100


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        return min(max(int(request.args.get(name, default)), low), high)
    except ValueError:
        raise ValidationError(f"{name} must be a number", code="not_a_number", field=name) from None


@bp.get("/search")
def search() -> ResponseReturnValue:
    query = request.args.get("q", "").strip()[:500]
    page = searching.search_documents(
        new_uow(), actor=current_actor(), query=query, limit=_int_arg("limit", 20, 1, MAX_LIMIT),
        offset=_int_arg("offset", 0, 0, 10_000), filters=request_filters(), **search_options(),
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
        for earlier in page["earlier_versions"]:
            earlier["url"] = url_for("api.page_version", document_id=document_id, number=page["number"],
                                     version=earlier["version"])
    if view.may_download:
        body["download_url"] = url_for("documents.download", document_id=document_id)
    return jsonify(body)


@bp.post("/documents")
def capture() -> ResponseReturnValue:
    """Capture one or more files (multipart: files/file, customer, document_type, ...)."""
    uploads = uploaded_files(request.files)
    if not uploads:
        raise ValidationError("choose at least one file (multipart field 'files')", code="no_file", field="files")
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


@bp.post("/documents/filing")
def file_documents() -> ResponseReturnValue:
    """File 归档 documents: JSON {"archive_codes": [...]} → {"filed": [...], "refused": {code: reason}}."""
    body = request.get_json(silent=True) or {}
    codes = body.get("archive_codes")
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes) or not codes:
        raise ValidationError("archive_codes must be a non-empty list of archive codes")
    result = filing.file_documents(new_uow(), actor=current_actor(), archive_codes=codes)
    return jsonify({"filed": result.filed, "refused": result.refused})


@bp.get("/documents/progress")
def progress() -> ResponseReturnValue:
    return jsonify(progress_of(parse_ids(request.args.get("ids", ""))))


@bp.get("/documents/<int:document_id>/pages/<int:number>/versions/<int:version>")
def page_version(document_id: int, number: int, version: int) -> ResponseReturnValue:
    """An earlier version of a page (replaced by a rescan): its text and the URL of its image."""
    view = documents.get_page_version(new_uow(), actor=current_actor(), document_id=document_id, number=number,
                                      version=version)
    return jsonify(asdict(view) | {"image_url": url_for("documents.page_version_image", document_id=document_id,
                                                        number=number, version=version)})


@bp.get("/documents/<int:document_id>/pages/<int:number>/words")
def page_words(document_id: int, number: int) -> ResponseReturnValue:
    """The page's recognised words with their boxes in the page image's pixels (?version= for an earlier one)."""
    version = request.args.get("version", type=int)
    view = documents.get_page_words(new_uow(), actor=current_actor(), document_id=document_id, number=number,
                                    version=version)
    return jsonify(asdict(view))


@bp.post("/documents/<int:document_id>/pages/<int:number>")
def replace_page(document_id: int, number: int) -> ResponseReturnValue:
    """Replace the page with a new scan (multipart field `file`); the previous version is kept."""
    upload = request.files.get("file")
    if not upload or not upload.filename:
        raise ValidationError("choose the new scan of the page (multipart field 'file')", code="no_file", field="file")
    result = replace_uploaded_page(upload, document_id, number)
    return jsonify(asdict(result) | {"url": url_for("documents.show", document_id=document_id)}), 201


@bp.get("/rescan")
def rescan_list() -> ResponseReturnValue:
    """Pages to scan again in the user's scope (confidence below the threshold, or OCR failed)."""
    found = list_rescan_pages(new_uow(), actor=current_actor(), limit=_int_arg("limit", 100, 1, 500),
                                     offset=_int_arg("offset", 0, 0, 1_000_000))
    items = [asdict(item) | {"url": url_for("documents.show", document_id=item.document_id,
                                            _anchor=f"page-{item.number}"),
                             "replace_url": url_for("api.replace_page", document_id=item.document_id,
                                                    number=item.number)}
             for item in found.items]
    return jsonify(total=found.total, threshold=found.threshold, items=items)
