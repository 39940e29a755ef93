"""What the reports return: frozen values. Names are stable keys (the web layer and the workbook put them
in the reader's language); values are numbers, dates and codes, each column saying what kind it holds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

# A column's kind tells how to show its values: a number, or a code to translate (a document type, a
# department, a status ...), or plain text.
COUNT, NUMBER, TEXT, DATE = "count", "number", "text", "date"
CODE_KINDS = ("type", "department", "status", "mode", "classification", "action", "kind")


@dataclass(frozen=True)
class Column:
    key: str
    kind: str = COUNT


@dataclass(frozen=True)
class Table:
    key: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    total_rows: int | None = None  # set when the rows are the first of more (a long list of gaps)


@dataclass(frozen=True)
class Chart:
    """A picture of a table: its first column labels the bars, the named columns are the series."""

    key: str
    table: str
    series: tuple[str, ...]
    kind: str = "bar"  # bar | hbar | stacked | line
    limit: int = 20  # at most this many rows drawn (the table holds them all)
    label_columns: tuple[int, ...] = (0,)  # the columns whose values, joined, label a bar


@dataclass(frozen=True)
class Figure:
    key: str
    value: int | float | None
    kind: str = COUNT


@dataclass(frozen=True)
class ReportScope:
    """Whose records the figures count: departments (None: every department) up to a clearance."""

    departments: tuple[str, ...] | None
    clearance: str
    whole_trail: bool = False  # the access report counts the whole audit trail


@dataclass(frozen=True)
class ReportParameters:
    since: date | None = None
    until: date | None = None  # inclusive

    def active(self) -> dict[str, str]:
        return {k: v.isoformat() for k, v in (("since", self.since), ("until", self.until)) if v}


@dataclass(frozen=True)
class Report:
    name: str
    scope: ReportScope
    generated_at: datetime
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    since: date | None = None
    until: date | None = None

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def figure(self, key: str) -> int | float | None:
        return next(f.value for f in self.figures if f.key == key)


@dataclass(frozen=True)
class ReportDefinition:
    """A report as the catalogue lists it. build runs inside an open unit of work, after the permission
    was checked, and returns the Report."""

    name: str
    permission: str
    build: Callable[..., Report] = field(compare=False)
    takes_period: bool = False  # since/until apply
    order: int = 100
