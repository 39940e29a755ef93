"""Periodic jobs of the compliance feature: sign a checkpoint every ARCHIVE_AUDIT_CHECKPOINT_MINUTES,
scan for anomaly alerts every ALERT_SCAN_MINUTES, and run the four-property check 四性检测 over the whole
archive every Sunday at 04:00 UTC (as `system:fourcheck`; the report is stored like any run's), decoding
every page in full on the month's first Sunday.

Every long-running consumer schedules them (archive/jobs.py); a queue-wide lock lets one run at a time.
A checkpoint is signed even when nothing happened (a heartbeat), so a stretch of time with no
checkpoint means the signer was not running.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from archive.compliance import alerts, fourcheck, services
from archive.compliance.permissions import ALERT_ACTOR, CHECKPOINTER, FOURCHECK_ACTOR
from archive.registry import TaskRegistry
from archive.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

ALERT_SCAN_MINUTES = 10
SIGN_AUDIT_CHECKPOINT = "sign_audit_checkpoint"
SCAN_AUDIT_ALERTS = "scan_audit_alerts"
RUN_FOURCHECK = "run_fourcheck"


def register(queue: TaskRegistry, new_uow: Callable[[], UnitOfWork]) -> None:
    settings = new_uow().settings
    minutes = settings.audit_checkpoint_minutes

    @queue.periodic(SIGN_AUDIT_CHECKPOINT, minute=f"*/{minutes}" if minutes < 60 else "0")
    def sign_audit_checkpoint() -> None:
        """Sign the chain head; returns None so Huey stores no result nobody reads."""
        with queue.lock(SIGN_AUDIT_CHECKPOINT):
            view = services.sign_checkpoint(new_uow(), actor=CHECKPOINTER, signer=services.signer_for(settings),
                                            interval_minutes=minutes)
        log.info("audit checkpoint %d: seq %d..%d", view.number, view.from_seq, view.seq)

    @queue.periodic(SCAN_AUDIT_ALERTS, minute=f"*/{ALERT_SCAN_MINUTES}")
    def scan_audit_alerts() -> None:
        """Raise the alerts the newest events call for (rules: ARCHIVE_AUDIT_ALERT_RULES)."""
        with queue.lock(SCAN_AUDIT_ALERTS):
            raised = alerts.scan_alerts(new_uow(), actor=ALERT_ACTOR, rules=alerts.load_rules(settings.audit_alert_rules))
        if raised:
            log.warning("%d audit alerts raised: %s", len(raised), ", ".join(sorted({a.rule for a in raised})))

    @queue.periodic(RUN_FOURCHECK, day_of_week="0", hour="4", minute="0")
    def run_fourcheck() -> None:
        """The scheduled full four-property run over every record."""
        with queue.lock(RUN_FOURCHECK):
            # The first Sunday of the month decodes every page in full (fourcheck.run_fourcheck's deep).
            report = fourcheck.run_fourcheck(new_uow(), actor=FOURCHECK_ACTOR, deep=datetime.now(UTC).day <= 7)
        log.info("four-property check run %d: %d documents, %d problems", report.run_id, report.documents_checked,
                 len(report.problems))
