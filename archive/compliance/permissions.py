"""Permissions of the compliance feature.

Reading, exporting, verifying and proving the trail need `audit.view` (archive.permissions, held by the
compliance role). Signing a checkpoint is held by no role: only the periodic job and the operator's
`archive audit checkpoint` act with it, as named system actors.
"""

from archive.permissions import permission_audit_view

permission_audit_checkpoint = "audit.checkpoint"
permission_audit_alert_scan = "audit.alert_scan"  # system actors only: the periodic anomaly scan

__all__ = ["permission_audit_alert_scan", "permission_audit_checkpoint", "permission_audit_view"]
