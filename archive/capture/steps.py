"""The steps of capture and of page replacement, over one CaptureContext (runner.py: the contract).

Capture:     CheckCaptureRequest → CheckFile → StoreOriginal → DetectDuplicate → StorePages → RecordDocument
Replacement: CheckPageReplacement → CheckFile(one page) → HashUpload → StorePages → RecordReplacement

Cheap checks come first; the slow work (encrypting, decoding pages) happens outside the short
database transaction of the last step, and a captured PDF's pages are rendered by the workers. The
original is read once, by the store's put, whose SHA-256 is the content hash; each page is decoded
once, by StorePages, which also finds damaged image data.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor
from archive.capture.events import event_document_captured, event_page_replaced
from archive.capture.permissions import permission_document_capture, permission_page_rescan
from archive.capture.recognition import queue_ocr, settle_document, store_page_image
from archive.capture.views import CaptureResult, PageReplacementResult
from archive.errors import DocumentShreddedError, DuplicateDocumentError, NotFoundError, ValidationError
from archive.identity import classify_identifier
from archive.models import (
    ArchiveCodeCounter,
    ClassificationLevel,
    Customer,
    Department,
    Document,
    DocumentType,
    Dossier,
    Page,
    RetentionPeriod,
    utcnow,
)
from archive.pii import identifier_hashes, lookup_hash, redact
from archive.security.disclosure import check_minimum_classification, duplicate_error
from archive.security.uploads import input_limits, screen_upload
from archive.services.classification import check_document_level, rank
from archive.services.customers import find_or_register
from archive.services.documents import document_key
from archive.services.indexing import queue_reindex
from archive.unit_of_work import UnitOfWork
from ocr.base import InputRejectedError, SourceInfo
from ocr.inputs import PDF, iter_pages, outline_pdf_pages
from storage.envelope import new_data_key

CHUNK = 1024 * 1024


@dataclass
class CaptureRequest:
    path: Path
    customer: str  # resident ID number or unified social credit code
    document_type: str
    filename: str = ""
    customer_name: str | None = None
    classification: str | None = None
    dossier: str | None = None
    title: str | None = None
    document_date: date | None = None
    original_or_copy: str = "copy"
    late_reason: str = ""  # 补录: why a document of an earlier year is captured only now (required then)
    contract_end_date: date | None = None  # a time-limited document (contract): when it ends
    work_order: str | None = None  # 工单号 of the business case the document belongs to
    business_step: str | None = None  # 业务环节, e.g. 高压新装


@dataclass
class PageReplacementRequest:
    document_id: int
    number: int
    path: Path
    filename: str = ""


@dataclass
class StoredPage:
    number: int
    key: str
    width: int
    height: int
    sha256: str | None  # of the stored PNG, from the store's put; None until a worker renders it
    text_layer: str | None
    image_ready: bool = True


@dataclass
class CaptureContext:
    """What the steps share. Fields below `request` are filled in as the steps run."""

    actor: Actor
    request: CaptureRequest | PageReplacementRequest
    prefix: str = field(default_factory=lambda: f"documents/{uuid.uuid4().hex}")
    first_page_number: int = 1  # a replacement stores its one page under the page's own number
    identifier: tuple[str, str] = ("", "")  # the customer's (id_type, normalised number)
    data_key: bytes = b""
    cipher: str = ""
    source: SourceInfo | None = None
    sha256: str = ""  # of the uploaded file
    size: int = 0
    previous_version: int = 0
    upload: Path | None = None  # the file the steps read: the request's, or a sanitised copy of it
    stored_keys: list[str] = field(default_factory=list)
    pages: list[StoredPage] = field(default_factory=list)
    result: CaptureResult | PageReplacementResult | None = None

    @property
    def path(self) -> Path:
        return self.upload or self.request.path

    @property
    def display_name(self) -> str:
        """The uploaded file's name, as errors and the audit show it (PII masked)."""
        return redact(self.request.filename or self.request.path.name)

    def rejected(self, error: InputRejectedError) -> ValidationError:
        return ValidationError(f"{self.display_name}: {error}")


class NothingToUndo:
    def cleanup(self, uow: UnitOfWork, ctx: CaptureContext, failed: bool) -> None:
        pass


class RemoveStored:
    """Cleanup of the steps that store objects: when the run failed, delete what this capture stored."""

    def cleanup(self, uow: UnitOfWork, ctx: CaptureContext, failed: bool) -> None:
        if failed:
            for key in reversed(ctx.stored_keys):
                uow.store.delete(key)
        ctx.stored_keys.clear()


