"""What capture, OCR and the rescan loop return: frozen values, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RescanItemView:
    """A page a clerk should scan again: OCR confidence below the threshold, or OCR failed."""

    document_id: int
    archive_code: str
    title: str
    customer_name: str
    number: int
    version: int
    ocr_status: str
    ocr_confidence: float | None
    ocr_error: str | None


@dataclass(frozen=True)
class RescanList:
    total: int
    threshold: float
    items: list[RescanItemView]


@dataclass(frozen=True)
class PageReplacementResult:
    document_id: int
    archive_code: str
    number: int
    version: int  # the new current version
    sha256: str  # of the uploaded file


@dataclass(frozen=True)
class OcrRerunResult:
    documents: dict[int, str]  # id: archive code, of every document queued again
    pages_queued: int


@dataclass(frozen=True)
class CaptureResult:
    document_id: int
    archive_code: str
    page_count: int
    customer_id: int


@dataclass(frozen=True)
class OcrProgress:
    pages_total: int
    pages_done: int
    pages_failed: int
    status: str = ""  # the document's (processing, ready, failed), when one document is meant
    failure_reason: str | None = None
    rescan_pages: tuple[int, ...] = ()  # page numbers read, but below ARCHIVE_RESCAN_THRESHOLD

    @property
    def all_recognised(self) -> bool:
        """Every page was read, none failed and none needs a new scan."""
        return self.finished and not self.pages_failed and not self.rescan_pages

    @property
    def finished(self) -> bool:
        return self.pages_done + self.pages_failed >= self.pages_total


@dataclass(frozen=True)
class CaptureQueueItem:
    """A captured document whose OCR is still running."""

    document_id: int
    archive_code: str
    title: str
    customer_name: str
    captured_at: datetime
    pages_total: int
    pages_done: int
    pages_failed: int


@dataclass(frozen=True)
class CaptureQueue:
    total: int
    items: list[CaptureQueueItem]
