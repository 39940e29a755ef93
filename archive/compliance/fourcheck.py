"""Runs of the four-property check 四性检测 and their reports: the full run over a scope (`archive check`,
the weekly job), the records of a handover, and the filing hook (registry.Feature.filing_checks).

A run walks the records in id order, a batch per short transaction (archive.batches), reads each
record's objects once outside any transaction (checks.read_content), runs every record check, then the
set checks over the scopes and customers it met. The report is one `fourcheck_run` row: the scope, who
ran it, pass/fail counts per property and every problem, audited as fourcheck.completed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor
from archive.batches import in_batches
from archive.compliance import checks
from archive.compliance.checks import PROPERTIES, Problem, Record
from archive.compliance.events import event_fourcheck_completed
from archive.compliance.models import FourCheckRun
from archive.compliance.permissions import permission_fourcheck_run, permission_fourcheck_view
from archive.errors import NotFoundError, ValidationError
from archive.models import Department, Document, as_utc
from archive.unit_of_work import UnitOfWork
from archive.views import FilingProblem

Progress = Callable[[int, int], None]  # (documents checked so far, documents in all)
FULL, FILING, TRANSFER = "full", "filing", "transfer"
READERS = 2


@dataclass(frozen=True)
class CheckScope:
    """Which records a run covers; empty means the whole archive."""

    department: str | None = None  # a department code
    since: date | None = None  # captured on or after this day
    archive_code_prefix: str | None = None
    document_ids: tuple[int, ...] | None = None

    def describe(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple) else v)
                for k, v in (("department", self.department), ("since", self.since),
                             ("archive_code_prefix", self.archive_code_prefix), ("document_ids", self.document_ids))
                if v is not None}


@dataclass(frozen=True)
class FourCheckReport:
    run_id: int
    trigger: str
    scope: dict[str, Any]
    actor_name: str
    started_at: datetime
    finished_at: datetime
    documents_checked: int
    counts: dict[str, dict[str, int]]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == checks.ERROR for p in self.problems)

    def by_property(self, name: str) -> list[Problem]:
        return [p for p in self.problems if p.property == name]


@dataclass
class _Tally:
    """What a run gathers as it goes: problems, the documents failing each property, what set checks need."""

    documents: int = 0
    problems: list[Problem] = field(default_factory=list)
    failed: dict[str, set[int]] = field(default_factory=lambda: {p: set() for p in PROPERTIES})
    scopes: set[str] = field(default_factory=set)
    customers: set[int] = field(default_factory=set)

    def add(self, record: Record, found: list[Problem]) -> None:
        self.documents += 1
        self.scopes.add(checks.scope_of(record.archive_code))
        self.customers.add(record.customer_id)
        self.problems.extend(found)
        for problem in found:
            if problem.severity == checks.ERROR:
                self.failed[problem.property].add(record.id)

    def counts(self) -> dict[str, dict[str, int]]:
        return {p: {"passed": self.documents - len(self.failed[p]), "failed": len(self.failed[p]),
                    "problems": sum(1 for x in self.problems if x.property == p)} for p in PROPERTIES}


def run_fourcheck(uow: UnitOfWork, *, actor: Actor, scope: CheckScope = CheckScope(), trigger: str = FULL,
                  set_checks: bool = True, deep: bool = False, progress: Progress | None = None) -> FourCheckReport:
    """Run every check over the records of the scope and store the report (deep: decode every page in
    full, checks.Environment.deep). Requires permission_fourcheck_run;
    audited as fourcheck.completed (outcome failed when an error-severity problem was found). Raises
    NotFoundError for an unknown department."""
    started = datetime.now(UTC)
    with uow:
        access.require(actor, permission_fourcheck_run)
        query = _scoped(uow.session, checks.record_query(), scope)
        total = uow.session.scalar(_scoped(uow.session, select(func.count(Document.id)).where(~Document.is_shredded),
                                           scope)) or 0
        env = checks.environment(uow, deep=deep)
    tally = _Tally()

    def examine(record: Record) -> list[Problem]:
        return checks.evaluate(record, checks.read_content(uow, record, env), env)

    # Records are read on READERS threads: decryption, hashing, pdfium and Pillow's decoders release the
    # GIL, so one record's reading overlaps another's checks. Results are taken back in id order.
    with ThreadPoolExecutor(READERS, thread_name_prefix="fourcheck") as pool:
        for batch in in_batches(uow, query, Document.id, lambda u, rows: checks.load_records(u.session, rows)):
            for record, found in zip(batch, pool.map(examine, batch), strict=True):
                tally.add(record, found)
                if progress:
                    progress(tally.documents, max(total, tally.documents))
    with uow:
        if set_checks:
            tally.problems += checks.gap_problems(uow.session, tally.scopes)
            tally.problems += checks.required_document_problems(uow.session, tally.customers)
        report = store_report(uow.session, actor, trigger=trigger,
                              scope={**scope.describe(), **({"deep": True} if deep else {})}, started=started,
                              tally=tally)
        uow.commit()
    return report


def store_report(session: Session, actor: Actor, *, trigger: str, scope: dict[str, Any], started: datetime,
                 tally: _Tally) -> FourCheckReport:
    """Write the run's row and its audit event in the caller's transaction."""
    finished = datetime.now(UTC)
    counts = tally.counts()
    ok = not any(p.severity == checks.ERROR for p in tally.problems)
    run = FourCheckRun(trigger=trigger, scope=scope, actor_id=actor.user_id, actor_name=actor.username,
                       started_at=started, finished_at=finished, documents_checked=tally.documents, counts=counts,
                       problems=[_problem_row(p) for p in tally.problems], ok=ok)
    session.add(run)
    session.flush()
    audit.record(session, actor, event_fourcheck_completed, outcome="ok" if ok else "failed",
                 target_type="fourcheck_run", target_id=run.id, trigger=trigger, scope=scope,
                 documents_checked=tally.documents,
                 failed={p: c["failed"] for p, c in counts.items()}, problems=len(tally.problems))
    return FourCheckReport(run.id, trigger, scope, actor.username, started, finished, tally.documents, counts,
                           list(tally.problems))


def check_records_for_handover(uow: UnitOfWork, *, actor: Actor, document_ids: Sequence[int]) -> FourCheckReport:
    """The handover's run: every check over its records, the set checks over their scopes and customers."""
    return run_fourcheck(uow, actor=actor, scope=CheckScope(document_ids=tuple(sorted(document_ids))),
                         trigger=TRANSFER)


