"""Retention's jobs: every day at 03:00 UTC, as `system:retention`, recompute every disposition date
(new captures get theirs, and a schedule or an event changed since is applied), then gather the records
that came due into their departments' appraisal batches."""

from __future__ import annotations

import logging
from collections.abc import Callable

from archive.registry import TaskRegistry
from archive.unit_of_work import UnitOfWork
from retention.permissions import RETENTION_ACTOR
from retention.services.appraisal import gather_due_records
from retention.services.dispositions import refresh_dispositions

log = logging.getLogger(__name__)

REFRESH_DISPOSITIONS = "refresh_dispositions"


def register(queue: TaskRegistry, new_uow: Callable[[], UnitOfWork]) -> None:
    @queue.periodic(REFRESH_DISPOSITIONS, minute="0", hour="3")
    def refresh() -> None:
        with queue.lock(REFRESH_DISPOSITIONS):
            changed, held = refresh_dispositions(new_uow(), actor=RETENTION_ACTOR)
            batches = gather_due_records(new_uow(), actor=RETENTION_ACTOR)
        log.info("disposition dates: %d changed, %d kept by a hold; due records in batches %s", changed, held,
                 batches)
