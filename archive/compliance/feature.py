"""The compliance feature's entry in the registry: its permissions, events and periodic jobs
(checkpoints, anomaly scans, the weekly four-property check) and the four-property filing check."""

from __future__ import annotations

from archive.compliance import events, fourcheck, permissions, tasks
from archive.registry import Feature, vocabulary

FEATURE = Feature(
    name="compliance",
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_"),
    tasks=tasks.register,
    filing_checks=(fourcheck.make_filing_check,),
)
