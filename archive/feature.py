"""The core's entry in the feature registry (pyproject: `archive.features`): its roles, permissions,
events and jobs."""

from __future__ import annotations

from archive import events, permissions, tasks
from archive.registry import Feature, vocabulary
from archive.roles import ROLES

FEATURE = Feature(
    name="archive",
    roles=ROLES,
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_"),
    tasks=tasks.register,
)
