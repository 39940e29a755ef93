"""The core's jobs: drain the search outbox; queue what the job outbox holds (at start and every
minute: jobs a down queue could not take); the daily fixity check (02:00 UTC, as `system:fixity`):
verify every object, then sweep leftovers of captures that never committed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from archive.actors import FIXITY_ACTOR
from archive.registry import TaskRegistry
from archive.services import indexing, integrity, job_outbox
from archive.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CHECK_FIXITY = "check_fixity"
FLUSH_EVERY_MINUTE = "flush_job_outbox_every_minute"
SWEEP_GRACE = timedelta(hours=1)


def register(queue: TaskRegistry, new_uow: Callable[[], UnitOfWork]) -> None:
    @queue.task(indexing.DRAIN_OUTBOX, coalesce=True, retries=5, retry_delay=2, retry_backoff=2)
    def drain_outbox() -> None:
        """Index what the outbox holds; returns None so Huey stores no result nobody reads."""
        indexing.drain_outbox(new_uow())

    @queue.task(job_outbox.FLUSH_JOB_OUTBOX)
    def flush_job_outbox() -> None:
        """Queue the jobs an unavailable queue left in the job outbox, and a drain if index work waits."""
        queued = job_outbox.flush_job_outbox(new_uow())
        if queued:
            log.warning("queued %d jobs that waited in the job outbox", queued)
        if indexing.outbox_waiting(new_uow()):
            queue.enqueue_anew(indexing.DRAIN_OUTBOX)

    @queue.periodic(FLUSH_EVERY_MINUTE, minute="*")
    def flush_job_outbox_every_minute() -> None:
        with queue.lock(FLUSH_EVERY_MINUTE):  # every consumer schedules it; one runs
            flush_job_outbox()

    @queue.periodic(CHECK_FIXITY, minute="0", hour="2")
    def check_fixity() -> None:
        with queue.lock(CHECK_FIXITY):
            report = integrity.verify_archive(new_uow(), actor=FIXITY_ACTOR, orphans_older_than=SWEEP_GRACE)
            swept = integrity.sweep_orphans(new_uow(), actor=FIXITY_ACTOR, older_than=SWEEP_GRACE)
        log.info("fixity run %s: %d problems; swept %d objects", report.run_id, len(report.problems), len(swept))

    queue.on_start(indexing.DRAIN_OUTBOX)
    queue.on_start(job_outbox.FLUSH_JOB_OUTBOX)
