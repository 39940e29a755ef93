"""The core's roles, in one place (a feature may add roles of its own: registry.Feature.roles)."""

from __future__ import annotations

CLERK = "clerk"  # captures scans for their department, may see full ID numbers
STAFF = "staff"  # reads their department's documents up to their clearance
APPROVER = "approver"
COMPLIANCE = "compliance"  # reads the audit trail, runs the fixity check
ADMIN = "admin"  # accounts and reference data; reads no document by virtue of the role
SECURITY_ADMIN = "security_admin"  # approves roles and clearances above staff/internal (三员分立)

ROLES = (CLERK, STAFF, APPROVER, COMPLIANCE, ADMIN, SECURITY_ADMIN)
