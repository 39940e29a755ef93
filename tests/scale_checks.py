"""What the scale-out tests and the fault soak measure in the end state: nothing lost, nothing dangling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from archive.actors import FIXITY_ACTOR, Actor
from archive.models import Document, JobOutbox, Page, SearchOutbox
from archive.services import integrity

VERIFIER = Actor.system("test-scale", FIXITY_ACTOR.extra_permissions)


@dataclass(frozen=True)
class EndState:
    """Pages still pending or failed, outbox rows left, and what a fixity run finds."""

    pending: int
    failed: int
    job_outbox: int
    search_outbox: int
    missing: int
    corrupted: int
    dangling: int
    reasons: tuple[str, ...] = ()  # why pages failed
    problems: tuple[str, ...] = ()  # what the fixity run found (kind: object key)

    @property
    def complete(self) -> bool:
        return self.pending == 0 and self.job_outbox == 0 and self.search_outbox == 0

    @property
    def lost(self) -> int:
        """Pages that will never be read (failed or missing objects): what a fault must not cause."""
        return self.failed + self.missing + self.corrupted


def settled(archive: Any) -> bool:
    """Say whether every page is recognised and both outboxes are empty."""
    with archive.uow() as uow:
        pending = uow.session.scalar(select(func.count(Page.id)).where(Page.ocr_status == "pending"))
        processing = uow.session.scalar(select(func.count(Document.id)).where(Document.status == "processing"))
        rows = (uow.session.scalar(select(func.count(JobOutbox.id)))
                + uow.session.scalar(select(func.count(SearchOutbox.id))))
    return pending == 0 and processing == 0 and rows == 0


def end_state(archive: Any, *, fixity: bool = True) -> EndState:
    with archive.uow() as uow:
        def count(model: Any, *where: Any) -> int:
            return uow.session.scalar(select(func.count(model.id)).where(*where)) or 0

        # A page whose document was shredded before its OCR ran fails as "document shredded": not a loss.
        failed = (Page.ocr_status == "failed", Page.document_id.in_(select(Document.id).where(~Document.is_shredded)))
        state = dict(pending=count(Page, Page.ocr_status == "pending"), failed=count(Page, *failed),
                     job_outbox=count(JobOutbox), search_outbox=count(SearchOutbox),
                     reasons=tuple(uow.session.scalars(select(Page.ocr_error).where(*failed))))
    missing = corrupted = dangling = 0
    if fixity:
        report = integrity.verify_archive(archive.uow(), actor=VERIFIER, orphans_older_than=timedelta(0))
        missing, corrupted, dangling = (report.count(kind) for kind in ("missing", "corrupted", "orphaned"))
        state["problems"] = tuple(f"{p.kind}: {p.object_key} {p.detail}" for p in report.problems)
    return EndState(**state, missing=missing, corrupted=corrupted, dangling=dangling)


def document_ids(archive: Any) -> list[int]:
    with archive.uow() as uow:
        return list(uow.session.scalars(select(Document.id).order_by(Document.id)))


def pages_started(archive: Any) -> int:
    """Pages a worker is recognising right now (started, not finished)."""
    with archive.uow() as uow:
        return uow.session.scalar(select(func.count(Page.id)).where(
            Page.ocr_status == "pending", Page.ocr_started_at.is_not(None))) or 0


def search_outbox_rows(archive: Any) -> int:
    with archive.uow() as uow:
        return uow.session.scalar(select(func.count(SearchOutbox.id))) or 0
