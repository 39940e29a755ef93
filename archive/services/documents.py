"""Reading documents: metadata, page images, OCR text and word boxes, earlier page versions, the original.
Every read is audited."""

from __future__ import annotations

import io
import json
import re
import tempfile
from typing import BinaryIO

from PIL import Image
from sqlalchemy import func, select

from archive import access, audit, page_images, registry
from archive.actors import Actor
from archive.errors import DocumentShreddedError, NotFoundError, PageImagePendingError
from archive.events import (
    event_document_downloaded,
    event_document_viewed,
    event_documents_browsed,
    event_page_image_viewed,
    event_page_version_viewed,
    event_page_words_viewed,
)
from archive.models import AuditEvent, Customer, Document, Page, PageVersion, User, as_utc
from archive.permissions import permission_document_download, permission_document_view, permission_pii_view
from archive.services import metadata
from archive.services.customers import shown_identity
from archive.unit_of_work import UnitOfWork
from archive.views import (
    DocumentLink,
    DocumentView,
    PageVersionSummary,
    PageVersionView,
    PageView,
    PageWordsView,
    RecentDocuments,
    WordBoxView,
)
from storage.envelope import WrappedKey


def document_key(uow: UnitOfWork, document: Document) -> bytes:
    """The document's data key; raises DocumentShreddedError once the key was destroyed."""
    if document.is_shredded:
        raise DocumentShreddedError(document.id, document.archive_code)
    return uow.keyring.unwrap(WrappedKey(document.key_id, document.cipher, document.wrapped_key))


def _load(uow: UnitOfWork, actor: Actor, permission: str, document_id: int) -> Document:
    document = uow.session.get(Document, document_id)
    if document is None:
        raise NotFoundError(f"no document {document_id}")
    access.require(actor, permission, document)
    return document


def _page(uow: UnitOfWork, document: Document, number: int, version: int | None) -> Page | PageVersion:
    """The page as it is now, or one of its earlier versions; NotFoundError if there is no such one."""
    page = uow.session.scalar(select(Page).where(Page.document_id == document.id, Page.number == number))
    if page is None:
        raise NotFoundError(f"document {document.id} has no page {number}")
    if version is None or version == page.version:
        return page
    earlier = uow.session.scalar(select(PageVersion).where(PageVersion.page_id == page.id,
                                                           PageVersion.version == version))
    if earlier is None:
        raise NotFoundError(f"page {number} of document {document.id} has no version {version}")
    return earlier


def _with_image(page: Page | PageVersion) -> Page | PageVersion:
    """The page, once its image is stored (a captured PDF's pages wait for a worker to render them)."""
    if isinstance(page, Page) and not page.image_ready:
        raise PageImagePendingError(page.number)
    return page


def _read_text(uow: UnitOfWork, key: str, data_key: bytes) -> str:
    with uow.store.open(key, data_key=data_key) as stream:
        return stream.read().decode("utf-8")


def get_document(uow: UnitOfWork, *, actor: Actor, document_id: int) -> DocumentView:
    """Metadata and OCR text of a document. Requires permission_document_view."""
    with uow:
        document = _load(uow, actor, permission_document_view, document_id)
        full_text = access.may_see_pii(actor, document) and not document.is_shredded
        key = document_key(uow, document) if full_text else b""
        earlier: dict[int, list[PageVersionSummary]] = {}
        rows = uow.session.execute(
            select(PageVersion.number, PageVersion.version, PageVersion.superseded_at, PageVersion.ocr_confidence)
            .where(PageVersion.document_id == document.id).order_by(PageVersion.number, PageVersion.version)
        )
        for row in rows:
            earlier.setdefault(row.number, []).append(
                PageVersionSummary(row.version, as_utc(row.superseded_at), row.ocr_confidence))
        pages = []
        for page in document.pages:
            text = page.ocr_text or ""
            if full_text and page.text_object_key:
                text = _read_text(uow, page.text_object_key, key)
            pages.append(PageView(page.number, page.ocr_status, text, page.ocr_confidence,
                                  page.rescan_needed, page.ocr_error, page.version, earlier.get(page.number, []),
                                  page.image_ready, page.width, page.height))
        refused = access.why_not(actor, permission_document_download, document)
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
            may_download=not refused, download_refused=refused, pages=pages,
            actions=frozenset() if document.is_shredded else access.allowed_actions(actor, document),
            filed_at=document.filed_at, late_capture_reason=document.late_capture_reason,
            contract_end_date=document.contract_end_date, history=document.is_history(uow.clock.today()),
            dossier_id=document.dossier_id, work_order=document.work_order or "",
            business_step=document.business_step or "", box=document.box or "", shelf=document.shelf or "",
            edits=metadata.metadata_history(uow.session, document.id),
        )
        audit.record(uow.session, actor, event_document_viewed, target_type="document", target_id=document.id,
                     archive_code=document.archive_code)
        uow.commit()
        return view


