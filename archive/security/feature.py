"""The security controls' entry in the feature registry: their audit events (their permissions are the
core's, archive/permissions.py)."""

from __future__ import annotations

from archive.registry import Feature, vocabulary
from archive.security import events

FEATURE = Feature(name="security", events=vocabulary(events, "event_"))
