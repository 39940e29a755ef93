"""OCR of one page, run as a background job. Slow work happens outside the transaction.

A PDF's pages reach the job without an image (`image_ready` false): the job renders the page from
the stored original and stores its image first, then records the text layer, or recognises the page
when it has none. A page is `pending` until a job records its result. A job stamps `ocr_started_at`
when it starts and records its result only if the stamp is still its own: a page queued again
meanwhile (a rescan replaced its image, `archive ocr rerun`, a duplicate job) keeps the newer job's
result. A page that cannot be read or recognised fails for good with the reason; other errors
propagate so the queue retries the job, and the last retry marks the page failed (`mark_page_failed`).
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select, update

from archive import access, audit
from archive.actors import OCR_ACTOR, Actor
from archive.capture import original_copies
from archive.capture.events import event_page_ocr_failed
from archive.capture.views import OcrProgress
from archive.models import Document, Page, as_utc, utcnow
from archive.permissions import permission_document_view
from archive.pii import identifier_hashes, redact
from archive.security.uploads import input_limits
from archive.services.documents import document_key
from archive.services.indexing import queue_reindex
from archive.services.job_outbox import enqueue_after_commit
from archive.unit_of_work import UnitOfWork
from ocr.base import InputRejectedError, RecognitionError, RecognizedText
from ocr.inputs import render_pdf_page, save_page
from storage.base import DecryptionError, ObjectNotFoundError

OCR_PAGE = "ocr_page"  # the queued task that runs recognize_page (capture/tasks.py)
PROGRESS_CHUNK = 500  # document ids per progress query (SQLite limits bound parameters)
CHUNK = 1024 * 1024


class PageUnreadableError(Exception):
    """The stored page image cannot be read or decoded: retrying will not help."""


def queue_ocr(uow: UnitOfWork, page_ids: list[int]) -> None:
    """Inside an open unit of work: queue OCR of the pages once the transaction commits, through the job
    outbox (a queue that is down then delays the jobs, it does not lose them)."""
    for page_id in page_ids:
        enqueue_after_commit(uow, OCR_PAGE, page_id)


def ocr_object_keys(image_key: str) -> tuple[str, str]:
    """(full text, word boxes) object keys beside a page image: `pages/0001.txt`, `pages/0001.words.json`."""
    stem = image_key.rsplit(".", 1)[0]
    return f"{stem}.txt", f"{stem}.words.json"


def recognize_page(uow: UnitOfWork, *, page_id: int) -> str:
    """OCR a pending page (rendering a new PDF page's image first; one with its own text needs no OCR);
    store the full text and word boxes encrypted, the redacted text in the database.

    Returns the page's status afterwards. A page whose image cannot be read or recognised is marked
    failed with the reason; any other error propagates so the queue retries the job.
    """
    with uow:
        page = uow.session.get(Page, page_id)
        if page is None or page.ocr_status != "pending":
            return page.ocr_status if page else "missing"
        document = page.document
        if document.is_shredded:
            return _fail(uow, page, "document shredded")
        data_key, cipher = document_key(uow, document), document.cipher
        image_key, width, height = page.object_key, page.width, page.height
        render = not page.image_ready
        text_layer = render and page.text_layer  # a new PDF page's own text: no OCR (a rerun recognises it)
        original_key, number = document.object_key, page.number
        started = page.ocr_started_at = utcnow()
        uow.commit()
    made: RenderedImage | None = None
    recognized: RecognizedText | None = None
    error = ""
    try:
        if render:
            made = render_page(uow, original_key, number, image_key, data_key, cipher)
            image, dpi, width, height = made.image, made.dpi, made.width, made.height
        else:
            image = _page_image(uow, image_key, data_key)
            dpi = round(image.info["dpi"][0]) if image.info.get("dpi") else None
        if not text_layer:
            recognized = uow.recognizer.recognize_page(image, dpi)
    except (PageUnreadableError, RecognitionError) as failure:
        error = str(failure) or type(failure).__name__
    text_key, words_key = ocr_object_keys(image_key)
    with uow:
        # Claim the page (a row write: PostgreSQL locks the row, SQLite the database) before writing the
        # objects, so a newer job's text is never overwritten by this one's.
        claimed = uow.session.execute(
            update(Page).where(Page.id == page_id, Page.ocr_status == "pending", Page.ocr_started_at == started)
            .values(ocr_started_at=started)
        ).rowcount
        page = uow.session.get(Page, page_id)
        if not claimed:  # queued again meanwhile, or another job finished it: the newer job decides
            if made is not None and (page is None or page.document.is_shredded or page.object_key != image_key):
                uow.store.delete(image_key)  # rendered for a page destroyed or replaced meanwhile
            return page.ocr_status if page else "missing"
        assert page is not None
        if made is not None:
            page.image_ready, page.image_sha256, page.width, page.height = True, made.sha256, width, height
        if text_layer and not error:
            page.ocr_status, page.ocr_error, page.ocr_started_at, page.ocr_confidence = "done", None, None, 100.0
            settle_document(uow, page.document)
            uow.commit()
            return page.ocr_status
        if recognized is None:
            return _fail(uow, page, error)
        uow.store.put(text_key, io.BytesIO(recognized.text.encode("utf-8")), data_key=data_key, algorithm=cipher)
        uow.store.put(words_key, io.BytesIO(words_json(recognized, width, height)), data_key=data_key,
                      algorithm=cipher)
        page.ocr_status, page.ocr_error, page.ocr_started_at = "done", None, None
        page.ocr_text = redact(recognized.text)
        page.ocr_confidence = recognized.confidence
        page.text_object_key, page.words_object_key = text_key, words_key
        page.rescan_needed = recognized.confidence < uow.settings.rescan_threshold
        found = identifier_hashes(recognized.text, uow.keyring)
        _lock_document(uow, page.document)  # another page's job may have added its hashes meanwhile
        page.document.pii_hashes = sorted(set(page.document.pii_hashes) | set(found))
        _settle_locked(uow, page.document)
        uow.commit()
        return page.ocr_status


def mark_page_failed(uow: UnitOfWork, *, page_id: int, reason: str) -> str:
    """Mark a still pending page failed for good (the queue gave up on it); returns its status."""
    with uow:
        page = uow.session.get(Page, page_id)
        if page is None or page.ocr_status != "pending":
            return page.ocr_status if page else "missing"
        return _fail(uow, page, reason)


def _fail(uow: UnitOfWork, page: Page, reason: str) -> str:
    """Inside an open unit of work: the page failed for good; the document shows the reason."""
    page.ocr_status, page.ocr_error, page.ocr_started_at = "failed", redact(reason)[:2000], None
    audit.record(uow.session, OCR_ACTOR, event_page_ocr_failed, outcome="failed", target_type="document",
                 target_id=page.document_id, page=page.number, version=page.version, reason=page.ocr_error)
    settle_document(uow, page.document)
    uow.commit()
    return page.ocr_status


def settle_document(uow: UnitOfWork, document: Document) -> None:
    """Inside an open unit of work that changed a page: update the document's status; once no page
    waits, queue it for (re)indexing.

    The document is locked and read again first. Two pages of one document finishing at once on two
    workers would otherwise each see the other still pending, and the document would stay processing
    for ever; this way the second waits for the first to commit and sees its page.
    """
    _lock_document(uow, document)
    _settle_locked(uow, document)


def _settle_locked(uow: UnitOfWork, document: Document) -> None:
    document.refresh_status()
    if document.status != "processing":
        queue_reindex(uow, document.id)


def _lock_document(uow: UnitOfWork, document: Document) -> None:
    """Lock the document until the commit and read it and its pages again (a page's update flushed
    before is kept: autoflush writes it)."""
    uow.session.execute(Document.locked(Document.id == document.id)).unique().scalar_one()
    uow.session.execute(select(Page).where(Page.document_id == document.id)
                        .execution_options(populate_existing=True)).all()


def _page_image(uow: UnitOfWork, key: str, data_key: bytes) -> Image.Image:
    """The decrypted, decoded page image; PageUnreadableError when it is missing, corrupt or too large.
    Other storage errors (unreachable store) propagate: they may pass."""
    try:
        with uow.store.open(key, data_key=data_key) as stream:
            data = stream.read()
    except ObjectNotFoundError:
        raise PageUnreadableError("the page image is missing from the object store") from None
    except DecryptionError as error:
        raise PageUnreadableError(f"the page image does not decrypt (damaged): {error}") from None
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Image.DecompressionBombError as error:
        raise PageUnreadableError(f"the page image is too large to process: {error}") from None
    except (OSError, ValueError, SyntaxError) as error:  # what Pillow raises for truncated or bad data
        raise PageUnreadableError(f"the page image cannot be decoded: {error}") from None
    return image


@dataclass
class RenderedImage:
    """A PDF page a job rendered and stored: the image (for OCR), its dpi, size and the stored PNG's hash."""

    image: Image.Image
    dpi: int
    width: int
    height: int
    sha256: str


def render_page(uow: UnitOfWork, original_key: str, number: int, image_key: str, data_key: bytes,
                cipher: str) -> RenderedImage:
    """Render page `number` of the stored original PDF and store it as the page's PNG (encrypted).

    PageUnreadableError when the original is missing, does not decrypt or the page cannot be rendered;
    other storage errors (unreachable store) propagate: they may pass.
    """
    with tempfile.TemporaryDirectory(prefix="render-") as folder:
        original = Path(folder) / "original.pdf"
        try:
            with original_copies.open_original(uow, original_key, data_key) as stream, original.open("wb") as out:
                shutil.copyfileobj(stream, out, CHUNK)
        except ObjectNotFoundError:
            raise PageUnreadableError("the original PDF is missing from the object store") from None
        except DecryptionError as error:
            raise PageUnreadableError(f"the original PDF does not decrypt (damaged): {error}") from None
        try:
            page = render_pdf_page(original, number, limits=input_limits(uow.settings))
        except InputRejectedError as error:
            raise PageUnreadableError(f"page {number} cannot be rendered from the PDF: {error}") from None
    sha256 = store_page_image(uow, image_key, page.image, page.dpi, data_key, cipher)
    return RenderedImage(page.image, page.dpi or 300, page.image.width, page.image.height, sha256)


def store_page_image(uow: UnitOfWork, key: str, image: Image.Image, dpi: int | None, data_key: bytes,
                     cipher: str) -> str:
    """Store a page image as a lossless PNG encrypted under the data key; the stored PNG's SHA-256."""
    with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as buffer:
        save_page(image, buffer, dpi=dpi)
        buffer.seek(0)
        return uow.store.put(key, buffer, data_key=data_key, algorithm=cipher).sha256


def words_json(recognized: RecognizedText, width: int, height: int) -> bytes:
    """Word boxes as stored (encrypted, they hold PII): the image size and one entry per word."""
    words = [{"text": w.text, "confidence": w.confidence, "left": w.left, "top": w.top, "width": w.width,
              "height": w.height} for w in recognized.words]
    return json.dumps({"width": width, "height": height, "words": words}, ensure_ascii=False).encode("utf-8")


def ocr_progress_by_document(uow: UnitOfWork, document_ids: list[int], *, actor: Actor) -> dict[int, OcrProgress]:
    """Pages done / failed / total, status, failure reason and the pages read too poorly (to scan again)
    per document, for those the actor may see; three queries per 500 documents."""
    counts: dict[int, dict[str, int]] = {}
    rescan: dict[int, list[int]] = {}
    states: dict[int, tuple[str, str | None]] = {}
    with uow:
        scope = access.visible(actor, permission_document_view)
        for chunk in _chunks(list(dict.fromkeys(document_ids)), PROGRESS_CHUNK):
            rows = uow.session.execute(
                select(Page.document_id, Page.ocr_status, func.count(Page.id))
                .join(Document, Document.id == Page.document_id)
                .where(Page.document_id.in_(chunk), scope.documents())
                .group_by(Page.document_id, Page.ocr_status)
            ).all()
            for document_id, status, count in rows:
                counts.setdefault(document_id, {})[status] = count
            found = uow.session.execute(
                select(Document.id, Document.status, Document.failure_reason)
                .where(Document.id.in_(chunk), scope.documents())
            )
            states.update({row.id: (row.status, row.failure_reason) for row in found})
            flagged = uow.session.execute(
                select(Page.document_id, Page.number).join(Document, Document.id == Page.document_id)
                .where(Page.document_id.in_(chunk), Page.ocr_status == "done", Page.rescan_needed.is_(True),
                       scope.documents())
                .order_by(Page.document_id, Page.number))
            for document_id, number in flagged:
                rescan.setdefault(document_id, []).append(number)
    return {
        document_id: OcrProgress(sum(c.values()), c.get("done", 0), c.get("failed", 0), *states[document_id],
                                 rescan_pages=tuple(rescan.get(document_id, ())))
        for document_id, c in counts.items() if document_id in states
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


def stalled_page_ids(uow: UnitOfWork, *, started_before: datetime | timedelta) -> list[int]:
    """Pending pages whose job started before then and never finished: its worker died mid-page.

    Clears their start stamp (they count as queued again) and returns them for the caller to queue.
    """
    cutoff = utcnow() - started_before if isinstance(started_before, timedelta) else as_utc(started_before)
    with uow:
        ids = list(uow.session.scalars(
            select(Page.id).where(Page.ocr_status == "pending", Page.ocr_started_at < cutoff).order_by(Page.id)
        ))
        if ids:
            uow.session.execute(update(Page).where(Page.id.in_(ids)).values(ocr_started_at=None))
            uow.commit()
        return ids


def settle_finished_documents(uow: UnitOfWork) -> int:
    """Settle the documents left processing with no page waiting; returns how many there were.

    Before settle_document locked the document, two pages finishing at once could leave it so.
    """
    with uow:
        waiting = select(Page.id).where(Page.document_id == Document.id, Page.ocr_status == "pending").exists()
        stuck = list(uow.session.scalars(select(Document).where(Document.status == "processing", ~waiting)))
        for document in stuck:
            settle_document(uow, document)
        uow.commit()
    return len(stuck)


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
