"""Reading documents: metadata, page images, OCR text, the original. Every read is audited."""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError
from archive.events import event_document_downloaded, event_document_viewed, event_page_image_viewed
from archive.models import Document, Page
from archive.permissions import permission_document_download, permission_document_view
from archive.services.customers import shown_identity
from archive.services.recognition import document_key
from archive.unit_of_work import UnitOfWork
from archive.views import DocumentView, PageView


def _load(uow: UnitOfWork, actor: Actor, permission: str, document_id: int) -> Document:
    document = uow.session.get(Document, document_id)
    if document is None:
        raise NotFoundError(f"no document {document_id}")
    access.require(actor, permission, document)
    return document


def get_document(uow: UnitOfWork, *, actor: Actor, document_id: int) -> DocumentView:
    """Metadata and OCR text of a document. Requires permission_document_view."""
    with uow:
        document = _load(uow, actor, permission_document_view, document_id)
        full_text = access.may_see_pii(actor, document) and not document.is_shredded
        key = document_key(uow, document) if full_text else b""
        pages = []
        for page in document.pages:
            text = page.ocr_text or ""
            if full_text and page.text_object_key:
                with uow.store.open(page.text_object_key, data_key=key) as stream:
                    text = stream.read().decode("utf-8")
            pages.append(PageView(page.number, page.ocr_status, text, page.ocr_confidence,
                                  page.rescan_needed, page.ocr_error))
        view = DocumentView(
            id=document.id, archive_code=document.archive_code, title=document.title,
            document_type=document.document_type, classification=document.classification,
            retention=document.retention, department=document.department.code,
            original_or_copy=document.original_or_copy, status=document.status,
            failure_reason=document.failure_reason, document_date=document.document_date,
            source_filename=document.source_filename, media_type=document.media_type,
            size_bytes=document.size_bytes, content_sha256=document.content_sha256,
            customer_id=document.customer_id, customer_name=document.customer.name,
            customer_identity=shown_identity(document.customer, actor, uow.keyring),
            dossier=document.dossier.title if document.dossier else "", captured_at=document.captured_at,
            may_download=access.allows(actor, permission_document_download, document), pages=pages,
        )
        audit.record(uow.session, actor, event_document_viewed, target_type="document", target_id=document.id,
                     archive_code=document.archive_code)
        uow.commit()
        return view


def open_page_image(uow: UnitOfWork, *, actor: Actor, document_id: int, number: int) -> BinaryIO:
    """A decrypting stream of a page image (PNG). Requires permission_document_view."""
    with uow:
        document = _load(uow, actor, permission_document_view, document_id)
        page = uow.session.scalar(select(Page).where(Page.document_id == document.id, Page.number == number))
        if page is None:
            raise NotFoundError(f"document {document_id} has no page {number}")
        key = document_key(uow, document)
        audit.record(uow.session, actor, event_page_image_viewed, target_type="document",
                     target_id=document.id, page=number)
        uow.commit()
    return uow.store.open(page.object_key, data_key=key)


def open_original(uow: UnitOfWork, *, actor: Actor, document_id: int) -> tuple[BinaryIO, str, str]:
    """(stream, filename, media type) of the captured file. Requires permission_document_download."""
    with uow:
        document = _load(uow, actor, permission_document_download, document_id)
        key = document_key(uow, document)
        audit.record(uow.session, actor, event_document_downloaded, target_type="document",
                     target_id=document.id, archive_code=document.archive_code)
        uow.commit()
    return uow.store.open(document.object_key, data_key=key), document.source_filename, document.media_type
