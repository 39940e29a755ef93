"""The reports' permissions and the roles that hold them by default.

`report.view` opens the holdings, coverage, rescan, borrowing and disposition reports over the viewer's
own department up to their clearance (access.visible); `report.all_departments`, an override of its own,
widens that to every department (the archive room and the leader). The access report reads the audit
trail, so only the auditor holds `report.access`.
"""

from __future__ import annotations

from archive.roles import APPROVER, AUDITOR, LEADER, RECORDS_MANAGER

permission_report_view = "report.view"
permission_report_all_departments = "report.all_departments"
permission_report_access = "report.access"  # access per user, from the audit trail

GRANTS: dict[str, frozenset[str]] = {
    APPROVER: frozenset({permission_report_view}),
    RECORDS_MANAGER: frozenset({permission_report_view, permission_report_all_departments}),
    LEADER: frozenset({permission_report_view, permission_report_all_departments}),
    AUDITOR: frozenset({permission_report_access}),
}
