"""Counters in the database: growing login delays (per account name, per address) and per-user rate
limits. In the database rather than in process memory so every web process and worker shares them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archive.models import as_utc, utcnow
from archive.security.models import SecurityCounter

ADDRESS_FACTOR = 4  # an address may fail this many times more often than one account name


def login_keys(username: str, remote_addr: str) -> tuple[str, str]:
    """The counters of one login attempt: the account name as typed (known or not) and the address."""
    return f"login:user:{username.strip().lower()[:100]}", f"login:addr:{remote_addr[:64]}"


def login_delay(failures: int, free: int, max_seconds: int) -> int:
    """Seconds to wait after `failures` failures: none for the first `free`, then 1, 2, 4, … up to the cap."""
    if failures < free:
        return 0
    return min(2 ** min(failures - free, 30), max_seconds)


def wait_seconds(session: Session, key: str, *, free: int, max_seconds: int, now: datetime | None = None) -> int:
    """How long the holder of this counter must still wait before trying again (0: may try now)."""
    now = now or utcnow()
    counter = session.get(SecurityCounter, key)
    if counter is None:
        return 0
    delay = login_delay(counter.count, free, max_seconds)
    remaining = as_utc(counter.last_at) + timedelta(seconds=delay) - now
    return max(0, int(remaining.total_seconds() + 0.999))


def record_failure(session: Session, key: str, *, forget_after: timedelta, now: datetime | None = None) -> int:
    """Count one failure; a counter left alone for `forget_after` starts again. Return the new count."""
    now = now or utcnow()
    counter = _locked_counter(session, key, now)
    if now - as_utc(counter.last_at) > forget_after:
        counter.count, counter.window_started_at = 0, now
    counter.count += 1
    counter.last_at = now
    session.flush()
    return counter.count


def clear(session: Session, *keys: str) -> None:
    session.execute(delete(SecurityCounter).where(SecurityCounter.key.in_(keys)))


def hit(session: Session, key: str, *, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    """Count one action in a fixed window; False (and not counted) once `limit` actions were made in it."""
    now = now or utcnow()
    counter = _locked_counter(session, key, now)
    if now - as_utc(counter.window_started_at) >= window:
        counter.count, counter.window_started_at = 0, now
    if counter.count >= limit:
        return False
    counter.count += 1
    counter.last_at = now
    session.flush()
    return True


def _locked_counter(session: Session, key: str, now: datetime) -> SecurityCounter:
    """The counter's row, locked (FOR UPDATE), created at 0 if missing.

    Two requests in different processes may both find no row: INSERT ... ON CONFLICT DO NOTHING lets the
    second wait for the first and then lock the row it made, where a plain INSERT would fail the request.
    """
    counter = session.get(SecurityCounter, key, with_for_update=True)
    if counter is not None:
        return counter
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(SecurityCounter).values(key=key, count=0, window_started_at=now, last_at=now)
                    .on_conflict_do_nothing(index_elements=[SecurityCounter.key]))
    counter = session.get(SecurityCounter, key, with_for_update=True, populate_existing=True)
    assert counter is not None
    return counter
