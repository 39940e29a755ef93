"""Background jobs on Huey: SQLite storage embedded, Redis scale-out. Tasks call services only.

OCR runs one job per page with retries and exponential backoff (Huey's retry_backoff: 5, 10, 20 s).
A page that cannot be read or recognised fails at once with the reason (retrying will not help); any
other error is retried, and when the retries are spent the page is marked failed with the last error.
A worker killed mid-page loses nothing: the page stays pending, and every consumer re-queues pending
pages when it starts and, every 10 minutes, those whose job started over STALLED_AFTER ago.

Periodic: the fixity check (verify every object, then sweep uncommitted leftovers) runs daily at
02:00 UTC, acting as `system:fixity`, in every long-running consumer (`archive worker`, and
`archive serve` in the embedded deployment); a task lock lets one run at a time. The short-lived
consumer of `ingest --wait` skips it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, Task
from huey.consumer import Consumer

from archive.actors import Actor
from archive.config import Settings
from archive.permissions import permission_integrity_verify

if TYPE_CHECKING:
    from archive.bootstrap import Archive

log = logging.getLogger(__name__)

FIXITY_SCHEDULE = crontab(minute="0", hour="2")  # daily, 02:00 UTC (Huey's clock is UTC)
FIXITY_ACTOR = Actor.system("fixity", frozenset({permission_integrity_verify}))
SWEEP_GRACE = timedelta(hours=1)
STALLED_SCHEDULE = crontab(minute="*/10")
# Longer than any page takes (tesseract gives up after 300 s): a job started earlier lost its worker.
STALLED_AFTER = timedelta(minutes=15)
OCR_RETRIES, OCR_RETRY_DELAY, OCR_RETRY_BACKOFF = 3, 5.0, 2.0


def build_huey(settings: Settings) -> Huey:
    if settings.queue == "redis":
        return RedisHuey("archive", url=settings.redis_url)
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("archive", filename=str(settings.queue_path), timeout=30)


class JobQueue:
    """The archive's tasks, registered on one Huey instance per process."""

    def __init__(self, archive: Archive, *, ocr_retries: int = OCR_RETRIES,
                 ocr_retry_delay: float = OCR_RETRY_DELAY) -> None:
        from archive.compliance import tasks as compliance_tasks
        from archive.services import indexing, integrity, recognition

        self.huey = build_huey(archive.settings)
        attempts = ocr_retries + 1

        def ocr_page(page_id: int, task: Task | None = None) -> None:
            """Recognise one page; on the last attempt an error marks the page failed with it.
            Returns None so Huey stores no result nobody reads."""
            try:
                recognition.recognize_page(archive.uow(), page_id=page_id)
            except Exception as error:
                if task is None or not task.retries:
                    recognition.mark_page_failed(
                        archive.uow(), page_id=page_id,
                        reason=f"OCR failed after {attempts} attempts: {error or type(error).__name__}")
                raise

        self._ocr_page = self.huey.task(name="ocr_page", retries=ocr_retries, retry_delay=ocr_retry_delay,
                                        retry_backoff=OCR_RETRY_BACKOFF, context=True)(ocr_page)
        def drain_outbox() -> None:
            """Index what the outbox holds; returns None so Huey stores no result nobody reads."""
            indexing.drain_outbox(archive.uow())

        self._drain_outbox = self.huey.task(name="drain_outbox", retries=5, retry_delay=2, retry_backoff=2)(
            drain_outbox
        )

        def check_fixity() -> None:
            """Verify every object, then sweep leftovers of captures that never committed."""
            # Every `archive worker` schedules periodic tasks; the lock lets one run at a time.
            with self.huey.lock_task("check_fixity"):
                report = integrity.verify_archive(archive.uow(), actor=FIXITY_ACTOR,
                                                  orphans_older_than=SWEEP_GRACE)
                swept = integrity.sweep_orphans(archive.uow(), actor=FIXITY_ACTOR, older_than=SWEEP_GRACE)
            log.info("fixity run %s: %d problems; swept %d objects", report.run_id, len(report.problems),
                     len(swept))

        self.check_fixity = check_fixity
        self._fixity = self.huey.periodic_task(FIXITY_SCHEDULE, name="check_fixity")(check_fixity)

        def requeue_stalled() -> None:
            """Queue again the pages whose job started long ago and never finished (its worker died)."""
            with self.huey.lock_task("requeue_stalled_ocr"):  # every consumer schedules it; one runs
                page_ids = recognition.stalled_page_ids(archive.uow(), started_before=STALLED_AFTER)
                self.enqueue_ocr(page_ids)
            if page_ids:
                log.warning("re-queued %d pages whose OCR worker stopped mid-page", len(page_ids))

        self.requeue_stalled = requeue_stalled
        self._stalled = self.huey.periodic_task(STALLED_SCHEDULE, name="requeue_stalled_ocr")(requeue_stalled)
        compliance_tasks.register(self, archive)  # audit checkpoints (archive/compliance/tasks.py)

    def enqueue_ocr(self, page_ids: list[int]) -> None:
        for page_id in page_ids:
            self._ocr_page(page_id)

    def enqueue_indexing(self) -> None:
        self._drain_outbox()

    def requeue_unfinished(self, archive: Archive) -> int:
        """Queue OCR for pages still pending and drain the outbox: a crash between a commit and
        its enqueue must not leave a document processing forever. Jobs are idempotent."""
        from archive.services.recognition import pending_page_ids

        page_ids = pending_page_ids(archive.uow())
        self.enqueue_ocr(page_ids)
        self.enqueue_indexing()
        return len(page_ids)

    def consumer(self, workers: int, *, periodic: bool = False) -> Consumer:
        """A thread consumer for embedding in another program (`serve`, `ingest --wait`)."""
        consumer = self.huey.create_consumer(workers=workers, worker_type="thread", periodic=periodic)
        # Huey installs process signal handlers on start; embedded in `serve` or `ingest --wait`
        # the host program owns the signals, so leave them alone.
        consumer._set_signal_handlers = lambda: None  # type: ignore[method-assign]
        return consumer

    def pending(self) -> int:
        return self.huey.pending_count() + self.huey.scheduled_count()

    def run_until(self, done: Callable[[], bool], *, workers: int = 2, timeout: float = 600.0,
                  poll: float = 0.2, on_tick: Callable[[], None] | None = None) -> bool:
        """Process jobs in this process until done() is true; return False on timeout."""
        consumer = self.consumer(workers)
        consumer.start()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if on_tick:
                    on_tick()
                if done():
                    return True
                time.sleep(poll)
            return False
        finally:
            consumer.stop(graceful=True)

    def run_pending(self, *, workers: int = 2, timeout: float = 600.0) -> bool:
        """Process jobs until the queue is empty and nothing is in flight."""
        return self.run_until(
            lambda: self.pending() == 0 and not self.huey._tasks_in_flight, workers=workers, timeout=timeout
        )
