"""A document's files in the JSON API under /api/v1, for token clients: the original as captured and a
page's image (redacted as on the page). The same views as the document page's links answer them, so the
service's checks, redaction and audit (document.downloaded, page.image_viewed) are the same."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from web import documents
from web.api_auth import protect_api
from web.openapi import operation
from web.support import require_login

bp = Blueprint("document_files_api", __name__, url_prefix="/api/v1/documents")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)


@bp.get("/<int:document_id>/original")
@operation("Download a document's original", errors=(401, 403, 404))
def original(document_id: int) -> ResponseReturnValue:
    """The file as captured (its own media type, as an attachment); audited as a download. Needs a
    download grant where the document's classification asks for one."""
    return documents.download(document_id)


@bp.get("/<int:document_id>/pages/<int:number>.png")
@operation("A page's image", errors=(401, 403, 404))
def page_image(document_id: int, number: int) -> ResponseReturnValue:
    """The page as PNG, ID and phone numbers blacked out unless the caller may see them; audited."""
    return documents.page_image(document_id, number)
