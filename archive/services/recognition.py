"""OCR of one page, run as a background job. Slow work happens outside the transaction."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from archive import access
from archive.actors import Actor
from archive.errors import DocumentShreddedError
from archive.models import Document, Page, SearchOutbox
from archive.permissions import permission_document_view
from archive.pii import identifier_hashes, redact
from archive.unit_of_work import UnitOfWork
from archive.views import OcrProgress
from ocr.base import RecognitionError
from ocr.prepare import prepare_for_ocr
from storage.envelope import WrappedKey


def document_key(uow: UnitOfWork, document: Document) -> bytes:
    """The document's data key; raises DocumentShreddedError once the key was destroyed."""
    if document.is_shredded:
        raise DocumentShreddedError(document.id, document.archive_code)
    return uow.keyring.unwrap(WrappedKey(document.key_id, document.cipher, document.wrapped_key))


def recognize_page(uow: UnitOfWork, *, page_id: int) -> str:
    """OCR a pending page; store the full text encrypted and the redacted text in the database.

    Returns the page's final OCR status. Errors other than RecognitionError propagate so the
    queue retries the job; a page that cannot be recognised is marked failed with the reason.
    """
    with uow:
        page = uow.session.get(Page, page_id)
        if page is None or page.ocr_status != "pending":
            return page.ocr_status if page else "missing"
        document = page.document
        data_key, cipher = document_key(uow, document), document.cipher
        image_key = page.object_key
    try:
        with uow.store.open(image_key, data_key=data_key) as stream:
            image = Image.open(io.BytesIO(stream.read()))
            image.load()
        dpi = image.info.get("dpi")
        recognized = uow.archive.recognizer.recognize(prepare_for_ocr(image, round(dpi[0]) if dpi else None))
        error = None
    except (RecognitionError, OSError) as failure:
        recognized, error = None, str(failure) or type(failure).__name__
    text_key = f"{image_key.rsplit('.', 1)[0]}.txt"
    if recognized is not None:
        uow.store.put(text_key, io.BytesIO(recognized.text.encode("utf-8")), data_key=data_key, algorithm=cipher)
    with uow:
        page = uow.session.get(Page, page_id)
        assert page is not None
        if page.ocr_status != "pending":  # another worker finished it meanwhile
            return page.ocr_status
        if recognized is None:
            page.ocr_status, page.ocr_error = "failed", error
        else:
            page.ocr_status = "done"
            page.ocr_text = redact(recognized.text)
            page.ocr_confidence = recognized.confidence
            page.text_object_key = text_key
            page.rescan_needed = recognized.confidence < uow.settings.rescan_threshold
            hashes = set(page.document.pii_hashes) | set(identifier_hashes(recognized.text, uow.keyring))
            page.document.pii_hashes = sorted(hashes)
        page.document.refresh_status()
        if page.document.status != "processing":
            uow.session.add(SearchOutbox(document_id=page.document_id, action="index"))
            uow.after_commit(uow.jobs.enqueue_indexing)
        uow.commit()
        return page.ocr_status


def ocr_progress_by_document(uow: UnitOfWork, document_ids: list[int], *, actor: Actor) -> dict[int, OcrProgress]:
    """Pages done / failed / total per document, for those the actor may see; one query."""
    with uow:
        scope = access.visible(actor, permission_document_view)
        rows = uow.session.execute(
            select(Page.document_id, Page.ocr_status, func.count(Page.id))
            .join(Document, Document.id == Page.document_id)
            .where(Page.document_id.in_(document_ids), scope.documents())
            .group_by(Page.document_id, Page.ocr_status)
        ).all()
    counts: dict[int, dict[str, int]] = {}
    for document_id, status, count in rows:
        counts.setdefault(document_id, {})[status] = count
    return {
        document_id: OcrProgress(sum(c.values()), c.get("done", 0), c.get("failed", 0))
        for document_id, c in counts.items()
    }


def ocr_progress(uow: UnitOfWork, document_ids: list[int], *, actor: Actor) -> OcrProgress:
    """Pages done / failed / total across the documents the actor may see (for progress bars)."""
    per_document = ocr_progress_by_document(uow, document_ids, actor=actor).values()
    return OcrProgress(sum(p.pages_total for p in per_document), sum(p.pages_done for p in per_document),
                       sum(p.pages_failed for p in per_document))


def pending_page_ids(uow: UnitOfWork) -> list[int]:
    """Pages whose OCR has not finished (for re-queueing after a crash)."""
    with uow:
        return list(uow.session.scalars(select(Page.id).where(Page.ocr_status == "pending").order_by(Page.id)))
