"""Background jobs on Huey: SQLite storage embedded, Redis scale-out. Tasks call services only.

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
from huey.api import Huey
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


def build_huey(settings: Settings) -> Huey:
    if settings.queue == "redis":
        return RedisHuey("archive", url=settings.redis_url)
    settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("archive", filename=str(settings.queue_path), timeout=30)


class JobQueue:
    """The archive's tasks, registered on one Huey instance per process."""

    def __init__(self, archive: Archive) -> None:
        from archive.services import indexing, integrity, recognition

        self.huey = build_huey(archive.settings)
        self._ocr_page = self.huey.task(name="ocr_page", retries=3, retry_delay=5, retry_backoff=2)(
            lambda page_id: recognition.recognize_page(archive.uow(), page_id=page_id)
        )
        self._drain_outbox = self.huey.task(name="drain_outbox", retries=5, retry_delay=2, retry_backoff=2)(
            lambda: indexing.drain_outbox(archive.uow())
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
