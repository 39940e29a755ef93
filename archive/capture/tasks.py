"""Capture's jobs: OCR of one page, with retries; and re-queueing pages whose worker died.

OCR runs one job per page with retries and exponential backoff (5, 10, 20 s). A page that cannot be
read or recognised fails at once with the reason (retrying will not help); any other error is retried,
and when the retries are spent the page is marked failed with the last error. A worker killed mid-page
loses nothing: the page stays pending, every worker re-queues pending pages as it starts, and every
10 minutes those whose job started over STALLED_AFTER ago. Both sweeps also settle a document left
processing with every page finished.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from huey.api import Task

from archive.capture import recognition
from archive.registry import TaskRegistry
from archive.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

REQUEUE_STALLED = "requeue_stalled_ocr"
REQUEUE_UNFINISHED = "requeue_unfinished_ocr"
OCR_RETRIES, OCR_RETRY_DELAY, OCR_RETRY_BACKOFF = 3, 5.0, 2.0
# Longer than any page takes (tesseract gives up after 300 s): a job started earlier lost its worker.
STALLED_AFTER = timedelta(minutes=15)


def register(queue: TaskRegistry, new_uow: Callable[[], UnitOfWork]) -> None:
    @queue.task(recognition.OCR_PAGE, retries=OCR_RETRIES, retry_delay=OCR_RETRY_DELAY,
                retry_backoff=OCR_RETRY_BACKOFF, context=True)
    def ocr_page(page_id: int, task: Task | None = None) -> None:
        """Recognise one page; on the last attempt an error marks the page failed with it.
        Returns None so Huey stores no result nobody reads."""
        try:
            recognition.recognize_page(new_uow(), page_id=page_id)
        except Exception as error:
            if task is None or not task.retries:
                attempts = (task.default_retries if task else 0) + 1
                recognition.mark_page_failed(
                    new_uow(), page_id=page_id,
                    reason=f"OCR failed after {attempts} attempts: {error or type(error).__name__}")
            raise

    @queue.periodic(REQUEUE_STALLED, minute="*/10")
    def requeue_stalled() -> None:
        """Queue again the pages whose job started long ago and never finished (its worker died)."""
        with queue.lock(REQUEUE_STALLED):  # every consumer schedules it; one runs
            page_ids = recognition.stalled_page_ids(new_uow(), started_before=STALLED_AFTER)
            for page_id in page_ids:
                queue.enqueue(recognition.OCR_PAGE, page_id)
            _settle_finished()
        if page_ids:
            log.warning("re-queued %d pages whose OCR worker stopped mid-page", len(page_ids))

    @queue.task(REQUEUE_UNFINISHED)
    def requeue_unfinished() -> None:
        """Queue OCR for pages still pending: a crash between a commit and its enqueue must not leave a
        document processing forever."""
        page_ids = recognition.pending_page_ids(new_uow())
        for page_id in page_ids:
            queue.enqueue(recognition.OCR_PAGE, page_id)
        if page_ids:
            log.info("queued OCR again for %d pending pages", len(page_ids))
        _settle_finished()

    def _settle_finished() -> None:
        if settled := recognition.settle_finished_documents(new_uow()):
            log.warning("settled %d documents left processing with every page finished", settled)

    queue.on_start(REQUEUE_UNFINISHED)
