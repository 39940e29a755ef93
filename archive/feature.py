"""The core's entry in the feature registry (pyproject: `archive.features`): its roles, permissions,
events and jobs."""

from __future__ import annotations

from archive import events, permissions, tasks
from archive.api_tokens import events as api_token_events
from archive.registry import Feature, vocabulary
from archive.roles import ROLES
from archive.saved_searches import events as saved_search_events

FEATURE = Feature(
    name="archive",
    roles=ROLES,
    permissions=vocabulary(permissions, "permission_"),
    grants=permissions.GRANTS,
    events=vocabulary(events, "event_") + vocabulary(api_token_events, "event_")
    + vocabulary(saved_search_events, "event_"),
    tasks=tasks.register,
)
