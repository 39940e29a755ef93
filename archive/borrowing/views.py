"""What borrowing's services return: frozen dataclasses, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class ItemView:
    document_id: int
    archive_code: str
    title: str  # PII masked
    document_type: str
    classification: str
    department: str
    box: str
    shelf: str


@dataclass(frozen=True)
class DecisionView:
    step: int
    capacity: str
    approver: str
    on_behalf_of: str
    approve: bool
    comment: str
    decided_at: datetime


@dataclass(frozen=True)
class RequestView:
    id: int
    number: str
    requester: str
    requester_name: str
    purpose: str
    mode: str
    days: int
    status: str
    classification: str
    in_department: bool
    asked: dict[str, object]
    steps: list[dict[str, object]]
    step: int
    created_at: datetime
    grant_expires_at: datetime | None = None
    grant_ended_at: datetime | None = None
    grant_end_reason: str = ""
    items: list[ItemView] = field(default_factory=list)  # what it covers: shown to approvers, not requesters
    decisions: list[DecisionView] = field(default_factory=list)
    awaiting_me: bool = False  # the viewer may decide the step that waits
    actions: frozenset[str] = frozenset()  # what the viewer may do now: decide, return, revoke, lend


@dataclass(frozen=True)
class LoanView:
    id: int
    request_number: str
    borrower: str
    archive_code: str
    box: str
    shelf: str
    lent_at: datetime
    due_on: date
    returned_at: datetime | None
    days_overdue: int


@dataclass(frozen=True)
class DelegationView:
    id: int
    approver: str
    delegate: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class GrantTrace:
    """Who a leaked copy's invisible mark points to (`archive watermark identify`)."""

    grant_id: int
    request_number: str
    borrower: str
    borrower_name: str
    purpose: str
    mode: str
    starts_at: datetime
    expires_at: datetime
