"""A report as an Excel workbook (openpyxl): a summary sheet (scope, time, figures), then one sheet per
table with the same rows the page shows. Headers and codes come in the reader's language through the
two callables the caller passes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font

from archive.reports.views import COUNT, NUMBER, Report

BOLD = Font(bold=True)


def sheet_title(name: str, taken: set[str]) -> str:
    """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", " ", name).strip()[:31] or "Sheet"
    title, n = base, 2
    while title in taken:
        suffix = f" ({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def cell(kind: str, raw: Any, value: Callable[[str, Any], Any]) -> Any:
    if raw is None:
        return None
    if kind in (COUNT, NUMBER):
        return raw
    if kind == "date":
        return raw
    return value(kind, raw)


def write_workbook(report: Report, out: BinaryIO, *, text: Callable[[str], str],
                   value: Callable[[str, Any], Any]) -> None:
    book = Workbook()
    summary = book.active
    taken: set[str] = set()
    summary.title = sheet_title(text("summary"), taken)
    summary.append([text(f"report.{report.name}")])
    summary["A1"].font = BOLD
    departments = ", ".join(report.scope.departments) if report.scope.departments is not None else text("all")
    summary.append([text("scope"), departments])
    summary.append([text("generated_at"), report.generated_at.replace(tzinfo=None)])
    if report.since:
        summary.append([text("period"), f"{report.since.isoformat()} – {report.until.isoformat() if report.until else ''}"])
    summary.append([])
    for figure in report.figures:
        summary.append([text(figure.key), figure.value])
    for table in report.tables:
        sheet = book.create_sheet(sheet_title(text(f"table.{table.key}"), taken))
        sheet.append([text(column.key) for column in table.columns])
        for header in sheet[1]:
            header.font = BOLD
        for row in table.rows:
            sheet.append([cell(column.kind, raw, value) for column, raw in zip(table.columns, row, strict=True)])
        if table.total_rows is not None and table.total_rows > len(table.rows):
            sheet.append([])
            sheet.append([text("rows_shown"), len(table.rows), text("rows_total"), table.total_rows])
        for letter, width in zip("ABCDEFGHIJKLMN", (18, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 14),
                                 strict=False):
            sheet.column_dimensions[letter].width = width
    book.save(out)
