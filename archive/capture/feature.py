"""Capture's entry in the feature registry (pyproject: `archive.features`)."""

from __future__ import annotations

from archive.capture import events, permissions, tasks
from archive.registry import Feature, vocabulary

FEATURE = Feature(
    name="capture",
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_"),
    tasks=tasks.register,
)
