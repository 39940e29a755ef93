"""Capture: a scanned file becomes an encrypted, recorded document queued for OCR.

An explicit list of steps runs over one CaptureContext. Cheap checks come first; the slow work
(hashing, encrypting, rendering pages) happens outside the short database transaction. If any step
fails, every step's cleanup runs in reverse, so nothing is left half-stored.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from archive import access, audit
from archive.actors import Actor
from archive.errors import DuplicateDocumentError, ValidationError
from archive.events import event_document_capture_refused, event_document_captured
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
    SearchOutbox,
)
from archive.permissions import permission_document_capture
from archive.pii import identifier_hashes, lookup_hash, redact
from archive.security.disclosure import check_minimum_classification, duplicate_error
from archive.security.uploads import screen_upload
from archive.services.customers import find_or_register
from archive.unit_of_work import UnitOfWork
from archive.views import CaptureResult
from ocr.base import InputRejectedError, SourceInfo
from ocr.inputs import iter_pages, save_page
from storage.envelope import new_data_key

CHUNK = 1024 * 1024


def file_sha256(path: Path) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a file, read in chunks."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


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


@dataclass
class CaptureContext:
    request: CaptureRequest
    actor: Actor
    source: SourceInfo | None = None
    sha256: str = ""
    size: int = 0
    prefix: str = field(default_factory=lambda: f"documents/{uuid.uuid4().hex}")
    data_key: bytes = b""
    stored_keys: list[str] = field(default_factory=list)
    pages: list[dict[str, object]] = field(default_factory=list)
    result: CaptureResult | None = None
    ocr_page_ids: list[int] = field(default_factory=list)


class Step(Protocol):
    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None: ...

    def cleanup(self, uow: UnitOfWork, ctx: CaptureContext) -> None: ...


class Preflight:
    """Permission, reference data and the file itself: refuse before anything is stored."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        request = ctx.request
        access.require(ctx.actor, permission_document_capture)
        classify_identifier(request.customer)
        with uow:
            doc_type = uow.session.get(DocumentType, request.document_type)
            if doc_type is None:
                raise ValidationError(f"unknown document type {request.document_type!r}")
            if request.classification and uow.session.get(ClassificationLevel, request.classification) is None:
                raise ValidationError(f"unknown classification {request.classification!r}")
            check_minimum_classification(uow.session, doc_type, request.classification)
        if request.original_or_copy not in ("original", "copy"):
            raise ValidationError("original_or_copy must be 'original' or 'copy'")
        size = request.path.stat().st_size
        if size > uow.settings.max_upload_mb * 1024 * 1024:
            raise ValidationError(f"file is larger than ARCHIVE_MAX_UPLOAD_MB={uow.settings.max_upload_mb}")
        try:
            ctx.source = screen_upload(request.path, uow.settings)
        except InputRejectedError as error:
            raise ValidationError(f"{redact(request.filename or request.path.name)}: {error}") from error

    def cleanup(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        pass


class DetectDuplicate:
    """The same content for the same customer counts once (seed 004)."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        ctx.sha256, ctx.size = file_sha256(ctx.request.path)
        _, normalised = classify_identifier(ctx.request.customer)
        with uow:
            existing = uow.session.scalar(
                select(Document.id)
                .join(Customer, Customer.id == Document.customer_id)
                .where(Customer.identity_hash == lookup_hash(normalised, uow.keyring),
                       Document.content_sha256 == ctx.sha256)
            )
            if existing is not None:  # named only to a clerk who may see it
                raise duplicate_error(uow.session, ctx.actor, existing)

    def cleanup(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        pass


class StoreEncrypted:
    """Encrypt the original and each page image under one new data key."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        ctx.data_key = new_data_key(uow.settings.cipher)
        key = f"{ctx.prefix}/original"
        with ctx.request.path.open("rb") as handle:
            ctx.stored_keys.append(key)
            uow.store.put(key, handle, data_key=ctx.data_key, algorithm=uow.settings.cipher)
        for page in iter_pages(ctx.request.path):
            page_key = f"{ctx.prefix}/pages/{page.number:04d}.png"
            with tempfile.SpooledTemporaryFile(max_size=8 * CHUNK) as buffer:
                save_page(page.image, buffer, dpi=page.dpi)
                buffer.seek(0)
                ctx.stored_keys.append(page_key)
                stored = uow.store.put(page_key, buffer, data_key=ctx.data_key, algorithm=uow.settings.cipher)
            ctx.pages.append(
                {"number": page.number, "key": page_key, "width": page.image.width,
                 "height": page.image.height, "text_layer": page.text_layer, "sha256": stored.sha256}
            )
            page.image.close()

    def cleanup(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        for key in reversed(ctx.stored_keys):
            uow.store.delete(key)


class RecordDocument:
    """One short transaction: customer, dossier, archive code, document, pages, audit, outbox."""

    def run(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        request, actor = ctx.request, ctx.actor
        with uow:
            session = uow.session
            customer = find_or_register(session, uow.keyring, actor=actor, identifier=request.customer,
                                        name=request.customer_name)
            doc_type = session.get(DocumentType, request.document_type)
            assert doc_type is not None  # checked in preflight
            dossier = _dossier(session, customer, redact(request.dossier)) if request.dossier else None
            wrapped = uow.keyring.wrap(ctx.data_key, uow.settings.cipher)
            classification = request.classification or doc_type.default_classification
            document = Document(
                customer_id=customer.id, dossier_id=dossier.id if dossier else None,
                document_type=doc_type.code,
                title=redact(request.title or f"{customer.name} {doc_type.name_zh}"),
                archive_code=allocate_archive_code(session, uow.settings.fonds, doc_type, actor.department_id),
                classification=classification, retention=doc_type.retention_code,
                department_id=actor.department_id, original_or_copy=request.original_or_copy,
                document_date=request.document_date,
                source_filename=redact(request.filename or request.path.name),
                media_type=ctx.source.media_type if ctx.source else "application/octet-stream",
                size_bytes=ctx.size, content_sha256=ctx.sha256, object_key=f"{ctx.prefix}/original",
                cipher=wrapped.algorithm, key_id=wrapped.key_id, wrapped_key=wrapped.wrapped,
                pii_hashes=[customer.identity_hash], captured_by_id=actor.user_id,
            )
            access.require(actor, permission_document_capture, document)
            hashes = set(document.pii_hashes)
            for page in ctx.pages:
                text_layer = page["text_layer"]
                row = Page(number=page["number"], object_key=page["key"], width=page["width"],
                           height=page["height"], image_sha256=page["sha256"])
                if text_layer:
                    row.text_layer, row.ocr_status, row.ocr_confidence = True, "done", 100.0
                    row.ocr_text = redact(str(text_layer))
                    hashes.update(identifier_hashes(str(text_layer), uow.keyring))
                document.pages.append(row)
            document.pii_hashes = sorted(hashes)
            document.refresh_status()
            session.add(document)
            try:
                session.flush()
            except IntegrityError as error:
                raise DuplicateDocumentError("duplicate: captured concurrently", 0) from error
            session.add(SearchOutbox(document_id=document.id, action="index"))
            audit.record(session, actor, event_document_captured, target_type="document", target_id=document.id,
                         archive_code=document.archive_code, pages=len(ctx.pages), sha256=ctx.sha256,
                         filename=document.source_filename)
            ctx.ocr_page_ids = [p.id for p in document.pages if p.ocr_status == "pending"]
            ctx.result = CaptureResult(document.id, document.archive_code, len(ctx.pages), customer.id)
            uow.after_commit(lambda: uow.jobs.enqueue_ocr(ctx.ocr_page_ids))
            uow.after_commit(uow.jobs.enqueue_indexing)
            uow.commit()

    def cleanup(self, uow: UnitOfWork, ctx: CaptureContext) -> None:
        pass


STEPS: tuple[Step, ...] = (Preflight(), DetectDuplicate(), StoreEncrypted(), RecordDocument())


def capture_document(uow: UnitOfWork, *, actor: Actor, request: CaptureRequest) -> CaptureResult:
    """Capture one file. Requires permission_document_capture; refusals are audited."""
    ctx = CaptureContext(request=request, actor=actor)
    done: list[Step] = []
    try:
        for step in STEPS:
            done.append(step)
            step.run(uow, ctx)
    except BaseException as error:
        for step in reversed(done):
            step.cleanup(uow, ctx)
        if isinstance(error, ValidationError | DuplicateDocumentError):
            _audit_refusal(uow, actor, request, str(error))
        raise
    assert ctx.result is not None
    return ctx.result


def _audit_refusal(uow: UnitOfWork, actor: Actor, request: CaptureRequest, reason: str) -> None:
    with uow:
        audit.record(uow.session, actor, event_document_capture_refused, outcome="failed",
                     filename=redact(request.filename or request.path.name), reason=redact(reason))
        uow.commit()


def _dossier(session, customer: Customer, title: str) -> Dossier:  # noqa: ANN001
    dossier = session.scalar(select(Dossier).where(Dossier.customer_id == customer.id, Dossier.title == title))
    if dossier is None:
        dossier = Dossier(customer_id=customer.id, title=title.strip(), department_id=customer.department_id)
        session.add(dossier)
        session.flush()
    return dossier


def allocate_archive_code(session, fonds: str, doc_type: DocumentType, department_id: int | None) -> str:  # noqa: ANN001
    """档号 per DA/T 22: fonds-category·year-retention-department-item, item numbers without gaps."""
    retention = session.get(RetentionPeriod, doc_type.retention_code)
    department = session.get(Department, department_id)
    if department is None:
        raise ValidationError("the capturing user belongs to no department")
    scope = f"{fonds}-{doc_type.category}·{date.today().year}-{retention.archive_code}-{department.code}"
    counter = session.scalar(select(ArchiveCodeCounter).where(ArchiveCodeCounter.scope == scope).with_for_update())
    if counter is None:
        try:
            with session.begin_nested():
                counter = ArchiveCodeCounter(scope=scope, last_number=0)
                session.add(counter)
        except IntegrityError:
            counter = session.scalar(
                select(ArchiveCodeCounter).where(ArchiveCodeCounter.scope == scope).with_for_update()
            )
    counter.last_number += 1
    return f"{scope}-{counter.last_number:04d}"
