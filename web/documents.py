"""A document: metadata, page images beside their OCR text, and the original for download."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, send_file
from flask.typing import ResponseReturnValue

from archive.services import documents
from web.support import current_actor, new_uow, require_login, stream_chunks

bp = Blueprint("documents", __name__, url_prefix="/documents")
require_login(bp)


@bp.get("/<int:document_id>")
def show(document_id: int) -> ResponseReturnValue:
    view = documents.get_document(new_uow(), actor=current_actor(), document_id=document_id)
    return render_template("documents/show.html", document=view)


@bp.get("/<int:document_id>/pages/<int:number>.png")
def page_image(document_id: int, number: int) -> ResponseReturnValue:
    stream = documents.open_page_image(new_uow(), actor=current_actor(), document_id=document_id, number=number)
    response = Response(stream_chunks(stream), mimetype="image/png")
    response.call_on_close(stream.close)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:document_id>/original")
def download(document_id: int) -> ResponseReturnValue:
    stream, filename, media_type = documents.open_original(new_uow(), actor=current_actor(), document_id=document_id)
    response = send_file(stream, mimetype=media_type, as_attachment=True, download_name=filename or "document",
                         conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
