"""The rescan loop: pages OCR read poorly (or not at all) are listed for clerks, who upload a new scan.

A replacement runs the capture checks on the new file (size, type and integrity, one page only),
stores its page image encrypted under the document's own data key with its SHA-256 recorded, and then,
in one short transaction, keeps the page's current version as a PageVersion and makes the new image
the page (same number, version + 1), queued for OCR and re-indexing. As in capture, any failure runs
every step's cleanup, so nothing is left half-stored; a crash between storing and recording leaves
objects under a fresh prefix that the fixity sweep removes.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import and_, func, or_, select

from archive import access, audit
from archive.actors import Actor
from archive.capture import CHUNK, file_sha256
from archive.errors import DocumentShreddedError, NotFoundError, ValidationError
from archive.events import event_page_replaced, event_page_replacement_refused
from archive.models import Customer, Document, Page, SearchOutbox, utcnow
from archive.permissions import permission_page_rescan
from archive.pii import identifier_hashes, redact
from archive.security.uploads import screen_upload
from archive.services.recognition import document_key
from archive.unit_of_work import UnitOfWork
from archive.views import PageReplacementResult, RescanItemView, RescanList
from ocr.base import InputRejectedError
from ocr.inputs import iter_pages, save_page

MAX_LIST = 500


def list_rescan_pages(uow: UnitOfWork, *, actor: Actor, limit: int = 100, offset: int = 0) -> RescanList:
    """Pages to scan again in the actor's scope: flagged "rescan needed" (confidence below
    ARCHIVE_RESCAN_THRESHOLD) or failed OCR, of documents not shredded. Requires permission_page_rescan."""
    limit = min(max(limit, 1), MAX_LIST)
    with uow:
        scope = access.visible(actor, permission_page_rescan)
        wanted = and_(or_(Page.rescan_needed.is_(True), Page.ocr_status == "failed"), ~Document.is_shredded,
                      scope.documents())
        total = uow.session.scalar(
            select(func.count(Page.id)).join(Document, Document.id == Page.document_id).where(wanted)) or 0
        rows = uow.session.execute(
            select(Document.id, Document.archive_code, Document.title, Customer.name, Page.number, Page.version,
                   Page.ocr_status, Page.ocr_confidence, Page.ocr_error)
            .join(Document, Document.id == Page.document_id).join(Customer, Customer.id == Document.customer_id)
            .where(wanted).order_by(Document.id, Page.number).limit(limit).offset(max(offset, 0))
        ).all()
    return RescanList(total=total, threshold=uow.settings.rescan_threshold,
                      items=[RescanItemView(*row) for row in rows])


# --- replacing a page -----------------------------------------------------------------------------


@dataclass
class PageReplacementRequest:
    document_id: int
    number: int
    path: Path
    filename: str = ""


@dataclass
class ReplacementContext:
    request: PageReplacementRequest
    actor: Actor
    prefix: str = field(default_factory=lambda: f"documents/{uuid.uuid4().hex}")
    data_key: bytes = b""
    cipher: str = ""
    previous_version: int = 0
    sha256: str = ""
    size: int = 0
    image_key: str = ""
    image_sha256: str = ""
    width: int = 0
    height: int = 0
    text_layer: str | None = None
    stored_keys: list[str] = field(default_factory=list)
    result: PageReplacementResult | None = None


class Step(Protocol):
    def run(self, uow: UnitOfWork, ctx: ReplacementContext) -> None: ...

    def cleanup(self, uow: UnitOfWork, ctx: ReplacementContext) -> None: ...


def _document_and_page(uow: UnitOfWork, actor: Actor, document_id: int, number: int) -> tuple[Document, Page]:
    document = uow.session.get(Document, document_id)
    if document is None:
        raise NotFoundError(f"no document {document_id}")
    access.require(actor, permission_page_rescan, document)
    if document.is_shredded:
        raise DocumentShreddedError(document.id, document.archive_code)
    page = uow.session.scalar(select(Page).where(Page.document_id == document.id, Page.number == number))
    if page is None:
        raise NotFoundError(f"document {document_id} has no page {number}")
    return document, page


class Preflight:
    """Permission, the page, and the file itself (as capture checks it, and one page only)."""

    def run(self, uow: UnitOfWork, ctx: ReplacementContext) -> None:
        request = ctx.request
        with uow:
            document, page = _document_and_page(uow, ctx.actor, request.document_id, request.number)
            ctx.data_key, ctx.cipher = document_key(uow, document), document.cipher
            ctx.previous_version = page.version
        size = request.path.stat().st_size
        if size > uow.settings.max_upload_mb * 1024 * 1024:
            raise ValidationError(f"file is larger than ARCHIVE_MAX_UPLOAD_MB={uow.settings.max_upload_mb}")
        name = redact(request.filename or request.path.name)
        try:
            source = screen_upload(request.path, uow.settings)
        except InputRejectedError as error:
            raise ValidationError(f"{name}: {error}") from error
        if source.page_count != 1:
            raise ValidationError(f"{name}: a replacement is one page; this file has {source.page_count}")

    def cleanup(self, uow: UnitOfWork, ctx: ReplacementContext) -> None:
        pass


class StoreEncrypted:
    """Hash the uploaded file and store its page image under the document's data key."""

    def run(self, uow: UnitOfWork, ctx: ReplacementContext) -> None:
        ctx.sha256, ctx.size = file_sha256(ctx.request.path)
        page = next(iter_pages(ctx.request.path))
        ctx.image_key = f"{ctx.prefix}/pages/{ctx.request.number:04d}.png"
        with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as buffer:
            save_page(page.image, buffer, dpi=page.dpi)
            buffer.seek(0)
            ctx.stored_keys.append(ctx.image_key)
            stored = uow.store.put(ctx.image_key, buffer, data_key=ctx.data_key, algorithm=ctx.cipher)
        ctx.image_sha256, ctx.width, ctx.height = stored.sha256, page.image.width, page.image.height
        ctx.text_layer = page.text_layer
        page.image.close()

    def cleanup(self, uow: UnitOfWork, ctx: ReplacementContext) -> None:
        for key in reversed(ctx.stored_keys):
            uow.store.delete(key)


