"""SQL expressions the reports share that SQLite and PostgreSQL spell differently: the year and the
month of a date or time, and the hours between two times."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement


class year_of(FunctionElement[int]):  # noqa: N801 - reads as a SQL function
    """The calendar year (UTC) of a date or timestamp."""

    type = Integer()
    inherit_cache = True


class month_of(FunctionElement[str]):  # noqa: N801
    """'YYYY-MM' of a date or timestamp (UTC)."""

    type = String()
    inherit_cache = True


class hours_between(FunctionElement[float]):  # noqa: N801
    """Hours from the first timestamp to the second."""

    type = Float()
    inherit_cache = True


@compiles(year_of, "sqlite")
def _year_sqlite(element: year_of, compiler: Any, **kw: Any) -> str:
    # SQLite keeps dates and times as ISO text (UTC): cutting the text is far cheaper than parsing it.
    return f"CAST(substr({compiler.process(list(element.clauses)[0], **kw)}, 1, 4) AS INTEGER)"


@compiles(year_of)
def _year(element: year_of, compiler: Any, **kw: Any) -> str:
    return f"CAST(EXTRACT(YEAR FROM {compiler.process(list(element.clauses)[0], **kw)}) AS INTEGER)"


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(list(element.clauses)[0], **kw)}, 1, 7)"


@compiles(month_of)
def _month(element: month_of, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(list(element.clauses)[0], **kw)}, 'YYYY-MM')"


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


@compiles(hours_between)
def _hours(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


def months_back(today: Any, count: int) -> list[str]:
    """The last `count` months up to today's, oldest first, as 'YYYY-MM'."""
    year, month = today.year, today.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


def months_ahead(today: Any, count: int) -> list[str]:
    """Today's month and the `count - 1` after it, as 'YYYY-MM'."""
    year, month = today.year, today.month
    found = []
    for _ in range(count):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return found


__all__ = ["ColumnElement", "hours_between", "month_of", "months_ahead", "months_back", "year_of"]
