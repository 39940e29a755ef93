"""What retention's services return: frozen values, never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class ScheduleView:
    document_type: str
    years: int | None  # years and months both None: permanent
    months: int | None
    trigger: str
    event_name: str
    action: str
    explicit: bool  # False: derived from the type's retention period (保管期限), counted from filing


@dataclass(frozen=True)
class ScheduleChange:
    before: ScheduleView
    after: ScheduleView
    records_moved: int  # documents whose disposition date changes
    records_held: int  # documents the change would move but a hold keeps as they are
    saved: bool


@dataclass(frozen=True)
class DueRecordView:
    document_id: int
    archive_code: str
    document_type: str
    department: str
    due_on: date
    action: str


@dataclass(frozen=True)
class LegalHoldView:
    id: int
    target_type: str
    target_id: int
    target_label: str  # archive code, dossier title or masked customer identity
    hold_type: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None
    released_at: datetime | None
    release_reason: str | None


@dataclass(frozen=True)
class RegisterEntryView:
    """One line of the destruction register 销毁清册."""

    id: int
    archive_code: str
    title: str
    document_type: str
    department: str
    document_date: date | None
    pages: int
    content_sha256: str
    schedule: str
    due_on: date
    reason: str
    appraisers: str
    approved_by: str
    approved_at: datetime
    executed_by: str
    destroyed_at: datetime
    batch_id: int


@dataclass(frozen=True)
class RegisterSnapshotView:
    """The register kept as a record: a sealed PDF of it at an instant."""

    id: int
    sha256: str
    size_bytes: int
    entries: int
    period_from: date | None
    period_to: date | None
    batch_id: int | None  # the destruction batch whose completion kept it; None: kept on demand
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class AppraisalItemView:
    document_id: int
    archive_code: str
    document_type: str
    due_on: date
    decision: str | None  # agreed by at least two appraisers
    votes: int
    outcome: str | None


@dataclass(frozen=True)
class AppraisalBatchView:
    id: int
    department: str
    status: str
    created_at: datetime
    comment: str
    items: list[AppraisalItemView]


@dataclass(frozen=True)
class TransferItemView:
    archive_code: str
    content_sha256: str
    pages: int


@dataclass(frozen=True)
class TransferView:
    """A handover receipt 移交清单."""

    id: int
    from_department: str
    to_department: str
    note: str
    sent_by: str
    sent_at: datetime
    received_by: str | None
    received_at: datetime | None
    items: list[TransferItemView]
    to_fonds: str | None = None  # 全宗号 of the receiving archive, for a transfer out of this fonds
    to_archive: str = ""  # the receiving archive's name
    receiver_reference: str | None = None  # the receiving archive's reference for it, once confirmed
    received_signed_by: str | None = None  # who signed for it over there (received_by recorded it here)


@dataclass(frozen=True)
class HandoverPackageView:
    """A handover package written for another fonds: the originals, manifest.json and receipt.pdf."""

    transfer_id: int
    directory: str
    records: int
    bytes_written: int
    manifest_sha256: str
