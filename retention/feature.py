"""Retention's entry in the archive's feature registry (pyproject: `archive.features`): the records
manager role, its permissions and events, the daily disposition run, and the legal-hold guard."""

from __future__ import annotations

from archive.registry import Feature, vocabulary
from retention import demo, events, permissions, reports, tasks
from retention.services import dispositions, reminders
from retention.services.holds import HoldGuard
from retention.services.register import SnapshotKeys

FEATURE = Feature(
    name="retention",
    roles=(permissions.APPRAISER,),  # the records manager and the leader are core roles (borrowing too)
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_"),
    tasks=tasks.register,
    disposition_guard=HoldGuard,
    demo=demo.load,
    on_filed=dispositions.on_filed,
    messages=reminders.MESSAGES,
    key_holders=(SnapshotKeys,),
    reports=reports.REPORTS,  # records due for disposition, on the reports pages
)
