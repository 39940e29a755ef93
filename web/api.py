"""JSON API under /api/v1 (session login; JSON POSTs carry the X-CSRFToken header)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Literal

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.capture.services import list_rescan_pages
from archive.capture.views import CaptureResult, PageReplacementResult, RescanItemView
from archive.errors import ValidationError
from archive.services import documents, filing, searching
from archive.views import (
    DocumentView,
    PageVersionSummary,
    PageVersionView,
    PageView,
    PageWordsView,
    SearchHitView,
)
from web.api_auth import protect_api
from web.errors import filing_reasons
from web.openapi import DEFAULT_ERRORS, ErrorBody, operation, with_fields
from web.pagination import CURSOR, int_arg, offset_cursor, page_request
from web.rescan import replace_uploaded_page
from web.search import request_filters, search_options
from web.support import current_actor, json_body, new_uow, require_login
from web.uploads import CaptureFields, capture_uploads, parse_ids, progress_of, uploaded_files

bp = Blueprint("api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)

MAX_LIMIT = 100
MAX_OFFSET = 10_000  # of search hits: deeper pages are refined by the query, not paged to


# --- what the description says (web/openapi.py) ------------------------------------------------------

OFFSET = Field(0, ge=0, deprecated=True, description="the first hit's position (use cursor instead)")


class SearchQuery(BaseModel):
    q: str = Field("", description="the query (words, archive code, customer name; see the search page)")
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    cursor: str = CURSOR
    offset: int = OFFSET
    sort: Literal[tuple(searching.SORTS)] = "relevance"  # type: ignore[valid-type]
    date_from: date | None = Field(None, alias="from", description="captured or dated on or after (YYYY-MM-DD)")
    date_to: date | None = Field(None, alias="to", description="on or before (YYYY-MM-DD)")
    type: str = Field("", description="document type code")
    department: str = ""
    classification: str = ""
    year: str = ""
    dossier: str = ""
    status: str = ""


class SearchAnswer(BaseModel):
    query: str
    total: int
    facets: dict[str, dict[str, int]]
    hits: list[with_fields(SearchHitView, url=str)]  # type: ignore[valid-type]
    next_cursor: str | None


_PageJson = with_fields(PageView, image_url=str,
                        earlier_versions=list[with_fields(PageVersionSummary, url=str)])  # type: ignore[misc]
DocumentJson = with_fields(DocumentView, pages=list[_PageJson], download_url=(str, None))  # type: ignore[valid-type]


class CaptureForm(BaseModel):
    files: list[bytes] = Field(description="the scans or PDFs (or one file in the field 'file')")
    customer: str = Field(description="the customer's ID number or unified social credit code")
    document_type: str = Field(description="a document type code (reference data)")
    customer_name: str = ""
    classification: str = ""
    dossier: str = ""
    title: str = ""
    document_date: str = Field("", description="YYYY-MM-DD")
    late_reason: str = ""
    contract_end_date: str = Field("", description="YYYY-MM-DD")


class CaptureRefusal(BaseModel):
    filename: str
    error: str
    existing_document_id: int | None


class CaptureAnswer(BaseModel):
    documents: list[with_fields(CaptureResult, filename=str, url=str)]  # type: ignore[valid-type]
    errors: list[CaptureRefusal]


class FilingBody(BaseModel):
    archive_codes: list[str] = Field(min_length=1)


class FilingAnswer(BaseModel):
    filed: list[str]
    refused: dict[str, str] = Field(description="archive code: why it cannot be filed yet")


class ProgressQuery(BaseModel):
    ids: str = Field(description="comma-separated document ids (at most 100)")


class DocumentProgress(BaseModel):
    pages_total: int
    pages_done: int
    pages_failed: int
    finished: bool
    status: str
    failure_reason: str | None


class ProgressAnswer(BaseModel):
    documents: dict[str, DocumentProgress]
    finished: bool


class WordsQuery(BaseModel):
    version: int | None = Field(None, description="an earlier version of the page")


class ReplaceForm(BaseModel):
    file: bytes = Field(description="the new scan of the page")


class RescanQuery(BaseModel):
    limit: int = Field(100, ge=1, le=500)
    cursor: str = CURSOR
    offset: int = OFFSET


class RescanAnswer(BaseModel):
    total: int
    threshold: float
    items: list[with_fields(RescanItemView, url=str, replace_url=str)]  # type: ignore[valid-type]
    next_cursor: str | None


def _offset(page_position: int | None, high: int) -> int:
    """Where a ranked list starts: the cursor's offset, else the older ?offset= (kept for old clients)."""
    return min(page_position, high) if page_position is not None else int_arg("offset", 0, 0, high)


# --- the views ---------------------------------------------------------------------------------------


