"""The core's jobs: drain the search outbox; the daily fixity check (02:00 UTC, as `system:fixity`):
verify every object, then sweep leftovers of captures that never committed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from archive.actors import FIXITY_ACTOR
from archive.registry import TaskRegistry
from archive.services import indexing, integrity
from archive.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CHECK_FIXITY = "check_fixity"
SWEEP_GRACE = timedelta(hours=1)


def register(queue: TaskRegistry, new_uow: Callable[[], UnitOfWork]) -> None:
    @queue.task(indexing.DRAIN_OUTBOX, retries=5, retry_delay=2, retry_backoff=2)
    def drain_outbox() -> None:
        """Index what the outbox holds; returns None so Huey stores no result nobody reads."""
        indexing.drain_outbox(new_uow())

    @queue.periodic(CHECK_FIXITY, minute="0", hour="2")
    def check_fixity() -> None:
        with queue.lock(CHECK_FIXITY):
            report = integrity.verify_archive(new_uow(), actor=FIXITY_ACTOR, orphans_older_than=SWEEP_GRACE)
            swept = integrity.sweep_orphans(new_uow(), actor=FIXITY_ACTOR, older_than=SWEEP_GRACE)
        log.info("fixity run %s: %d problems; swept %d objects", report.run_id, len(report.problems), len(swept))

    queue.on_start(indexing.DRAIN_OUTBOX)
