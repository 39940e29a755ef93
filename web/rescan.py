"""The rescan list: pages OCR read poorly or not at all, each with a form to upload a new scan of it.
The upload itself is `documents.replace_page` (also offered on the document page)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from archive.permissions import permission_page_rescan
from archive.security import limits
from archive.services import rescan
from archive.services.rescan import PageReplacementRequest
from archive.views import PageReplacementResult
from web.support import current_actor, get_archive, may, new_uow, require_login
from web.uploads import client_filename

bp = Blueprint("rescan", __name__, url_prefix="/rescan")
require_login(bp)

PAGE_SIZE = 100


@bp.app_context_processor
def rescan_navigation() -> dict[str, object]:
    """Whether the layout offers the rescan list (base.html); the service still decides."""
    return {"may_rescan": may(permission_page_rescan)}


@bp.get("/")
def index() -> ResponseReturnValue:
    try:
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError:
        offset = 0
    found = rescan.list_rescan_pages(new_uow(), actor=current_actor(), limit=PAGE_SIZE, offset=offset)
    return render_template("rescan/index.html", found=found, offset=offset, page_size=PAGE_SIZE)


def replace_uploaded_page(upload: FileStorage, document_id: int, number: int) -> PageReplacementResult:
    """Stream the upload to a temporary file, make it the page, delete the file. Raises what
    rescan.replace_page raises."""
    limits.take(new_uow(), actor=current_actor(), action="upload",
                limit=get_archive().settings.upload_rate_per_hour)
    filename = client_filename(upload)
    suffix = Path(filename).suffix.lower()
    with tempfile.NamedTemporaryFile(prefix="rescan-", suffix=suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix)
                                     else "", delete=False) as handle:
        path = Path(handle.name)
        try:
            upload.save(handle)
        except BaseException:
            handle.close()
            path.unlink(missing_ok=True)
            raise
    try:
        return rescan.replace_page(new_uow(), actor=current_actor(), request=PageReplacementRequest(
            document_id=document_id, number=number, path=path, filename=filename))
    finally:
        os.unlink(path)
