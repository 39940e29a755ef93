"""The backup feature's entry in the registry: its permissions and events."""

from __future__ import annotations

from archive.backup import events, permissions
from archive.registry import Feature, vocabulary

FEATURE = Feature(
    name="backup",
    permissions=vocabulary(permissions, "permission_"),
    events=vocabulary(events, "event_"),
)
