"""Capture's use cases: capture a file, replace a page with a new scan, list the pages to scan again.

Capture and replacement are two step lists (steps.py) over the one runner (runner.py); a refusal of
the file itself (a ValidationError, or a duplicate for capture) is audited with the reason.

The rescan loop: pages OCR read poorly (or not at all) are listed for clerks, who upload a new scan.
The replacement keeps the page's current version as a PageVersion and makes the new image the page
(same number, version + 1), queued for OCR and re-indexing. A crash between storing and recording
leaves objects under a fresh prefix that the fixity sweep removes.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select

from archive import access, audit
from archive.actors import Actor
from archive.capture.events import event_document_capture_refused, event_page_replacement_refused
from archive.capture.permissions import permission_document_capture, permission_page_rescan
from archive.capture.runner import run_steps
from archive.capture.steps import (
    CAPTURE_STEPS,
    REPLACEMENT_STEPS,
    CaptureContext,
    CaptureRequest,
    PageReplacementRequest,
)
from archive.capture.views import (
    CaptureQueue,
    CaptureQueueItem,
    CaptureResult,
    PageReplacementResult,
    RescanItemView,
    RescanList,
)
from archive.errors import DuplicateDocumentError, ValidationError
from archive.events import event_documents_browsed
from archive.models import Customer, Document, Page
from archive.pii import redact
from archive.unit_of_work import UnitOfWork

__all__ = ["CaptureRequest", "PageReplacementRequest", "capture_document", "list_capture_queue", "list_rescan_pages",
           "replace_page"]

MAX_LIST = 500


def capture_document(uow: UnitOfWork, *, actor: Actor, request: CaptureRequest) -> CaptureResult:
    """Capture one file. Requires permission_document_capture; refusals are audited."""
    ctx = CaptureContext(actor=actor, request=request)
    try:
        run_steps(CAPTURE_STEPS, uow, ctx)
    except (ValidationError, DuplicateDocumentError) as error:
        _audit_refusal(uow, ctx, event_document_capture_refused, str(error))
        raise
    assert isinstance(ctx.result, CaptureResult)
    return ctx.result


def replace_page(uow: UnitOfWork, *, actor: Actor, request: PageReplacementRequest) -> PageReplacementResult:
    """Make a new scan the page, keeping the previous version viewable. Requires permission_page_rescan
    on the document. Raises NotFoundError, DocumentShreddedError, ValidationError (refusals are
    audited as page.replacement_refused), AccessDenied (audited)."""
    ctx = CaptureContext(actor=actor, request=request)
    try:
        run_steps(REPLACEMENT_STEPS, uow, ctx)
    except ValidationError as error:
        _audit_refusal(uow, ctx, event_page_replacement_refused, str(error), target_type="document",
                       target_id=request.document_id, page=request.number)
        raise
    assert isinstance(ctx.result, PageReplacementResult)
    return ctx.result


def _audit_refusal(uow: UnitOfWork, ctx: CaptureContext, event_type: str, reason: str, **detail: object) -> None:
    with uow:
        audit.record(uow.session, ctx.actor, event_type, outcome="failed", filename=ctx.display_name,
                     reason=redact(reason), **detail)
        uow.commit()


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


def list_capture_queue(uow: UnitOfWork, *, actor: Actor, limit: int = 20) -> CaptureQueue:
    """Documents in the actor's capture scope whose OCR is still running, oldest first, with their page
    counts. Requires permission_document_capture."""
    limit = min(max(limit, 1), MAX_LIST)
    with uow:
        scope = access.visible(actor, permission_document_capture)
        wanted = and_(Document.status == "processing", scope.documents())
        total = uow.session.scalar(select(func.count(Document.id)).where(wanted)) or 0
        pages = (select(Page.document_id,
                        func.count(Page.id).label("total"),
                        func.sum(case((Page.ocr_status == "done", 1), else_=0)).label("done"),
                        func.sum(case((Page.ocr_status == "failed", 1), else_=0)).label("failed"))
                 .group_by(Page.document_id).subquery())
        rows = uow.session.execute(
            select(Document.id, Document.archive_code, Document.title, Customer.name, Document.captured_at,
                   func.coalesce(pages.c.total, 0), func.coalesce(pages.c.done, 0), func.coalesce(pages.c.failed, 0))
            .join(Customer, Customer.id == Document.customer_id)
            .outerjoin(pages, pages.c.document_id == Document.id)
            .where(wanted).order_by(Document.captured_at, Document.id).limit(limit)
        ).all()
        audit.record(uow.session, actor, event_documents_browsed, by="capture_queue", documents=len(rows))
        uow.commit()
    return CaptureQueue(total=total, items=[CaptureQueueItem(*row) for row in rows])
