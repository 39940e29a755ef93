"""Retention's documents as PDF, with a Chinese font embedded (reportlab): the destruction register
销毁清册 and a transfer's handover receipt 移交清单."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from archive.demo.samples import find_cjk_font
from retention.views import RegisterEntryView, TransferView

FONT = "ArchiveCJK"


@cache
def _font() -> str:
    """Register the system's CJK font once (subset-embedded into every PDF that uses it)."""
    path = find_cjk_font()
    pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0) if path.suffix == ".ttc"
                            else TTFont(FONT, str(path)))
    return FONT


def _table_pdf(path: Path, title: str, subtitle: str, header: Sequence[str], rows: Sequence[Sequence[str]],
               widths: Sequence[float]) -> None:
    font = _font()
    cell = ParagraphStyle("cell", fontName=font, fontSize=7, leading=9)
    heading = ParagraphStyle("heading", fontName=font, fontSize=14, leading=18)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=10)
    table = Table([[Paragraph(str(value), cell) for value in row] for row in [header, *rows]],
                  colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    document = SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                                 topMargin=12 * mm, bottomMargin=12 * mm, title=title)
    document.build([Paragraph(title, heading), Paragraph(subtitle, small), Spacer(1, 4 * mm), table])


def register_pdf(entries: Sequence[RegisterEntryView], path: Path, *, printed_by: str,
                 printed_at: datetime | None = None) -> None:
    rows = [(e.id, e.archive_code, e.title, e.document_type, e.department, e.pages, e.content_sha256, e.schedule,
             e.reason, e.appraisers, e.approved_by, f"{e.destroyed_at:%Y-%m-%d %H:%M}", e.batch_id) for e in entries]
    _table_pdf(path, "销毁清册 Destruction register",
               f"{len(rows)} 件 records · 打印 printed {printed_at or datetime.now():%Y-%m-%d %H:%M} · {printed_by}",
               ("序号 #", "档号 Archive code", "题名 Title", "类型 Type", "部门 Dept.", "页数 Pages", "SHA-256",
                "保管期限 Schedule", "理由 Reason", "鉴定人 Appraisers", "批准人 Approved by", "销毁时间 Destroyed",
                "批次 Batch"),
               rows, (10, 32, 30, 20, 12, 10, 38, 30, 22, 22, 16, 20, 10))


def transfer_pdf(transfer: TransferView, path: Path) -> None:
    received = (f"接收 received by {transfer.received_by} {transfer.received_at:%Y-%m-%d %H:%M}"
                if transfer.received_at else "待接收 not yet received")
    if transfer.to_fonds and transfer.received_at:
        received = (f"接收方确认 confirmed by the receiving archive: 编号 ref. {transfer.receiver_reference}, "
                    f"签收人 signed by {transfer.received_signed_by}, 登记 recorded by {transfer.received_by} "
                    f"{transfer.received_at:%Y-%m-%d %H:%M}")
    destination = (f"全宗 fonds {transfer.to_fonds} {transfer.to_archive}" if transfer.to_fonds
                   else transfer.to_department)
    _table_pdf(path, f"移交清单 Handover receipt No. {transfer.id}",
               f"{transfer.from_department} → {destination} · 移交 sent by {transfer.sent_by} "
               f"{transfer.sent_at:%Y-%m-%d %H:%M} · {received} · {transfer.note}",
               ("档号 Archive code", "页数 Pages", "SHA-256"),
               [(i.archive_code, i.pages, i.content_sha256) for i in transfer.items], (70, 20, 120))
