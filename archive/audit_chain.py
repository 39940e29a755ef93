"""Link audit events into the hash chain, in one order concurrent writers cannot fork.

`audit.record` hands each new event to `enqueue`; nothing is written then. When the session commits,
`before_commit` takes the chain head row with

    UPDATE audit_chain_head SET seq = seq + n WHERE id = 1 RETURNING seq, hash

which reserves n positions and locks the row until the transaction ends: on PostgreSQL a row lock
(a second writer's UPDATE waits, then re-reads the committed head), on SQLite the database write lock
(the UPDATE is a write, so it waits on busy_timeout; nothing was read under an older snapshot first).
The transaction's other changes are flushed first; then the events get seq, prev_hash and hash and are
added; the commit's own flush inserts them, and inserting the last one sets the head's hash (a trigger). So the lock is held
only for those inserts and the COMMIT itself, and a transaction that records no audit event never
touches the head and never serialises.

Another table joins the chain (the destruction register, borrowing decisions, once they keep their own
tables) by giving its rows the same three columns (seq unique, prev_hash, hash), adding its field list
to CHAINED_TABLES (and to the verifier's), and calling `enqueue(session, row)` where it writes a row;
the verifier then reads the union of the chained tables ordered by seq. chainformat.py has the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import bindparam, event, update
from sqlalchemy.orm import Session, SessionTransaction

from archive import audit_format as chainformat
from archive.models import AuditChainHead

_PENDING = "audit_chain_pending"
_HOOKED = "audit_chain_hooked"
_head = AuditChainHead.__table__
_reserve = (update(_head).where(_head.c.id == 1).values(seq=_head.c.seq + bindparam("n"))
            .returning(_head.c.seq, _head.c.hash))


class Chained(Protocol):
    """A row that takes a place in the chain."""

    __tablename__: str
    seq: int | None
    prev_hash: str | None
    hash: str | None


def _audit_event_values(row: Any) -> list[Any]:
    return chainformat.audit_event_values(
        {name: getattr(row, name) for name in chainformat.AUDIT_EVENT_FIELDS})


# table name -> the row's fields in canonical order (chainformat.py)
CHAINED_TABLES: dict[str, Callable[[Any], list[Any]]] = {"audit_event": _audit_event_values}


def normalise_json(value: dict[str, Any]) -> dict[str, Any]:
    """What the JSON column gives back (tuples as lists, keys as strings), so the hash is of what is kept."""
    return json.loads(json.dumps(value, ensure_ascii=False, allow_nan=False))


def enqueue(session: Session, row: Chained) -> None:
    """Add `row` to the chain when `session` commits (and to the session then); dropped on rollback."""
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
    if not session.info.get(_HOOKED):
        event.listen(session, "before_commit", _link_pending)
        event.listen(session, "after_transaction_end", _forget_pending)
        session.info[_HOOKED] = True
    if not session.in_transaction():
        session.begin()  # no connection yet; but now a rollback ends a transaction, and forgets the row
    pending.append(row)


def _link_pending(session: Session) -> None:
    rows: list[Chained] = session.info.pop(_PENDING, None) or []
    if not rows:
        return
    session.flush()  # the transaction's other changes first, so the lock covers only the audit rows
    connection = session.connection()  # Core, not session.execute: no autoflush, no ORM overhead
    last_seq, prev = connection.execute(_reserve, {"n": len(rows)}).one()
    seq = last_seq - len(rows)
    for row in rows:
        seq += 1
        row.seq, row.prev_hash = seq, prev
        table = row.__tablename__
        row.hash = prev = chainformat.entry_hash(table, seq, prev, CHAINED_TABLES[table](row))
    # Inserted by the commit's own flush, right after this; inserting the event at the reserved head seq
    # sets the head's hash (trigger audit_event_chain_head, migration 0005): no extra round trip.
    session.add_all(rows)


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # Events recorded in a transaction that ended without committing are gone with it.
    if transaction.parent is None and session.info.get(_PENDING):
        session.info[_PENDING] = []
