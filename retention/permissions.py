"""Retention's permissions and the roles that hold them by default."""

from __future__ import annotations

from archive.actors import Actor
from archive.permissions import permission_document_shred
from archive.roles import APPROVER, AUDITOR, CLERK, LEADER, RECORDS_MANAGER, STAFF

APPRAISER = "appraiser"  # 鉴定小组成员: decides due records, two at least agreeing

permission_schedule_manage = "retention.schedule_manage"  # set a document type's schedule, record trigger events
permission_disposition_view = "retention.disposition_view"  # see what is due for disposition
permission_hold_manage = "retention.hold_manage"  # place and release legal holds
permission_hold_view = "retention.hold_view"  # see a record's holds, read-only
permission_appraisal_decide = "retention.appraisal_decide"  # vote destroy / extend / transfer on due records
permission_disposition_approve = "retention.disposition_approve"  # approve or reject an appraised batch
permission_disposition_execute = "retention.disposition_execute"  # run an approved batch's destruction
permission_register_view = "retention.register_view"  # read and export the destruction register
permission_register_keep = "retention.register_keep"  # keep a sealed snapshot of the register as a record
permission_transfer_manage = "retention.transfer_manage"  # hand records over, confirm receiving them

GRANTS: dict[str, frozenset[str]] = {
    RECORDS_MANAGER: frozenset({permission_schedule_manage, permission_disposition_view, permission_hold_manage,
                                permission_hold_view, permission_disposition_execute, permission_register_view,
                                permission_register_keep, permission_transfer_manage}),
    APPRAISER: frozenset({permission_disposition_view, permission_appraisal_decide, permission_hold_view}),
    LEADER: frozenset({permission_disposition_view, permission_disposition_approve, permission_register_view,
                       permission_hold_view}),
    CLERK: frozenset({permission_hold_view}),
    STAFF: frozenset({permission_hold_view}),
    APPROVER: frozenset({permission_hold_view}),
    AUDITOR: frozenset({permission_hold_view, permission_disposition_view, permission_register_view}),
}

# The daily disposition run acts as this named system actor, so the audit trail says who recomputed.
RETENTION_ACTOR = Actor.system("retention", frozenset({permission_schedule_manage, permission_disposition_view}))
# Destruction runs shred as this actor; the register names the records manager who started the run.
DISPOSAL_ACTOR = Actor.system("retention-disposal", frozenset({permission_document_shred}))
