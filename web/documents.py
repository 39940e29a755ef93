"""A document: metadata, page images beside their OCR text, earlier versions of rescanned pages, the
original for download, and the upload of a replacement page."""

from __future__ import annotations

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from archive.capture.permissions import permission_page_rescan
from archive.errors import ValidationError
from archive.permissions import (
    permission_classification_request,
    permission_document_edit,
    permission_document_file,
)
from archive.security.uploads import clean_filename
from archive.services import documents, filing, metadata
from retention.permissions import permission_hold_view
from retention.services import holds
from web.errors import filing_reasons, translated
from web.rescan import replace_uploaded_page
from web.support import (
    classification_names,
    current_actor,
    document_type_names,
    label,
    new_uow,
    require_login,
    stream_chunks,
)

bp = Blueprint("documents", __name__, url_prefix="/documents")
require_login(bp)


@bp.get("/<int:document_id>")
def show(document_id: int) -> ResponseReturnValue:
    view = documents.get_document(new_uow(), actor=current_actor(), document_id=document_id)
    holds_shown = (holds.holds_on_document(new_uow(), actor=current_actor(), document_id=document_id)
                   if permission_hold_view in view.actions else [])
    return render_template("documents/show.html", document=view, holds=holds_shown,
                           may_replace_pages=permission_page_rescan in view.actions,
                           may_file=permission_document_file in view.actions and view.filed_at is None,
                           may_request_classification=permission_classification_request in view.actions,
                           may_edit=permission_document_edit in view.actions, types=document_type_names(),
                           levels=classification_names(), query=request.args.get("q", ""))


def metadata_edit(source: dict[str, object]) -> metadata.MetadataEdit:
    """The fields a form or a JSON body sets (absent ones stay as they are)."""
    values = {name: source[name] for name in metadata.EDITABLE if source.get(name) is not None}
    return metadata.MetadataEdit(**{name: str(value) for name, value in values.items()})


@bp.post("/<int:document_id>/metadata")
def edit_metadata(document_id: int) -> ResponseReturnValue:
    """Correct the document's metadata (the form on its page); back to it with the outcome."""
    try:
        changed = metadata.edit_document_metadata(new_uow(), actor=current_actor(), document_id=document_id,
                                                  edit=metadata_edit(request.form.to_dict()))
    except ValidationError as error:
        flash(_("Not saved: %(field)s: %(reason)s", field=label(error.field or ""), reason=translated(error)),
              "error")
        return redirect(url_for("documents.show", document_id=document_id, _anchor="metadata"))
    if changed:
        flash(_("Saved: %(fields)s.", fields=", ".join(label(name) for name in changed)), "ok")
    else:
        flash(_("Nothing changed."), "ok")
    return redirect(url_for("documents.show", document_id=document_id, _anchor="history"))


@bp.post("/<int:document_id>/filing")
def file_document(document_id: int) -> ResponseReturnValue:
    """File 归档 the document (the archive checks it first); back to its page with the outcome."""
    code = request.form.get("archive_code", "")
    result = filing.file_documents(new_uow(), actor=current_actor(), archive_codes=[code])
    if result.filed:
        flash(_("%(code)s filed.", code=code), "ok")
    else:
        flash(_("Not filed: %(reason)s", reason=filing_reasons(result.problems.get(code, ()))), "error")
    return redirect(url_for("documents.show", document_id=document_id))


def _png(document_id: int, number: int, version: int | None = None) -> ResponseReturnValue:
    stream = documents.open_page_image(new_uow(), actor=current_actor(), document_id=document_id, number=number,
                                       version=version)
    response = Response(stream_chunks(stream), mimetype="image/png")
    response.call_on_close(stream.close)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:document_id>/pages/<int:number>.png")
def page_image(document_id: int, number: int) -> ResponseReturnValue:
    return _png(document_id, number)


@bp.get("/<int:document_id>/pages/<int:number>/thumbnail.png")
def page_thumbnail(document_id: int, number: int) -> ResponseReturnValue:
    """The page's thumbnail for the viewer's strip, redacted as the page image is."""
    stream = documents.open_page_thumbnail(new_uow(), actor=current_actor(), document_id=document_id, number=number)
    response = Response(stream.getvalue(), mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:document_id>/pages/<int:number>/hits")
def page_hits(document_id: int, number: int) -> ResponseReturnValue:
    """The boxes of the page's words matching `q` (never PII), in the page image's pixels, as JSON."""
    width, height, boxes = documents.get_hit_boxes(new_uow(), actor=current_actor(), document_id=document_id,
                                                   number=number, query=request.args.get("q", ""))
    return jsonify({"width": width, "height": height, "boxes": [list(box) for box in boxes]})


@bp.get("/<int:document_id>/pages/<int:number>/versions/<int:version>")
def page_version(document_id: int, number: int, version: int) -> ResponseReturnValue:
    view = documents.get_page_version(new_uow(), actor=current_actor(), document_id=document_id, number=number,
                                      version=version)
    return render_template("documents/version.html", page=view)


@bp.get("/<int:document_id>/pages/<int:number>/versions/<int:version>.png")
def page_version_image(document_id: int, number: int, version: int) -> ResponseReturnValue:
    return _png(document_id, number, version)


@bp.post("/<int:document_id>/pages/<int:number>/replace")
def replace_page(document_id: int, number: int) -> ResponseReturnValue:
    """Upload a new scan of the page (form field `file`); back to the rescan list or the document."""
    upload = request.files.get("file")
    if request.form.get("next") == "rescan":
        back = url_for("rescan.index")
    else:
        back = url_for("documents.show", document_id=document_id, _anchor=f"page-{number}")
    if not upload or not upload.filename:
        flash(_("Choose the new scan of the page."), "error")
        return redirect(back)
    try:
        result = replace_uploaded_page(upload, document_id, number)
    except ValidationError as error:
        flash(_("Replacement refused: %(reason)s", reason=translated(error)), "error")
        return redirect(back)
    flash(_("Page %(n)s of %(code)s replaced (version %(v)s); OCR is running.", n=result.number,
            code=result.archive_code, v=result.version), "ok")
    return redirect(back)


@bp.get("/<int:document_id>/original")
def download(document_id: int) -> ResponseReturnValue:
    stream, filename, media_type = documents.open_original(new_uow(), actor=current_actor(), document_id=document_id)
    response = send_file(stream, mimetype=media_type, as_attachment=True, download_name=clean_filename(filename or ""),
                         conditional=False, etag=False, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
