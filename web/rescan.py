"""The rescan list: pages OCR read poorly or not at all, each with a form to upload a new scan of it.
The upload itself is `documents.replace_page` (also offered on the document page)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from archive.capture.permissions import permission_page_rescan
from archive.capture.services import PageReplacementRequest, list_rescan_pages, replace_page
from archive.capture.views import PageReplacementResult
from web.support import current_actor, may, new_uow, require_login
from web.uploads import client_filename, saved_upload

bp = Blueprint("rescan", __name__, url_prefix="/rescan")
require_login(bp)

PAGE_SIZE = 100


@bp.app_context_processor
def rescan_navigation() -> dict[str, object]:
    """Whether the layout offers the rescan list (base.html); the service still decides."""
    if not may(permission_page_rescan):
        return {"may_rescan": False}
    # The count beside the menu entry: the same list (and scope) the rescan page shows.
    return {"may_rescan": True, "rescan_count": list_rescan_pages(new_uow(), actor=current_actor(), limit=1).total}


@bp.get("/")
def index() -> ResponseReturnValue:
    try:
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError:
        offset = 0
    found = list_rescan_pages(new_uow(), actor=current_actor(), limit=PAGE_SIZE, offset=offset)
    return render_template("rescan/index.html", found=found, offset=offset, page_size=PAGE_SIZE)


def replace_uploaded_page(upload: FileStorage, document_id: int, number: int) -> PageReplacementResult:
    """Stream the upload to a temporary file, make it the page, delete the file. Raises what
    replace_page raises."""
    with saved_upload(upload, "rescan-") as path:
        return replace_page(new_uow(), actor=current_actor(), request=PageReplacementRequest(
            document_id=document_id, number=number, path=path, filename=client_filename(upload)))