# --- shared -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckFile:
    """Size, type and structure of the upload without decoding it (StorePages decodes each page once);
    polyglots refused, a PDF's active content removed in a copy (archive/security/uploads.py)."""

    max_pages: int | None = None

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        limit = uow.settings.max_upload_mb
        if ctx.request.path.stat().st_size > limit * 1024 * 1024:
            raise ValidationError(f"file is larger than ARCHIVE_MAX_UPLOAD_MB={limit}", code="upload_too_large",
                                  params={"limit": limit}, field="file")
        try:
            ctx.source, ctx.upload = screen_upload(ctx.request.path, uow.settings)
        except InputRejectedError as error:
            raise ctx.rejected(error) from error
        if self.max_pages is not None and ctx.source.page_count > self.max_pages:
            raise ValidationError(f"{ctx.display_name}: a replacement is one page; this file has "
                                  f"{ctx.source.page_count}", code="replacement_not_one_page",
                                  params={"file": ctx.display_name, "pages": ctx.source.page_count}, field="file")

    def cleanup(self, uow: UnitOfWork, ctx: CaptureContext, failed: bool) -> None:
        if ctx.upload is not None:
            ctx.upload.unlink(missing_ok=True)


@dataclass(frozen=True)
class StorePages(RemoveStored):
    """Decode each page once, store it as a lossless PNG encrypted under the data key.

    With render_pdf off (capture) a PDF's pages are only loaded, a damaged one refused, their sizes and
    text read: the workers render them from the stored original (recognition.render_page), so a long PDF
    neither holds the web request nor loads the web processes.
    """

    render_pdf: bool = True

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        try:
            if not self.render_pdf and ctx.source is not None and ctx.source.media_type == PDF:
                for outline in outline_pdf_pages(ctx.path, limits=input_limits(uow.settings)):
                    number = ctx.first_page_number + outline.number - 1
                    ctx.pages.append(StoredPage(number, _page_key(ctx, number), outline.width, outline.height,
                                                None, outline.text_layer, image_ready=False))
                return
            for page in iter_pages(ctx.path, limits=input_limits(uow.settings)):
                number = ctx.first_page_number + page.number - 1
                key = _page_key(ctx, number)
                ctx.stored_keys.append(key)
                sha256 = store_page_image(uow, key, page.image, page.dpi, ctx.data_key, ctx.cipher)
                ctx.pages.append(StoredPage(number, key, page.image.width, page.image.height, sha256,
                                            page.text_layer))
                page.image.close()
        except InputRejectedError as error:
            raise ctx.rejected(error) from error


def _page_key(ctx: CaptureContext, number: int) -> str:
    return f"{ctx.prefix}/pages/{number:04d}.png"


def apply_text_layer(page: Page, document: Document, text: str | None, uow: UnitOfWork) -> None:
    """A PDF page with its own text needs no OCR: its text (redacted) is the page's, its PII hashed.
    A page whose image a worker has yet to render stays pending until it has."""
    if not text:
        return
    page.text_layer = True
    if page.image_ready:
        page.ocr_status, page.ocr_confidence = "done", 100.0
    page.ocr_text = redact(text)
    document.pii_hashes = sorted(set(document.pii_hashes) | set(identifier_hashes(text, uow.keyring)))


# --- capture ----------------------------------------------------------------------------------------


class CheckCaptureRequest(NothingToUndo):
    """Permission, reference data and the customer's identifier: refuse before anything is stored."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        request = ctx.request
        assert isinstance(request, CaptureRequest)
        access.require(ctx.actor, permission_document_capture)
        ctx.identifier = classify_identifier(request.customer)
        with uow:
            doc_type = uow.session.get(DocumentType, request.document_type)
            if doc_type is None:
                raise ValidationError(f"unknown document type {request.document_type!r}", code="unknown_document_type",
                                      params={"value": request.document_type}, field="document_type")
            if request.classification and uow.session.get(ClassificationLevel, request.classification) is None:
                raise ValidationError(f"unknown classification {request.classification!r}", code="unknown_classification",
                                      params={"value": request.classification}, field="classification")
            # A deactivated type or level names the records that have it, but takes no new ones.
            if not doc_type.active:
                raise ValidationError(f"document type {doc_type.code!r} is no longer in use", code="inactive_reference",
                                      params={"value": doc_type.code}, field="document_type")
            level = uow.session.get(ClassificationLevel, request.classification) if request.classification else None
            if level is not None and not level.active:
                raise ValidationError(f"classification {level.code!r} is no longer in use", code="inactive_reference",
                                      params={"value": level.code}, field="classification")
            check_minimum_classification(uow.session, doc_type, request.classification)
        if request.original_or_copy not in ("original", "copy"):
            raise ValidationError("original_or_copy must be 'original' or 'copy'", code="original_or_copy",
                                  field="original_or_copy")
        if request.document_date and request.document_date.year < uow.clock.today().year \
                and not request.late_reason.strip():
            raise ValidationError(f"补录 late capture: a document of {request.document_date.year} needs a reason "
                                  "why it is captured only now", code="late_capture_reason",
                                  params={"year": request.document_date.year}, field="late_reason")


class StoreOriginal(RemoveStored):
    """Encrypt the original under a new data key; the put's SHA-256 is the content hash."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        ctx.cipher = uow.settings.cipher
        ctx.data_key = new_data_key(ctx.cipher)
        key = f"{ctx.prefix}/original"
        with ctx.path.open("rb") as handle:
            ctx.stored_keys.append(key)
            stored = uow.store.put(key, handle, data_key=ctx.data_key, algorithm=ctx.cipher)
        ctx.sha256, ctx.size = stored.sha256, stored.size


