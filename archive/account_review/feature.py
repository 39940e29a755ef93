"""The account review's entry in the feature registry (pyproject: `archive.features`)."""

from __future__ import annotations

from archive.account_review import events, permissions, tasks
from archive.registry import Feature, vocabulary

FEATURE = Feature(
    name="account_review",
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_"),
    tasks=tasks.register,
)
