"""Borrowing's entry in the archive's feature registry (pyproject: `archive.features`): its permissions
and events, the grants the access policy honours, the marks on what is served under them, its jobs."""

from __future__ import annotations

from archive.borrowing import demo, events, notices, permissions, tasks
from archive.borrowing.lending import Lending
from archive.registry import Feature, vocabulary

FEATURE = Feature(
    name="borrowing",
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_"),
    tasks=tasks.register,
    lending=Lending,
    messages=notices.MESSAGES,
    demo=demo.load,
)