def open_page_image(uow: UnitOfWork, *, actor: Actor, document_id: int, number: int,
                    version: int | None = None) -> BinaryIO:
    """A decrypting stream of a page image (PNG), the current one or an earlier version.
    Requires permission_document_view."""
    with uow:
        document = _load(uow, actor, permission_document_view, document_id)
        page = _with_image(_page(uow, document, number, version))
        key = document_key(uow, document)
        detail: dict[str, object] = {"page": number} if version is None else {"page": number, "version": page.version}
        grant, marker = access.via_grant(actor, permission_document_view, document), registry.lending()
        hidden = _hidden(uow, actor, document, page, key)
        if grant is not None and marker is not None:
            detail["watermarked"] = True
        if hidden is not None:
            detail["redacted"] = "withheld" if hidden == WITHHELD else len(hidden)
        audit.record(uow.session, actor, event_page_image_viewed, target_type="document",
                     target_id=document.id, **detail)
        uow.commit()
    stream = uow.store.open(page.object_key, data_key=key)
    if hidden is None and (grant is None or marker is None):
        return stream  # as stored: nothing to hide, nothing to mark
    image = _shown(stream, hidden)
    if grant is not None and marker is not None:  # served under a borrow grant: marked, never the original
        return marker.page(image, grant, actor, uow.keyring)
    return io.BytesIO(page_images.encode_png(image))


WITHHELD: list[page_images.Box] = []  # _hidden's answer for a page whose personal data cannot be located
_MASKED = re.compile(r"\*{4,}")  # how redacted OCR text shows an identifier it found


def _hidden(uow: UnitOfWork, actor: Actor, document: Document, page: Page | PageVersion,
            key: bytes) -> list[page_images.Box] | None:
    """What to black out of the page for this actor: None when nothing (they may see PII, or the page
    has none), the boxes, or WITHHELD when the page's numbers cannot be located (no word boxes)."""
    if access.may_see_pii(actor, document):
        return None
    if page.words_object_key:
        words = json.loads(_read_text(uow, page.words_object_key, key))["words"]
        return page_images.pii_boxes(words) or None
    if page.ocr_status == "done" and not _MASKED.search(page.ocr_text or ""):
        return None  # recognised (or a text layer) and no identifier in it
    return WITHHELD


def _shown(stream: BinaryIO, hidden: list[page_images.Box] | None) -> Image.Image:
    with stream, Image.open(stream) as stored:
        if hidden is WITHHELD:
            return page_images.withheld(stored.size)
        stored.load()
        return page_images.black_out(stored, hidden) if hidden else stored.copy()


def get_page_version(uow: UnitOfWork, *, actor: Actor, document_id: int, number: int,
                     version: int) -> PageVersionView:
    """An earlier version of a page: its OCR text (in full to those who may see PII) and when it was
    replaced. Requires permission_document_view; audited as page.version_viewed."""
    with uow:
        document = _load(uow, actor, permission_document_view, document_id)
        page = _page(uow, document, number, version)
        if not isinstance(page, PageVersion):
            raise NotFoundError(f"version {version} of page {number} is the current one")
        text = page.ocr_text or ""
        if page.text_object_key and access.may_see_pii(actor, document):
            text = _read_text(uow, page.text_object_key, document_key(uow, document))
        replaced_by = uow.session.get(User, page.superseded_by_id) if page.superseded_by_id else None
        current = uow.session.scalar(select(Page.version).where(Page.id == page.page_id))
        view = PageVersionView(
            document_id=document.id, archive_code=document.archive_code, title=document.title,
            number=number, version=page.version, current_version=current or page.version, width=page.width,
            height=page.height, ocr_status=page.ocr_status, ocr_text=text, ocr_confidence=page.ocr_confidence,
            ocr_error=page.ocr_error, created_at=as_utc(page.created_at), superseded_at=as_utc(page.superseded_at),
            superseded_by=replaced_by.username if replaced_by else "",
        )
        audit.record(uow.session, actor, event_page_version_viewed, target_type="document",
                     target_id=document.id, page=number, version=page.version)
        uow.commit()
        return view


