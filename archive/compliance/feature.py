"""The compliance feature's entry in the registry: its permissions, events and periodic jobs
(checkpoints, anomaly scans)."""

from __future__ import annotations

from archive.compliance import events, permissions, tasks
from archive.registry import Feature, vocabulary

FEATURE = Feature(
    name="compliance",
    permissions=vocabulary(permissions, "permission_"),
    events=vocabulary(events, "event_"),
    tasks=tasks.register,
)
