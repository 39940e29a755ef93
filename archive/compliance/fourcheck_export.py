"""A four-property report as PDF (reportlab, the system's CJK font subset-embedded) and as Excel
(openpyxl): who ran it and when, the scope, pass/fail counts per property and every problem with its hint.
`export_report` is the service (permission and audit); the two writers are plain functions."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from archive import access, audit
from archive.actors import Actor
from archive.compliance.checks import PROPERTIES, PROPERTY_NAMES_ZH
from archive.compliance.events import event_fourcheck_report_exported
from archive.compliance.fourcheck import FourCheckReport, get_report
from archive.compliance.permissions import permission_fourcheck_view
from archive.errors import ValidationError
from archive.fonts import find_cjk_font
from archive.unit_of_work import UnitOfWork

FONT = "ArchiveCJK"
FORMATS = ("pdf", "xlsx")
PROBLEM_HEADER = ("性质 Property", "检测项 Check", "级别 Severity", "档号 Archive code", "对象 Subject",
                  "问题 Problem", "处理建议 Hint")


def export_report(uow: UnitOfWork, *, actor: Actor, run_id: int, path: Path, format: str) -> FourCheckReport:
    """Write report run_id to path as pdf or xlsx. Requires permission_fourcheck_view; audited as
    fourcheck.report_exported."""
    if format not in FORMATS:
        raise ValidationError(f"format {format!r} is not one of {', '.join(FORMATS)}")
    report = get_report(uow, actor=actor, run_id=run_id)
    (report_pdf if format == "pdf" else report_xlsx)(report, Path(path))
    with uow:
        access.require(actor, permission_fourcheck_view)
        audit.record(uow.session, actor, event_fourcheck_report_exported, target_type="fourcheck_run",
                     target_id=run_id, format=format, problems=len(report.problems))
        uow.commit()
    return report


def _summary(report: FourCheckReport) -> list[tuple[str, str, str, str]]:
    return [(f"{PROPERTY_NAMES_ZH[p]} {p}", str(report.counts.get(p, {}).get("passed", 0)),
             str(report.counts.get(p, {}).get("failed", 0)), str(report.counts.get(p, {}).get("problems", 0)))
            for p in PROPERTIES]


def _heading(report: FourCheckReport) -> str:
    scope = ", ".join(f"{k}={v}" for k, v in report.scope.items()) or "全部 whole archive"
    return (f"{report.documents_checked} 件 records · 范围 scope: {scope} · 触发 trigger: {report.trigger} · "
            f"检测人 run by {report.actor_name} · {report.started_at:%Y-%m-%d %H:%M}–{report.finished_at:%H:%M} UTC · "
            f"{'合格 passed' if report.ok else '不合格 failed'}")


def _rows(report: FourCheckReport) -> list[tuple[str, ...]]:
    return [(f"{PROPERTY_NAMES_ZH.get(p.property, '')} {p.property}", p.check, p.severity, p.archive_code or "-",
             p.subject, p.detail, p.hint) for p in report.problems]


@cache
def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    path = find_cjk_font()
    pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0) if path.suffix == ".ttc"
                            else TTFont(FONT, str(path)))
    return FONT


def report_pdf(report: FourCheckReport, path: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    cell = ParagraphStyle("cell", fontName=font, fontSize=7, leading=9)
    heading = ParagraphStyle("heading", fontName=font, fontSize=14, leading=18)
    small = ParagraphStyle("small", fontName=font, fontSize=8, leading=10)
    style = TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke), ("VALIGN", (0, 0), (-1, -1), "TOP")])

    def table(header: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[float, ...]) -> Table:
        made = Table([[Paragraph(str(v), cell) for v in row] for row in [header, *rows]],
                     colWidths=[w * mm for w in widths], repeatRows=1)
        made.setStyle(style)
        return made

    summary = table(("性质 Property", "合格 Passed", "不合格 Failed", "问题 Problems"), _summary(report), (50, 30, 30, 30))
    problems = _rows(report) or [("-", "-", "-", "-", "-", "无问题 no problems", "-")]
    document = SimpleDocTemplate(str(path), pagesize=landscape(A4), leftMargin=10 * mm, rightMargin=10 * mm,
                                 topMargin=12 * mm, bottomMargin=12 * mm,
                                 title=f"四性检测报告 Four-property check report No. {report.run_id}")
    document.build([Paragraph(f"四性检测报告 Four-property check report No. {report.run_id}", heading),
                    Paragraph(_heading(report), small), Spacer(1, 4 * mm), summary, Spacer(1, 4 * mm),
                    table(PROBLEM_HEADER, problems, (26, 34, 16, 44, 40, 70, 47))])


def report_xlsx(report: FourCheckReport, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    sheet = book.active
    sheet.title = "汇总 Summary"
    sheet.append([f"四性检测报告 Four-property check report No. {report.run_id}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_heading(report)])
    sheet.append([])
    sheet.append(["性质 Property", "合格 Passed", "不合格 Failed", "问题 Problems"])
    for name, passed, failed, count in _summary(report):
        sheet.append([name, int(passed), int(failed), int(count)])
    problems = book.create_sheet("问题 Problems")
    problems.append(list(PROBLEM_HEADER))
    for row in _rows(report):
        problems.append(list(row))
    for column, width in zip("ABCDEFG", (18, 28, 10, 32, 40, 60, 50), strict=True):
        problems.column_dimensions[column].width = width
    sheet.column_dimensions["A"].width = 24
    book.save(path)