class DetectDuplicate(NothingToUndo):
    """The same content for the same customer counts once (seed 004)."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        with uow:
            existing = uow.session.scalar(
                select(Document.id)
                .join(Customer, Customer.id == Document.customer_id)
                .where(Customer.identity_hash == lookup_hash(ctx.identifier[1], uow.keyring),
                       Document.content_sha256 == ctx.sha256, ~Document.is_shredded)
            )
            if existing is not None:  # named only to a clerk who may see it
                raise duplicate_error(uow.session, ctx.actor, existing)


class RecordDocument(NothingToUndo):
    """One short transaction: customer, dossier, archive code, document, pages, audit, outbox."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        request, actor = ctx.request, ctx.actor
        assert isinstance(request, CaptureRequest)
        with uow:
            session = uow.session
            customer = find_or_register(session, uow.keyring, actor=actor, identifier=ctx.identifier,
                                        name=request.customer_name)
            doc_type = session.get(DocumentType, request.document_type)
            assert doc_type is not None  # checked first
            dossier = _dossier(session, customer, redact(request.dossier)) if request.dossier else None
            wrapped = uow.keyring.wrap(ctx.data_key, ctx.cipher)
            document = Document(
                customer_id=customer.id, dossier_id=dossier.id if dossier else None,
                document_type=doc_type.code,
                title=redact(request.title or f"{customer.name} {doc_type.name_zh}"),
                archive_code=allocate_archive_code(session, uow.settings.fonds, doc_type, actor.department_id),
                classification=request.classification or _at_least(session, doc_type.default_classification, dossier),
                retention=doc_type.retention_code,
                department_id=actor.department_id, original_or_copy=request.original_or_copy,
                document_date=request.document_date, source_filename=ctx.display_name,
                media_type=ctx.source.media_type if ctx.source else "application/octet-stream",
                size_bytes=ctx.size, content_sha256=ctx.sha256, object_key=f"{ctx.prefix}/original",
                cipher=wrapped.algorithm, key_id=wrapped.key_id, wrapped_key=wrapped.wrapped,
                pii_hashes=[customer.identity_hash], captured_by_id=actor.user_id,
                late_capture_reason=redact(request.late_reason.strip()) or None,
                contract_end_date=request.contract_end_date,
                work_order=_optional(request.work_order, 64), business_step=_optional(request.business_step, 100),
            )
            document.dossier = dossier
            check_document_level(session, document, document.classification)
            access.require(actor, permission_document_capture, document)
            for stored in ctx.pages:
                row = Page(number=stored.number, object_key=stored.key, width=stored.width,
                           height=stored.height, image_sha256=stored.sha256, image_ready=stored.image_ready)
                document.pages.append(row)
                apply_text_layer(row, document, stored.text_layer, uow)
            document.refresh_status()
            session.add(document)
            try:
                session.flush()
            except IntegrityError as error:
                raise DuplicateDocumentError("duplicate: captured concurrently", 0,
                                             code="duplicate_concurrent") from error
            queue_reindex(uow, document.id)
            audit.record(session, actor, event_document_captured, target_type="document", target_id=document.id,
                         archive_code=document.archive_code, pages=len(ctx.pages), sha256=ctx.sha256,
                         filename=document.source_filename)
            queue_ocr(uow, [p.id for p in document.pages if p.ocr_status == "pending"])
            ctx.result = CaptureResult(document.id, document.archive_code, len(ctx.pages), customer.id)
            uow.commit()


def _optional(text: str | None, limit: int) -> str | None:
    """Free text as stored: trimmed, PII redacted, cut to the column; None when empty."""
    return redact(text.strip())[:limit] or None if text else None