class RecordReplacement:
    """One short transaction: keep the current version, make the new image the page, audit, queue OCR."""

    def run(self, uow: UnitOfWork, ctx: ReplacementContext) -> None:
        request, actor = ctx.request, ctx.actor
        with uow:
            document, page = _document_and_page(uow, actor, request.document_id, request.number)
            if page.version != ctx.previous_version:
                raise ValidationError(f"page {page.number} was replaced by someone else meanwhile; "
                                      "look at the new version before replacing it again")
            uow.session.add(page.supersede(by_id=actor.user_id, at=utcnow()))
            page.object_key, page.image_sha256 = ctx.image_key, ctx.image_sha256
            page.width, page.height = ctx.width, ctx.height
            if ctx.text_layer:  # a PDF page with its own text needs no OCR, as in capture
                page.text_layer, page.ocr_status, page.ocr_confidence = True, "done", 100.0
                page.ocr_text = redact(ctx.text_layer)
                document.pii_hashes = sorted(set(document.pii_hashes)
                                             | set(identifier_hashes(ctx.text_layer, uow.keyring)))
            document.refresh_status()
            if document.status != "processing":
                uow.session.add(SearchOutbox(document_id=document.id, action="index"))
                uow.after_commit(uow.jobs.enqueue_indexing)
            audit.record(uow.session, actor, event_page_replaced, target_type="document", target_id=document.id,
                         archive_code=document.archive_code, page=page.number, version=page.version,
                         previous_version=ctx.previous_version, filename=redact(request.filename),
                         sha256=ctx.sha256, size=ctx.size, image_sha256=ctx.image_sha256)
            uow.session.flush()
            if page.ocr_status == "pending":
                page_id = page.id
                uow.after_commit(lambda: uow.jobs.enqueue_ocr([page_id]))
            ctx.result = PageReplacementResult(document.id, document.archive_code, page.number, page.version,
                                               ctx.sha256)
            uow.commit()

    def cleanup(self, uow: UnitOfWork, ctx: ReplacementContext) -> None:
        pass


STEPS: tuple[Step, ...] = (Preflight(), StoreEncrypted(), RecordReplacement())


def replace_page(uow: UnitOfWork, *, actor: Actor, request: PageReplacementRequest) -> PageReplacementResult:
    """Make a new scan the page, keeping the previous version viewable. Requires permission_page_rescan
    on the document. Raises NotFoundError, DocumentShreddedError, ValidationError (refusals are
    audited as page.replacement_refused), AccessDenied (audited)."""
    ctx = ReplacementContext(request=request, actor=actor)
    done: list[Step] = []
    try:
        for step in STEPS:
            done.append(step)
            step.run(uow, ctx)
    except BaseException as error:
        for step in reversed(done):
            step.cleanup(uow, ctx)
        if isinstance(error, ValidationError):
            with uow:
                audit.record(uow.session, actor, event_page_replacement_refused, outcome="failed",
                             target_type="document", target_id=request.document_id, page=request.number,
                             filename=redact(request.filename or request.path.name), reason=redact(str(error)))
                uow.commit()
        raise
    assert ctx.result is not None
    return ctx.result
