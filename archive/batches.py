"""Walk a large table in key order, one short transaction per batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Row, Select
from sqlalchemy.orm import InstrumentedAttribute

from archive.unit_of_work import UnitOfWork

T = TypeVar("T")
BATCH = 200


def in_batches(
    uow: UnitOfWork, query: Select[Any], key: InstrumentedAttribute[int],
    work: Callable[[UnitOfWork, Sequence[Row[Any]]], T], *, size: int = BATCH,
) -> Iterator[T]:
    """Yield work(uow, rows) for each batch of the query's rows in ascending key order.

    work runs inside the batch's open unit of work (it commits if it changes anything); its result is
    yielded after the transaction has ended, so slow work on it holds no transaction open. Each row
    is read once, so re-running an interrupted walk over rows it changes resumes where it stopped.
    """
    query = query.add_columns(key.label("batch_key")).order_by(key).limit(size)
    last: int | None = None
    while True:
        with uow:
            rows = uow.session.execute(query if last is None else query.where(key > last)).all()
            if not rows:
                return
            result = work(uow, rows)
        last = rows[-1].batch_key
        yield result
