"""Retention's permissions (none yet) and the roles that hold them by default."""

from __future__ import annotations

GRANTS: dict[str, frozenset[str]] = {}
