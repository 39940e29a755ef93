"""Periodic jobs of the compliance feature: sign a checkpoint every ARCHIVE_AUDIT_CHECKPOINT_MINUTES,
and scan for anomaly alerts every ALERT_SCAN_MINUTES.

Registered on the archive's Huey instance by JobQueue (archive/jobs.py), so every long-running consumer
schedules them; a task lock lets one run at a time. A checkpoint is signed even when nothing happened
(a heartbeat), so a stretch of time with no checkpoint means the signer was not running.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from huey import crontab

from archive.actors import Actor
from archive.compliance import alerts, services
from archive.compliance.permissions import permission_audit_alert_scan, permission_audit_checkpoint

if TYPE_CHECKING:
    from archive.bootstrap import Archive
    from archive.jobs import JobQueue

log = logging.getLogger(__name__)

CHECKPOINT_ACTOR = Actor.system("audit-checkpoint", frozenset({permission_audit_checkpoint}))
ALERT_ACTOR = Actor.system("audit-alerts", frozenset({permission_audit_alert_scan}))
ALERT_SCAN_MINUTES = 10


def register(queue: JobQueue, archive: Archive) -> None:
    """Declare the periodic checkpoint signer on the queue's Huey instance."""
    minutes = archive.settings.audit_checkpoint_minutes

    def sign_audit_checkpoint() -> None:
        """Sign the chain head; returns None so Huey stores no result nobody reads."""
        with queue.huey.lock_task("sign_audit_checkpoint"):
            view = services.sign_checkpoint(archive.uow(), actor=CHECKPOINT_ACTOR,
                                            signer=services.signer_for(archive.settings), interval_minutes=minutes)
        log.info("audit checkpoint %d: seq %d..%d", view.number, view.from_seq, view.seq)

    queue.sign_audit_checkpoint = sign_audit_checkpoint  # type: ignore[attr-defined]
    queue.huey.periodic_task(crontab(minute=f"*/{minutes}" if minutes < 60 else "0"),
                             name="sign_audit_checkpoint")(sign_audit_checkpoint)

    def scan_audit_alerts() -> None:
        """Raise the alerts the newest events call for (rules: ARCHIVE_AUDIT_ALERT_RULES)."""
        with queue.huey.lock_task("scan_audit_alerts"):
            raised = alerts.scan_alerts(archive.uow(), actor=ALERT_ACTOR,
                                        rules=alerts.load_rules(archive.settings.audit_alert_rules))
        if raised:
            log.warning("%d audit alerts raised: %s", len(raised), ", ".join(sorted({a.rule for a in raised})))

    queue.scan_audit_alerts = scan_audit_alerts  # type: ignore[attr-defined]
    queue.huey.periodic_task(crontab(minute=f"*/{ALERT_SCAN_MINUTES}"), name="scan_audit_alerts")(scan_audit_alerts)