def list_reports(uow: UnitOfWork, *, actor: Actor, limit: int = 50, before_id: int | None = None) -> list[FourCheckReport]:
    """The newest reports first (older than `before_id` when given), without their problem lists.
    Requires permission_fourcheck_view."""
    with uow:
        access.require(actor, permission_fourcheck_view)
        query = select(FourCheckRun).order_by(FourCheckRun.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(FourCheckRun.id < before_id)
        rows = uow.session.scalars(query)
        return [_report(row, with_problems=False) for row in rows]


def get_report(uow: UnitOfWork, *, actor: Actor, run_id: int) -> FourCheckReport:
    """One report with its problems. Requires permission_fourcheck_view; NotFoundError when unknown."""
    with uow:
        access.require(actor, permission_fourcheck_view)
        row = uow.session.get(FourCheckRun, run_id)
        if row is None:
            raise NotFoundError(f"no four-property check report {run_id}")
        return _report(row, with_problems=True)


class FilingFourCheck:
    """The filing hook (archive.ports.FilingCheck): the record checks on the document being filed, read
    from the store once; error-severity problems refuse the filing. The set checks wait for the full
    run: a customer's file fills up over time, and a gap is the scope's, not this document's. The run is
    stored as a report (trigger filing) in the filing's transaction. A document that filing's own rules
refuse (OCR not finished or failed, no page, shredded) is not checked: the clerk sees one reason."""

    def problems(self, uow: UnitOfWork, document: Document, *, actor: Actor) -> list[FilingProblem]:
        if document.status != "ready" or document.is_shredded or not document.pages:
            return []  # filing's own rules refuse it already (archive.services.filing.metadata_problems)
        session = uow.session
        started = datetime.now(UTC)
        session.flush()
        rows = session.execute(checks.record_query().where(Document.id == document.id)).all()
        if not rows:
            return []
        record = checks.load_records(session, rows)[0]
        env = checks.environment(uow, deep=True)  # one document: every page decoded in full
        tally = _Tally()
        tally.add(record, checks.evaluate(record, checks.read_content(uow, record, env), env))
        store_report(session, actor, trigger=FILING, scope={"document_ids": [document.id]},
                     started=started, tally=tally)
        return [FilingProblem("fourcheck_problem", p.sentence(), {"check": p.check, "detail": p.detail})
                for p in tally.problems if p.severity == checks.ERROR]


def make_filing_check() -> FilingFourCheck:
    return FilingFourCheck()


# --- helpers ----------------------------------------------------------------------------------------


def _scoped(session: Session, query: Any, scope: CheckScope) -> Any:
    if scope.department:
        department = session.scalar(select(Department.id).where(Department.code == scope.department))
        if department is None:
            raise NotFoundError(f"no department {scope.department!r}")
        query = query.where(Document.department_id == department)
    if scope.since:
        query = query.where(Document.captured_at >= datetime(scope.since.year, scope.since.month, scope.since.day,
                                                             tzinfo=UTC))
    if scope.archive_code_prefix:
        query = query.where(Document.archive_code.startswith(scope.archive_code_prefix, autoescape=True))
    if scope.document_ids is not None:
        if not scope.document_ids:
            raise ValidationError("no records to check")
        query = query.where(Document.id.in_(scope.document_ids))
    return query


def _problem_row(problem: Problem) -> dict[str, Any]:
    return {"check": problem.check, "property": problem.property, "severity": problem.severity,
            "document_id": problem.document_id, "archive_code": problem.archive_code, "subject": problem.subject,
            "detail": problem.detail, "hint": problem.hint}


def _report(row: FourCheckRun, *, with_problems: bool) -> FourCheckReport:
    problems = [Problem(**p) for p in row.problems or []] if with_problems else []
    return FourCheckReport(row.id, row.trigger, dict(row.scope or {}), row.actor_name, as_utc(row.started_at),
                           as_utc(row.finished_at), row.documents_checked, dict(row.counts or {}), problems)
