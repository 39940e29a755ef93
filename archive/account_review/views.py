"""What the account review's services return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AccountUse:
    user_id: int
    username: str
    role: str
    department: str
    clearance: str
    last_used_at: datetime | None  # the last thing the account did (or its creation, or its reactivation)
    idle_days: int


@dataclass(frozen=True)
class AccountChange:
    user_id: int
    username: str
    at: datetime
    by: str
    before: list[Any]  # [role, clearance]
    after: list[Any]


@dataclass(frozen=True)
class ReviewItemView:
    user_id: int
    username: str
    role: str
    department: str
    clearance: str
    last_used_at: datetime | None
    inactive: bool
    changes: list[dict[str, Any]]
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    comment: str


@dataclass(frozen=True)
class ReviewView:
    id: int
    status: str
    inactive_days: int
    changes_since: datetime
    started_at: datetime
    started_by: str
    signed_off_at: datetime | None
    signed_off_by: str | None
    comment: str
    digest: str | None
    items: list[ReviewItemView] = field(default_factory=list)

    @property
    def undecided(self) -> int:
        return sum(1 for item in self.items if item.decision is None)
