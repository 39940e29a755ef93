"""Run OCR again over chosen documents with the current settings (`archive ocr rerun`).

Every page not taken from a PDF's own text layer goes back to pending and gets a new job; its text
stays shown and indexed until the new recognition replaces it. The documents are processing again
until every page is done, then re-indexed through the outbox as after capture.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, select

from archive import access, audit
from archive.actors import Actor
from archive.batches import in_batches
from archive.capture.events import event_documents_reprocessed
from archive.capture.permissions import permission_document_reprocess
from archive.capture.recognition import queue_ocr
from archive.capture.views import OcrRerunResult
from archive.errors import DocumentShreddedError, NotFoundError, ValidationError
from archive.models import Document, Page
from archive.unit_of_work import UnitOfWork

STATUSES = ("processing", "ready", "failed")


def rerun_ocr(
    uow: UnitOfWork, *, actor: Actor, archive_codes: Sequence[str] = (), all_documents: bool = False,
    status: str | None = None, rescan_needed: bool = False,
) -> OcrRerunResult:
    """Queue OCR again for the documents named by archive code, or for every document in the actor's
    scope (narrowed to a status and/or to those with a page flagged "rescan needed").

    Requires permission_document_reprocess (scoped like viewing: department and clearance); each
    document is audited as documents.reprocessed. Shredded documents are skipped in a selection and
    refused when named. Raises ValidationError, NotFoundError, DocumentShreddedError, AccessDenied.
    """
    codes = list(dict.fromkeys(code.strip() for code in archive_codes if code.strip()))
    if status is not None and status not in STATUSES:
        raise ValidationError(f"status must be one of {', '.join(STATUSES)}")
    if codes and (all_documents or status or rescan_needed):
        raise ValidationError("name documents by archive code, or choose them with --all, --status or "
                              "--rescan-needed, not both")
    if not (codes or all_documents or status or rescan_needed):
        raise ValidationError("choose the documents: archive codes, --all, --status or --rescan-needed")
    languages = uow.settings.ocr_languages
    if codes:
        return _rerun_named(uow, actor, codes, languages)
    with uow:
        scope = access.visible(actor, permission_document_reprocess)
    query: Select = select(Document.id).where(~Document.is_shredded, scope.documents())
    if status:
        query = query.where(Document.status == status)
    if rescan_needed:
        query = query.where(Document.id.in_(select(Page.document_id).where(Page.rescan_needed.is_(True))))

    def requeue_batch(uow: UnitOfWork, rows: Sequence[Row[Any]]) -> OcrRerunResult:
        documents = uow.session.scalars(select(Document).where(Document.id.in_([r.id for r in rows]))).all()
        return _requeue(uow, actor, list(documents), languages)

    chosen: dict[int, str] = {}
    pages = 0
    for batch in in_batches(uow, query, Document.id, requeue_batch):
        chosen.update(batch.documents)
        pages += batch.pages_queued
    return OcrRerunResult(chosen, pages)


def _rerun_named(uow: UnitOfWork, actor: Actor, codes: list[str], languages: str) -> OcrRerunResult:
    with uow:
        access.require(actor, permission_document_reprocess)
        documents = {d.archive_code: d for d in uow.session.scalars(
            select(Document).where(Document.archive_code.in_(codes)))}
        missing = [code for code in codes if code not in documents]
        if missing:
            raise NotFoundError(f"no document with archive code {', '.join(missing)}")
        for document in documents.values():
            access.require(actor, permission_document_reprocess, document)
            if document.is_shredded:
                raise DocumentShreddedError(document.id, document.archive_code)
        return _requeue(uow, actor, [documents[code] for code in codes], languages)


def _requeue(uow: UnitOfWork, actor: Actor, documents: list[Document], languages: str) -> OcrRerunResult:
    """Inside an open unit of work: pages back to pending, audit, commit, then queue their jobs."""
    page_ids: list[int] = []
    chosen: dict[int, str] = {}
    for document in documents:
        pages = [page for page in document.pages if not page.text_layer]
        if not pages:
            continue
        for page in pages:
            page.queue_ocr()
        document.refresh_status()
        page_ids += [page.id for page in pages]
        chosen[document.id] = document.archive_code
        audit.record(uow.session, actor, event_documents_reprocessed, target_type="document",
                     target_id=document.id, archive_code=document.archive_code, pages=len(pages),
                     languages=languages)
    queue_ocr(uow, page_ids)
    uow.commit()
    return OcrRerunResult(chosen, len(page_ids))
