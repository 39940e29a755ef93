"""The account review's job: every day at 01:30 UTC, as `system:account-inactivity`, disable the accounts
unused for ARCHIVE_ACCOUNT_INACTIVE_DAYS (nothing while the setting is 0, the default)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from archive.account_review.permissions import INACTIVITY_ACTOR
from archive.account_review.services import disable_inactive_accounts
from archive.registry import TaskRegistry
from archive.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

DISABLE_INACTIVE = "account_review_disable_inactive"


def register(queue: TaskRegistry, new_uow: Callable[[], UnitOfWork]) -> None:
    @queue.periodic(DISABLE_INACTIVE, minute="30", hour="1")
    def disable_inactive() -> None:
        with queue.lock(DISABLE_INACTIVE):
            disabled = disable_inactive_accounts(new_uow(), actor=INACTIVITY_ACTOR)
        if disabled:
            log.info("account review: %d inactive accounts disabled: %s", len(disabled), ", ".join(disabled))