def _at_least(session: Session, level: str, dossier: Dossier | None) -> str:
    """The type's default level, lifted to the dossier's (a document is never below its dossier)."""
    if dossier is not None and rank(session, dossier.classification or "public") > rank(session, level):
        return dossier.classification
    return level


def _dossier(session: Session, customer: Customer, title: str) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.customer_id == customer.id, Dossier.title == title))
    if dossier is None:
        dossier = Dossier(customer_id=customer.id, title=title.strip(), department_id=customer.department_id)
        session.add(dossier)
        session.flush()
    return dossier


def allocate_archive_code(session: Session, fonds: str, doc_type: DocumentType, department_id: int | None) -> str:
    """档号 per DA/T 22: fonds-category·year-retention-department-item, item numbers without gaps."""
    retention = session.get(RetentionPeriod, doc_type.retention_code)
    department = session.get(Department, department_id)
    if department is None:
        raise ValidationError("the capturing user belongs to no department", code="capturer_without_department")
    assert retention is not None  # reference data: every type names a period
    scope = f"{fonds}-{doc_type.category}·{date.today().year}-{retention.archive_code}-{department.code}"
    # One UPDATE ... RETURNING: the increment happens in the database, so two captures committing at once
    # (SQLite ignores FOR UPDATE) never take the same number; a rollback gives it back (no gaps).
    take = (update(ArchiveCodeCounter).where(ArchiveCodeCounter.scope == scope)
            .values(last_number=ArchiveCodeCounter.last_number + 1).returning(ArchiveCodeCounter.last_number))
    number = session.execute(take).scalar()
    if number is None:
        try:
            with session.begin_nested():
                session.add(ArchiveCodeCounter(scope=scope, last_number=1))
            number = 1
        except IntegrityError:  # another capture created the scope's counter meanwhile
            number = session.execute(take).scalar()
    assert number is not None
    return f"{scope}-{number:04d}"


# --- page replacement -------------------------------------------------------------------------------


def document_and_page(uow: UnitOfWork, actor: Actor, document_id: int, number: int) -> tuple[Document, Page]:
    """Inside an open unit of work: the document (rescan permission asked) and its page."""
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


class CheckPageReplacement(NothingToUndo):
    """Permission and the page; the new image goes under the document's own data key."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        request = ctx.request
        assert isinstance(request, PageReplacementRequest)
        with uow:
            document, page = document_and_page(uow, ctx.actor, request.document_id, request.number)
            ctx.data_key, ctx.cipher = document_key(uow, document), document.cipher
            ctx.previous_version, ctx.first_page_number = page.version, page.number


class HashUpload(NothingToUndo):
    """The uploaded file's SHA-256 and size, for the audit trail (a replacement keeps no original)."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        digest = hashlib.sha256()
        with ctx.path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                ctx.size += len(chunk)
        ctx.sha256 = digest.hexdigest()


class RecordReplacement(NothingToUndo):
    """One short transaction: keep the current version, make the new image the page, audit, queue OCR."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        request, actor = ctx.request, ctx.actor
        assert isinstance(request, PageReplacementRequest)
        (stored,) = ctx.pages
        with uow:
            document, page = document_and_page(uow, actor, request.document_id, request.number)
            if page.version != ctx.previous_version:
                raise ValidationError(f"page {page.number} was replaced by someone else meanwhile; "
                                      "look at the new version before replacing it again",
                                      code="page_replaced_meanwhile", params={"page": page.number})
            kept = page.supersede(by_id=actor.user_id, at=utcnow())
            if page.image_ready:  # a PDF page never rendered has no version worth keeping
                uow.session.add(kept)
            page.object_key, page.image_sha256, page.image_ready = stored.key, stored.sha256, True
            page.width, page.height = stored.width, stored.height
            apply_text_layer(page, document, stored.text_layer, uow)
            settle_document(uow, document)
            audit.record(uow.session, actor, event_page_replaced, target_type="document", target_id=document.id,
                         archive_code=document.archive_code, page=page.number, version=page.version,
                         previous_version=ctx.previous_version, filename=redact(request.filename),
                         sha256=ctx.sha256, size=ctx.size, image_sha256=stored.sha256)
            uow.session.flush()
            if page.ocr_status == "pending":
                queue_ocr(uow, [page.id])
            ctx.result = PageReplacementResult(document.id, document.archive_code, page.number, page.version,
                                               ctx.sha256)
            uow.commit()


CAPTURE_STEPS = (CheckCaptureRequest(), CheckFile(), StoreOriginal(), DetectDuplicate(),
                 StorePages(render_pdf=False), RecordDocument())
REPLACEMENT_STEPS = (CheckPageReplacement(), CheckFile(max_pages=1), HashUpload(), StorePages(),
                     RecordReplacement())
