"""Queue jobs through an outbox, so a job queue that is down when a change commits loses no job.

`enqueue_after_commit` writes a JobOutbox row in the change's own transaction; once it commits the
job is queued and the row removed. When queueing fails (Redis stopped or restarting) the change stands,
the row stays, and `flush_job_outbox` queues it later: every job consumer runs it as it starts and
every minute, and each later successful enqueue flushes what an outage left behind. A row may be
queued twice (a process dying between queueing and removing it, a flush racing the after-commit
path); tasks are idempotent, so that is harmless.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from archive.models import JobOutbox, utcnow
from archive.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

FLUSH_JOB_OUTBOX = "flush_job_outbox"  # the queued task that runs flush_job_outbox (archive/tasks.py)
# Rows younger than this are still on their after-commit path; a flush leaves them to it.
FLUSH_GRACE = timedelta(seconds=2)
FLUSH_BATCH = 500


def enqueue_after_commit(uow: UnitOfWork, task: str, *args: Any) -> None:
    """Inside an open unit of work: queue the task once the transaction commits, through the outbox."""
    row = JobOutbox(task=task, args=list(args))
    uow.session.add(row)
    uow.after_commit(lambda: _enqueue_committed(uow, row))


def _enqueue_committed(uow: UnitOfWork, row: JobOutbox) -> None:
    """After commit: queue the job and drop its row; if the queue is down, leave the row for a flush."""
    try:
        uow.jobs.enqueue(row.task, *row.args)
    except Exception as error:  # the queue's client raises its own errors (redis, sqlite3); the row stays
        log.warning("job queue unavailable, %s kept in the job outbox: %s", row.task, error)
        return
    uow.session.execute(delete(JobOutbox).where(JobOutbox.id == row.id))
    uow.session.commit()
    flush_backlog(uow)


def flush_backlog(uow: UnitOfWork) -> None:
    """Inside an open unit of work, after an enqueue succeeded (the queue works): queue what an outage
    left in the outbox, if anything. Errors are logged; the rows wait for the next flush."""
    try:
        _flush(uow, FLUSH_GRACE)
    except Exception as error:
        uow.session.rollback()
        log.warning("job outbox flush failed: %s", error)


def flush_job_outbox(uow: UnitOfWork, *, older_than: timedelta = FLUSH_GRACE) -> int:
    """Queue the outbox's jobs older than older_than, each distinct job once; return how many were queued.

    Queue errors propagate (the rows stay for the next flush).
    """
    with uow:
        return _flush(uow, older_than)


def _flush(uow: UnitOfWork, older_than: timedelta) -> int:
    """Inside an open unit of work: queue and remove the old rows in batches, committing each batch."""
    queued = 0
    while True:
        rows = uow.session.execute(
            select(JobOutbox.id, JobOutbox.task, JobOutbox.args)
            .where(JobOutbox.created_at < utcnow() - older_than).order_by(JobOutbox.id).limit(FLUSH_BATCH)
        ).all()
        if not rows:
            return queued
        jobs = {(r.task, tuple(r.args)) for r in rows}
        for task, args in sorted(jobs, key=repr):
            uow.jobs.enqueue(task, *args)
        uow.session.execute(delete(JobOutbox).where(JobOutbox.id.in_([r.id for r in rows])))
        uow.session.commit()
        queued += len(jobs)
        if len(rows) < FLUSH_BATCH:
            return queued


def pending_jobs(uow: UnitOfWork) -> int:
    """How many jobs wait in the outbox (for tests and the soak's loss count)."""
    with uow:
        return len(uow.session.scalars(select(JobOutbox.id)).all())
