"""Permissions of the compliance feature.

Reading, exporting, verifying and proving the trail need `audit.view` (archive.permissions, held by the
compliance role). The four-property check is run and read by the auditor and the records manager.
Signing a checkpoint is held by no role: only the periodic job and the operator's
`archive audit checkpoint` act with it, as named system actors.
"""

from archive.actors import Actor
from archive.permissions import permission_audit_view
from archive.roles import AUDITOR as AUDITOR_ROLE
from archive.roles import RECORDS_MANAGER

permission_audit_checkpoint = "audit.checkpoint"
permission_audit_alert_scan = "audit.alert_scan"  # system actors only: the periodic anomaly scan
permission_fourcheck_run = "fourcheck.run"  # run the four-property check 四性检测 over the archive or a scope
permission_fourcheck_view = "fourcheck.view"  # read and export its reports

# The auditor and the archive room (records manager) run the four-property check and read its reports.
GRANTS: dict[str, frozenset[str]] = {
    AUDITOR_ROLE: frozenset({permission_fourcheck_run, permission_fourcheck_view}),
    RECORDS_MANAGER: frozenset({permission_fourcheck_run, permission_fourcheck_view}),
}

# The feature's named system actors: the operator's `archive audit ...` commands, and the periodic jobs.
CHECKPOINTER = Actor.system("audit-checkpoint", frozenset({permission_audit_checkpoint}))
AUDITOR = Actor.system("cli-audit", frozenset({permission_audit_view}))
ALERT_ACTOR = Actor.system("audit-alerts", frozenset({permission_audit_alert_scan}))
FOURCHECK_ACTOR = Actor.system("fourcheck", frozenset({permission_fourcheck_run, permission_fourcheck_view}))

__all__ = ["ALERT_ACTOR", "AUDITOR", "CHECKPOINTER", "FOURCHECK_ACTOR", "GRANTS", "permission_audit_alert_scan",
           "permission_audit_checkpoint", "permission_audit_view", "permission_fourcheck_run",
           "permission_fourcheck_view"]
