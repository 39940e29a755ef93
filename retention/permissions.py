"""Retention's permissions and the roles that hold them by default."""

from __future__ import annotations

from archive.actors import Actor
from archive.roles import APPROVER, CLERK, COMPLIANCE, STAFF

RECORDS_MANAGER = "records_manager"  # 档案管理员: schedules and legal holds for the whole archive room

permission_schedule_manage = "retention.schedule_manage"  # set a document type's schedule, record trigger events
permission_disposition_view = "retention.disposition_view"  # see what is due for disposition
permission_hold_manage = "retention.hold_manage"  # place and release legal holds
permission_hold_view = "retention.hold_view"  # see a record's holds, read-only

GRANTS: dict[str, frozenset[str]] = {
    RECORDS_MANAGER: frozenset({permission_schedule_manage, permission_disposition_view, permission_hold_manage,
                                permission_hold_view}),
    CLERK: frozenset({permission_hold_view}),
    STAFF: frozenset({permission_hold_view}),
    APPROVER: frozenset({permission_hold_view}),
    COMPLIANCE: frozenset({permission_hold_view, permission_disposition_view}),
}

# The daily disposition run acts as this named system actor, so the audit trail says who recomputed.
RETENTION_ACTOR = Actor.system("retention", frozenset({permission_schedule_manage, permission_disposition_view}))
