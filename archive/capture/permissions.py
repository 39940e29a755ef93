"""Capture's permissions and the roles that hold them by default."""

from __future__ import annotations

from archive.roles import CLERK

permission_document_capture = "document.capture"
permission_page_rescan = "page.rescan"  # see the rescan list, upload a replacement for a page
permission_document_reprocess = "document.reprocess"  # run OCR again over documents (`archive ocr rerun`)

GRANTS: dict[str, frozenset[str]] = {
    CLERK: frozenset({permission_document_capture, permission_page_rescan, permission_document_reprocess}),
}