def get_page_words(uow: UnitOfWork, *, actor: Actor, document_id: int, number: int,
                   version: int | None = None) -> PageWordsView:
    """The recognised words of a page with their boxes in the page image's pixels (to highlight hits).

    They hold PII, so this requires permission_document_view and permission_pii_view on the document;
    audited as page.words_viewed. A page without word boxes (not yet recognised, or a PDF text layer)
    gives an empty list.
    """
    with uow:
        document = _load(uow, actor, permission_document_view, document_id)
        access.require(actor, permission_pii_view, document)
        page = _page(uow, document, number, version)
        stored = {"width": page.width, "height": page.height, "words": []}
        if page.words_object_key:
            stored = json.loads(_read_text(uow, page.words_object_key, document_key(uow, document)))
        audit.record(uow.session, actor, event_page_words_viewed, target_type="document", target_id=document.id,
                     page=number, version=page.version, words=len(stored["words"]))
        uow.commit()
    return PageWordsView(document_id, number, page.version, stored["width"], stored["height"],
                         [WordBoxView(**word) for word in stored["words"]])


def open_original(uow: UnitOfWork, *, actor: Actor, document_id: int) -> tuple[BinaryIO, str, str]:
    """(stream, filename, media type) of the captured file. Requires permission_document_download.
    Under a borrow grant it is a PDF of the watermarked page images instead, built on disk."""
    with uow:
        document = _load(uow, actor, permission_document_download, document_id)
        key = document_key(uow, document)
        grant, marker = access.via_grant(actor, permission_document_download, document), registry.lending()
        marked = grant is not None and marker is not None
        if marked:  # made of the page images
            for page in document.pages:
                _with_image(page)
        audit.record(uow.session, actor, event_document_downloaded, target_type="document",
                     target_id=document.id, archive_code=document.archive_code, **({"watermarked": True} if marked
                                                                                     else {}))
        uow.commit()
        pages = sorted(document.pages, key=lambda p: p.number)
        hidden = [_hidden(uow, actor, document, page, key) for page in pages] if marked else []
    if grant is not None and marker is not None:
        out = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 - the caller streams and closes it
        images = (_shown(uow.store.open(page.object_key, data_key=key), hide) for page, hide in zip(pages, hidden,
                                                                                                     strict=True))
        marker.pdf(images, grant, actor, uow.keyring, out)
        out.seek(0)
        return out, f"{document.archive_code}.pdf", "application/pdf"  # type: ignore[return-value]
    return uow.store.open(document.object_key, data_key=key), document.source_filename, document.media_type


THUMBNAIL_WIDTH = 160


def _thumbnail(uow: UnitOfWork, page: Page | PageVersion, key: bytes) -> Image.Image:
    """The page's unredacted thumbnail, made once from the page image and stored encrypted beside it."""
    thumb_key = f"{page.object_key}.thumb"
    if not uow.store.exists(thumb_key):
        with uow.store.open(page.object_key, data_key=key) as stream, Image.open(stream) as stored:
            small = stored.convert("L" if stored.mode in ("1", "L") else "RGB")
        small.thumbnail((THUMBNAIL_WIDTH, THUMBNAIL_WIDTH * 4))
        uow.store.put(thumb_key, io.BytesIO(page_images.encode_png(small, dpi=None)), data_key=key)
        return small  # just made: no need to read back what was stored
    with uow.store.open(thumb_key, data_key=key) as stream, Image.open(stream) as thumb:
        thumb.load()
        return thumb.copy()


