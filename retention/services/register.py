"""The destruction register 销毁清册: read, and exported to Excel and PDF, by those who may see it. It is
permanent; the database refuses to change it (migration 0006).

The register is also kept as a record of its own: after each destruction batch completes, and on
demand, a PDF of the whole register is sealed under a fresh data key into the object store
(`retention/register/<uuid>.pdf`, like a document's objects); a row names its SHA-256, entry count and
period, and a chained audit event carries the same hash, so a snapshot changed or swapped behind the
archive's back is found by `verify_register_snapshots`."""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import astuple, fields
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor
from archive.errors import NotFoundError
from archive.models import AuditEvent, as_utc
from archive.unit_of_work import UnitOfWork
from retention.events import (
    event_record_destroyed,
    event_register_exported,
    event_register_kept,
    event_register_snapshot_downloaded,
)
from retention.models import DestructionRecord, RegisterSnapshot
from retention.pdf import register_pdf
from retention.permissions import permission_register_keep, permission_register_view
from retention.views import RegisterEntryView, RegisterSnapshotView
from storage.envelope import WrappedKey, new_data_key

SNAPSHOTS = "retention/register"

HEADINGS_ZH = {"id": "序号", "archive_code": "档号", "title": "题名", "document_type": "类型", "department": "部门",
               "document_date": "文件日期", "pages": "页数", "content_sha256": "SHA-256", "schedule": "保管期限表",
               "due_on": "到期日", "reason": "销毁理由", "appraisers": "鉴定人", "approved_by": "批准人",
               "approved_at": "批准时间", "executed_by": "执行人", "destroyed_at": "销毁时间", "batch_id": "鉴定批次"}


ENTRY_FIELDS = ("document_id", "archive_code", "title", "document_type", "department", "document_date", "captured_at",
                "pages", "content_sha256", "schedule", "due_on", "reason", "appraisers", "approved_by", "approved_at",
                "executed_by", "destroyed_at", "batch_id")


def register_values(entry: DestructionRecord) -> dict[str, object]:
    """A register entry as it is recorded in its chained audit event (dates as ISO text, times in UTC)."""
    return {name: _plain(getattr(entry, name)) for name in ENTRY_FIELDS}


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return value.isoformat() if isinstance(value, date) else value


def verify_register(uow: UnitOfWork, *, actor: Actor) -> list[str]:
    """Compare every register entry with the register entry its chained audit event recorded; return the
    archive codes of entries that differ or have no event (empty: the register is as destroyed).
    Requires permission_register_view."""
    with uow:
        access.require(actor, permission_register_view)
        recorded = {str(detail.get("register_entry", {}).get("document_id")): detail.get("register_entry")
                    for detail in uow.session.scalars(select(AuditEvent.detail).where(
                        AuditEvent.event_type == event_record_destroyed))}
        return [row.archive_code for row in uow.session.scalars(select(DestructionRecord).order_by(DestructionRecord.id))
                if recorded.get(str(row.document_id)) != register_values(row)]


def list_register(uow: UnitOfWork, *, actor: Actor, limit: int | None = None,
                  after_id: int | None = None) -> list[RegisterEntryView]:
    """Every entry, oldest first (`limit` after `after_id`: the API's pages). Requires
    permission_register_view."""
    with uow:
        access.require(actor, permission_register_view)
        query = select(DestructionRecord).order_by(DestructionRecord.id).limit(limit)
        if after_id is not None:
            query = query.where(DestructionRecord.id > after_id)
        rows = uow.session.scalars(query)
        names = [f.name for f in fields(RegisterEntryView)]
        return [RegisterEntryView(**{name: getattr(row, name) for name in names}) for row in rows]


def export_register_pdf(uow: UnitOfWork, *, actor: Actor, path: Path) -> int:
    """Write the whole register as a PDF with a Chinese font embedded; returns the entries written.
    Requires permission_register_view; audited as retention.register_exported."""
    entries = list_register(uow, actor=actor)
    register_pdf(entries, path, printed_by=actor.username)
    _audit_export(uow, actor, len(entries), "pdf")
    return len(entries)


def export_register_xlsx(uow: UnitOfWork, *, actor: Actor, path: Path) -> int:
    """Write the whole register to an Excel file (streamed, write-only); returns the entries written.
    Requires permission_register_view; audited as retention.register_exported."""
    entries = list_register(uow, actor=actor)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("销毁清册")
    columns = [f.name for f in fields(RegisterEntryView)]
    sheet.append([f"{HEADINGS_ZH[name]} {name}" for name in columns])
    for entry in entries:
        sheet.append([value.replace(tzinfo=None) if hasattr(value, "tzinfo") and value.tzinfo else value
                      for value in astuple(entry)])
    book.save(path)
    _audit_export(uow, actor, len(entries), "xlsx")
    return len(entries)


def _audit_export(uow: UnitOfWork, actor: Actor, entries: int, kind: str) -> None:
    with uow:
        audit.record(uow.session, actor, event_register_exported, entries=entries, format=kind)
        uow.commit()


