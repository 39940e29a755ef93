"""The destruction register 销毁清册: read, and exported to Excel, by those who may see it. It is
permanent; the database refuses to change it (migration 0006)."""

from __future__ import annotations

from dataclasses import astuple, fields
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.models import AuditEvent, as_utc
from archive.unit_of_work import UnitOfWork
from retention.events import event_record_destroyed, event_register_exported
from retention.models import DestructionRecord
from retention.pdf import register_pdf
from retention.permissions import permission_register_view
from retention.views import RegisterEntryView

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


def list_register(uow: UnitOfWork, *, actor: Actor) -> list[RegisterEntryView]:
    """Every entry, oldest first. Requires permission_register_view."""
    with uow:
        access.require(actor, permission_register_view)
        rows = uow.session.scalars(select(DestructionRecord).order_by(DestructionRecord.id))
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
