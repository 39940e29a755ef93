"""Retention's jobs: every day at 03:00 UTC, as `system:retention`, recompute every disposition date
(new captures get theirs, and a schedule or an event changed since is applied), then gather the records
that came due into their departments' appraisal batches; every day at 08:00 UTC, remind the people a batch
has waited for longer than ARCHIVE_APPRAISAL_REMIND_DAYS."""

from __future__ import annotations

import logging
from collections.abc import Callable

from archive.registry import TaskRegistry
from archive.unit_of_work import UnitOfWork
from retention.permissions import RETENTION_ACTOR
from retention.services.appraisal import gather_due_records
from retention.services.dispositions import refresh_dispositions
from retention.services.reminders import send_batch_reminders

log = logging.getLogger(__name__)

REFRESH_DISPOSITIONS = "refresh_dispositions"
REMIND_BATCHES = "remind_appraisal_batches"


def register(queue: TaskRegistry, new_uow: Callable[[], UnitOfWork]) -> None:
    @queue.periodic(REFRESH_DISPOSITIONS, minute="0", hour="3")
    def refresh() -> None:
        with queue.lock(REFRESH_DISPOSITIONS):
            changed, held = refresh_dispositions(new_uow(), actor=RETENTION_ACTOR)
            batches = gather_due_records(new_uow(), actor=RETENTION_ACTOR)
        log.info("disposition dates: %d changed, %d kept by a hold; due records in batches %s", changed, held,
                 batches)

    @queue.periodic(REMIND_BATCHES, minute="0", hour="8")
    def remind() -> None:
        with queue.lock(REMIND_BATCHES):
            log.info("appraisal batches reminded: %d", send_batch_reminders(new_uow(), actor=RETENTION_ACTOR))
