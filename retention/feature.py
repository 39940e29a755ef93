"""Retention's entry in the archive's feature registry (pyproject: `archive.features`)."""

from __future__ import annotations

from archive.registry import Feature, vocabulary
from retention import events, permissions

FEATURE = Feature(
    name="retention",
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_"),
)
