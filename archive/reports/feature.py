"""The reports' entry in the feature registry (pyproject: `archive.features`): their permissions,
events and the core's reports."""

from __future__ import annotations

from archive.registry import Feature, vocabulary
from archive.reports import catalogue, events, permissions

FEATURE = Feature(
    name="reports",
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_"),
    reports=catalogue.REPORTS,
)
