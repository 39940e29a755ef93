"""Borrowing's jobs, as `system:borrowing`: every 10 minutes grants past their expiry end (the check at
use refuses them already) and steps with no approver escalate; every day at 08:00 UTC the reminders for
originals due soon or overdue go out."""

from __future__ import annotations

import logging
from collections.abc import Callable

from archive.borrowing.permissions import BORROW_ACTOR
from archive.borrowing.services import escalate, expire_grants, send_reminders
from archive.registry import TaskRegistry
from archive.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

END_GRANTS = "borrow_end_grants"
REMIND_LOANS = "borrow_remind_loans"


def register(queue: TaskRegistry, new_uow: Callable[[], UnitOfWork]) -> None:
    @queue.periodic(END_GRANTS, minute="*/10")
    def end_grants() -> None:
        with queue.lock(END_GRANTS):
            ended = expire_grants(new_uow(), actor=BORROW_ACTOR)
            moved = escalate(new_uow(), actor=BORROW_ACTOR)
        log.info("borrowing: %d grants expired, %d requests escalated", ended, len(moved))

    @queue.periodic(REMIND_LOANS, minute="0", hour="8")
    def remind() -> None:
        with queue.lock(REMIND_LOANS):
            log.info("borrowing: %d loan reminders sent", send_reminders(new_uow(), actor=BORROW_ACTOR))