def open_page_thumbnail(uow: UnitOfWork, *, actor: Actor, document_id: int, number: int) -> io.BytesIO:
    """A small PNG of the current page, redacted as its page image is for this actor.
    Requires permission_document_view; audited as page.image_viewed with thumbnail=True."""
    with uow:
        document = _load(uow, actor, permission_document_view, document_id)
        page = _with_image(_page(uow, document, number, None))
        key = document_key(uow, document)
        hidden = _hidden(uow, actor, document, page, key)
        detail: dict[str, object] = {"page": number, "thumbnail": True}
        if hidden is not None:
            detail["redacted"] = "withheld" if hidden is WITHHELD else len(hidden)
        audit.record(uow.session, actor, event_page_image_viewed, target_type="document",
                     target_id=document.id, **detail)
        uow.commit()
    thumb = _thumbnail(uow, page, key)
    if hidden is WITHHELD:
        thumb = page_images.withheld(thumb.size)
    elif hidden:
        scale = thumb.width / page.width
        boxes = [(int(left * scale), int(top * scale), int(right * scale) + 1, int(bottom * scale) + 1)
                 for left, top, right, bottom in hidden]
        thumb = page_images.black_out(thumb, boxes)
    return io.BytesIO(page_images.encode_png(thumb, dpi=None))


def _terms(query: str) -> list[str]:
    """The words of a search query worth highlighting: no field filters, no operators."""
    return [t.strip('"').lower() for t in query.split()
            if ":" not in t and t.upper() not in ("AND", "OR", "NOT") and t.strip('"')]


def get_hit_boxes(uow: UnitOfWork, *, actor: Actor, document_id: int, number: int,
                  query: str) -> tuple[int, int, list[page_images.Box]]:
    """(width, height, boxes) of the words of the current page that match the query's terms, never a
    word that is part of an ID or phone number. Requires permission_document_view; audited as
    page.words_viewed with hits (the query itself is not recorded: it may hold a number)."""
    with uow:
        document = _load(uow, actor, permission_document_view, document_id)
        page = _page(uow, document, number, None)
        words: list[dict] = []
        if page.words_object_key:
            words = json.loads(_read_text(uow, page.words_object_key, document_key(uow, document)))["words"]
        pii = set(page_images.pii_word_indices(words))
        text, owners = "", []
        for index, word in enumerate(words):
            text += word["text"].lower()
            owners += [index] * len(word["text"])
        hit: set[int] = set()
        for term in _terms(query):
            start = text.find(term)
            while start >= 0:
                hit |= {owners[i] for i in range(start, start + len(term))}
                start = text.find(term, start + 1)
        boxes = [(words[i]["left"], words[i]["top"], words[i]["left"] + words[i]["width"],
                  words[i]["top"] + words[i]["height"]) for i in sorted(hit - pii)]
        audit.record(uow.session, actor, event_page_words_viewed, target_type="document", target_id=document.id,
                     page=number, version=page.version, hits=len(boxes))
        uow.commit()
    return page.width, page.height, boxes


def list_recent_documents(uow: UnitOfWork, *, actor: Actor, limit: int = 10) -> RecentDocuments:
    """The documents the actor viewed lately (from their own entries in the audit trail) and the newest
    ones, both only as far as the actor may view them now. Requires permission_document_view (or a grant)."""
    limit = min(max(limit, 1), 50)
    with uow:
        scope = access.visible(actor, permission_document_view)
        seen = uow.session.execute(
            select(AuditEvent.target_id, func.max(AuditEvent.occurred_at).label("at"))
            .where(AuditEvent.actor_id == actor.user_id, AuditEvent.event_type == event_document_viewed,
                   AuditEvent.outcome == "ok", AuditEvent.target_type == "document")
            .group_by(AuditEvent.target_id).order_by(func.max(AuditEvent.occurred_at).desc()).limit(limit * 3)
        ).all()
        when = {int(target): at for target, at in seen if target.isdigit()}
        columns = (Document.id, Document.archive_code, Document.title, Document.document_type, Customer.name)
        shown = select(*columns, Document.captured_at).join(Customer, Customer.id == Document.customer_id).where(
            scope.documents(), ~Document.is_shredded)
        viewed = sorted(
            (DocumentLink(*row[:5], at=as_utc(when[row.id]))
             for row in uow.session.execute(shown.where(Document.id.in_(when))) if row.id in when),
            key=lambda link: link.at, reverse=True)[:limit]
        new = [DocumentLink(*row[:5], at=as_utc(row.captured_at))
               for row in uow.session.execute(shown.order_by(Document.captured_at.desc(), Document.id.desc())
                                              .limit(limit))]
        audit.record(uow.session, actor, event_documents_browsed, by="recent", documents=len(viewed) + len(new))
        uow.commit()
    return RecentDocuments(viewed=viewed, new=new)