def keep_register(uow: UnitOfWork, *, actor: Actor, batch_id: int | None = None) -> RegisterSnapshotView:
    """Seal a PDF of the whole register into the object store and record it (kept after batch_id's
    destruction, or on demand); returns the snapshot. Idempotent for a batch: a batch kept already
    returns its snapshot. Requires permission_register_keep; audited as retention.register_kept with
    the PDF's SHA-256."""
    with uow:
        access.require(actor, permission_register_keep)
        if batch_id is not None:
            kept = uow.session.scalar(select(RegisterSnapshot).where(RegisterSnapshot.batch_id == batch_id))
            if kept is not None:
                return _snapshot_view(kept)
    entries = list_register(uow, actor=actor)
    cipher = uow.settings.cipher
    data_key = new_data_key(cipher)
    key = f"{SNAPSHOTS}/{uuid.uuid4().hex}.pdf"
    with tempfile.TemporaryDirectory(prefix="archive-register-") as work:
        path = Path(work) / "register.pdf"
        register_pdf(entries, path, printed_by=actor.username, printed_at=uow.clock.now())
        with path.open("rb") as handle:
            stored = uow.store.put(key, handle, data_key=data_key, algorithm=cipher)
    try:
        with uow:
            wrapped = uow.keyring.wrap(data_key, cipher)
            days = [as_utc(e.destroyed_at).date() for e in entries]
            snapshot = RegisterSnapshot(
                object_key=key, cipher=wrapped.algorithm, key_id=wrapped.key_id, wrapped_key=wrapped.wrapped,
                sha256=stored.sha256, size_bytes=stored.size, entries=len(entries),
                last_entry_id=entries[-1].id if entries else None, period_from=min(days, default=None),
                period_to=max(days, default=None), batch_id=batch_id, created_by=actor.username,
                created_at=uow.clock.now())
            uow.session.add(snapshot)
            uow.session.flush()
            audit.record(uow.session, actor, event_register_kept, target_type="register_snapshot",
                         target_id=snapshot.id, sha256=stored.sha256, entries=len(entries), batch_id=batch_id,
                         object_key=key, last_entry_id=snapshot.last_entry_id)
            view = _snapshot_view(snapshot)
            uow.commit()
            return view
    except BaseException:
        uow.store.delete(key)  # not recorded: no sealed object without its row
        raise


def list_register_snapshots(uow: UnitOfWork, *, actor: Actor) -> list[RegisterSnapshotView]:
    """Every kept snapshot of the register, newest first. Requires permission_register_view."""
    with uow:
        access.require(actor, permission_register_view)
        return [_snapshot_view(row) for row in uow.session.scalars(
            select(RegisterSnapshot).order_by(RegisterSnapshot.id.desc()))]


def open_register_snapshot(uow: UnitOfWork, *, actor: Actor, snapshot_id: int) -> tuple[BinaryIO, str]:
    """A decrypting stream of a kept snapshot's PDF (the caller closes it) and its file name. Requires
    permission_register_view; audited as retention.register_snapshot_downloaded."""
    with uow:
        access.require(actor, permission_register_view)
        snapshot = uow.session.get(RegisterSnapshot, snapshot_id)
        if snapshot is None:
            raise NotFoundError(f"no register snapshot {snapshot_id}")
        data_key = _data_key(uow, snapshot)
        audit.record(uow.session, actor, event_register_snapshot_downloaded, target_type="register_snapshot",
                     target_id=snapshot.id, sha256=snapshot.sha256)
        uow.commit()
        name = f"destruction-register-{snapshot.id}-{as_utc(snapshot.created_at):%Y%m%d}.pdf"
        return uow.store.open(snapshot.object_key, data_key=data_key), name


def verify_register_snapshots(uow: UnitOfWork, *, actor: Actor) -> list[int]:
    """Decrypt every kept snapshot and compare its SHA-256 with the one its chained audit event recorded
    (and its row); return the ids of snapshots that differ, are missing or cannot be read. Requires
    permission_register_view."""
    with uow:
        access.require(actor, permission_register_view)
        recorded = {str(target_id): detail.get("sha256") for target_id, detail in uow.session.execute(
            select(AuditEvent.target_id, AuditEvent.detail).where(AuditEvent.event_type == event_register_kept))}
        rows = [(row.id, row.sha256, row.object_key, _data_key(uow, row))
                for row in uow.session.scalars(select(RegisterSnapshot).order_by(RegisterSnapshot.id))]
    differing = []
    for snapshot_id, sha256, key, data_key in rows:  # outside the transaction: reading may take a while
        expected = recorded.get(str(snapshot_id))
        if expected is None or expected != sha256 or _sha256_of(uow, key, data_key) != expected:
            differing.append(snapshot_id)
    return differing


def _sha256_of(uow: UnitOfWork, key: str, data_key: bytes) -> str | None:
    digest = hashlib.sha256()
    try:
        with uow.store.open(key, data_key=data_key) as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    except Exception:  # noqa: BLE001 - missing, or failing authentication: either way it differs
        return None
    return digest.hexdigest()


def _data_key(uow: UnitOfWork, snapshot: RegisterSnapshot) -> bytes:
    return uow.keyring.unwrap(WrappedKey(snapshot.key_id, snapshot.cipher, snapshot.wrapped_key))


def _snapshot_view(row: RegisterSnapshot) -> RegisterSnapshotView:
    return RegisterSnapshotView(row.id, row.sha256, row.size_bytes, row.entries, row.period_from, row.period_to,
                                row.batch_id, row.created_by, as_utc(row.created_at))


class SnapshotKeys:
    """The register snapshots' wrapped data keys, for master-key rotation (archive.ports.KeyHolder)."""

    def uses(self, session: Session, key_id: str) -> bool:
        return session.scalar(select(RegisterSnapshot.id).where(RegisterSnapshot.key_id == key_id).limit(1)) is not None

    def rewrap(self, session: Session, rewrap: Callable[[WrappedKey], WrappedKey], active_key_id: str) -> int:
        rows = list(session.scalars(select(RegisterSnapshot).where(RegisterSnapshot.key_id != active_key_id)))
        for row in rows:
            wrapped = rewrap(WrappedKey(row.key_id, row.cipher, row.wrapped_key))
            row.key_id, row.wrapped_key = wrapped.key_id, wrapped.wrapped
        return len(rows)