@bp.get("/search")
@operation("Search documents", query=SearchQuery, response=SearchAnswer, errors=(400, 401, 403, 429))
def search() -> ResponseReturnValue:
    """Full-text and metadata search over what the user may see, best hits first; audited with the query."""
    query = request.args.get("q", "").strip()[:500]
    page_args = page_request(default_limit=20, max_limit=MAX_LIMIT)
    offset = _offset(page_args.position, MAX_OFFSET)
    page = searching.search_documents(
        new_uow(), actor=current_actor(), query=query, limit=page_args.limit, offset=offset,
        filters=request_filters(), **search_options(),
    )
    return jsonify(
        query=page.query, total=page.total, facets=page.facets,
        hits=[asdict(hit) | {"url": url_for("documents.show", document_id=hit.document_id)} for hit in page.hits],
        next_cursor=offset_cursor(offset, len(page.hits), min(page.total, MAX_OFFSET + page_args.limit)),
    )


@bp.get("/documents/<int:document_id>")
@operation("A document", response=DocumentJson)
def document(document_id: int) -> ResponseReturnValue:
    """Metadata, pages and OCR text (PII masked unless the user may see it); audited as a view."""
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
@operation("Capture documents", body=CaptureForm, body_media="multipart/form-data", response=CaptureAnswer,
           status=201, errors=(401, 403, 413), responses={400: CaptureAnswer | ErrorBody})
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
@operation("File documents (归档)", body=FilingBody, response=FilingAnswer)
def file_documents() -> ResponseReturnValue:
    """File 归档 documents: JSON {"archive_codes": [...]} → {"filed": [...], "refused": {code: reason}}."""
    codes = json_body().get("archive_codes")
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes) or not codes:
        raise ValidationError("archive_codes must be a non-empty list of archive codes")
    result = filing.file_documents(new_uow(), actor=current_actor(), archive_codes=codes)
    return jsonify({"filed": result.filed,
                    "refused": {code: filing_reasons(found) for code, found in result.problems.items()}})


@bp.get("/documents/progress")
@operation("OCR progress of documents", query=ProgressQuery, response=ProgressAnswer, errors=(400, 401, 403))
def progress() -> ResponseReturnValue:
    """Pages recognised so far per document; a document the user may not see counts no pages."""
    return jsonify(progress_of(parse_ids(request.args.get("ids", ""))))


@bp.get("/documents/<int:document_id>/pages/<int:number>/versions/<int:version>")
@operation("An earlier version of a page", response=with_fields(PageVersionView, image_url=str), errors=(401, 403, 404))
def page_version(document_id: int, number: int, version: int) -> ResponseReturnValue:
    """An earlier version of a page (replaced by a rescan): its text and the URL of its image."""
    view = documents.get_page_version(new_uow(), actor=current_actor(), document_id=document_id, number=number,
                                      version=version)
    return jsonify(asdict(view) | {"image_url": url_for("documents.page_version_image", document_id=document_id,
                                                        number=number, version=version)})


@bp.get("/documents/<int:document_id>/pages/<int:number>/words")
@operation("A page's recognised words", query=WordsQuery, response=PageWordsView)
def page_words(document_id: int, number: int) -> ResponseReturnValue:
    """The page's recognised words with their boxes in the page image's pixels (?version= for an earlier one)."""
    version = request.args.get("version", type=int)
    view = documents.get_page_words(new_uow(), actor=current_actor(), document_id=document_id, number=number,
                                    version=version)
    return jsonify(asdict(view))


@bp.post("/documents/<int:document_id>/pages/<int:number>")
@operation("Replace a page with a new scan", body=ReplaceForm, body_media="multipart/form-data",
           response=with_fields(PageReplacementResult, url=str), status=201, errors=(*DEFAULT_ERRORS, 413))
def replace_page(document_id: int, number: int) -> ResponseReturnValue:
    """Replace the page with a new scan (multipart field `file`); the previous version is kept."""
    upload = request.files.get("file")
    if not upload or not upload.filename:
        raise ValidationError("choose the new scan of the page (multipart field 'file')", code="no_file", field="file")
    result = replace_uploaded_page(upload, document_id, number)
    return jsonify(asdict(result) | {"url": url_for("documents.show", document_id=document_id)}), 201


@bp.get("/rescan")
@operation("Pages to scan again", query=RescanQuery, response=RescanAnswer, errors=(400, 401, 403))
def rescan_list() -> ResponseReturnValue:
    """Pages to scan again in the user's scope (confidence below the threshold, or OCR failed)."""
    page_args = page_request(default_limit=100, max_limit=500)
    offset = _offset(page_args.position, 1_000_000)
    found = list_rescan_pages(new_uow(), actor=current_actor(), limit=page_args.limit, offset=offset)
    items = [asdict(item) | {"url": url_for("documents.show", document_id=item.document_id,
                                            _anchor=f"page-{item.number}"),
                             "replace_url": url_for("api.replace_page", document_id=item.document_id,
                                                    number=item.number)}
             for item in found.items]
    return jsonify(total=found.total, threshold=found.threshold, items=items,
                   next_cursor=offset_cursor(offset, len(items), found.total))
