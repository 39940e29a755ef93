"""Permissions of the compliance feature.

Reading, exporting, verifying and proving the trail need `audit.view` (archive.permissions, held by the
compliance role). Signing a checkpoint is held by no role: only the periodic job and the operator's
`archive audit checkpoint` act with it, as named system actors.
"""

from archive.actors import Actor
from archive.permissions import permission_audit_view

permission_audit_checkpoint = "audit.checkpoint"
permission_audit_alert_scan = "audit.alert_scan"  # system actors only: the periodic anomaly scan

# The feature's named system actors: the operator's `archive audit ...` commands, and the periodic jobs.
CHECKPOINTER = Actor.system("audit-checkpoint", frozenset({permission_audit_checkpoint}))
AUDITOR = Actor.system("cli-audit", frozenset({permission_audit_view}))
ALERT_ACTOR = Actor.system("audit-alerts", frozenset({permission_audit_alert_scan}))

__all__ = ["ALERT_ACTOR", "AUDITOR", "CHECKPOINTER", "permission_audit_alert_scan", "permission_audit_checkpoint",
           "permission_audit_view"]
