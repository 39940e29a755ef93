"""Borrowing 借阅 statistics: requests per month by status, approval times by classification, grants
running now by mode, and originals overdue. A request counts when it covers a document the viewer's
report scope holds; one grouped query per figure."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from archive.actors import Actor
from archive.borrowing.models import BorrowItem, BorrowRequest, Grant, PhysicalLoan
from archive.models import Document, User
from archive.reports.scoping import describe, report_scope
from archive.reports.sql import hours_between, month_of, months_back
from archive.reports.views import Chart, Column, Figure, Report, ReportParameters, Table
from archive.unit_of_work import UnitOfWork

MONTHS = 12
STATUSES = ("pending", "approved", "rejected", "returned", "expired", "revoked", "withdrawn")
OVERDUE_ROWS = 200


def build_borrowing(uow: UnitOfWork, actor: Actor, parameters: ReportParameters) -> Report:
    scope = report_scope(actor)
    session = uow.session
    now, today = uow.clock.now(), uow.clock.today()
    in_scope = BorrowRequest.id.in_(
        select(BorrowItem.request_id).join(Document, Document.id == BorrowItem.document_id)
        .where(scope.documents()))
    months = months_back(today, MONTHS)
    start = datetime.strptime(months[0], "%Y-%m").replace(tzinfo=UTC)
    per_month = {(m, s): int(n) for m, s, n in session.execute(
        select(month_of(BorrowRequest.created_at), BorrowRequest.status, func.count())
        .where(in_scope, BorrowRequest.created_at >= start)
        .group_by(month_of(BorrowRequest.created_at), BorrowRequest.status)).all()}
    requests = tuple((m, *(per_month.get((m, s), 0) for s in STATUSES), sum(per_month.get((m, s), 0) for s in STATUSES))
                     for m in months)
    hours = hours_between(BorrowRequest.created_at, BorrowRequest.decided_at)
    timing = session.execute(
        select(BorrowRequest.classification, func.count(), func.avg(hours), func.max(hours))
        .where(in_scope, BorrowRequest.decided_at.is_not(None), BorrowRequest.created_at >= start)
        .group_by(BorrowRequest.classification).order_by(BorrowRequest.classification)).all()
    grants = session.execute(
        select(Grant.mode, func.count())
        .where(Grant.request_id.in_(select(BorrowRequest.id).where(in_scope)), Grant.ended_at.is_(None),
               Grant.starts_at <= now, Grant.expires_at > now)
        .group_by(Grant.mode).order_by(Grant.mode)).all()
    overdue_condition = (PhysicalLoan.returned_at.is_(None), PhysicalLoan.due_on < today, scope.documents())
    overdue_total = session.scalar(
        select(func.count(PhysicalLoan.id)).join(Document, Document.id == PhysicalLoan.document_id)
        .where(*overdue_condition)) or 0
    overdue = session.execute(
        select(BorrowRequest.number, User.username, Document.archive_code, PhysicalLoan.box, PhysicalLoan.shelf,
               PhysicalLoan.due_on)
        .select_from(PhysicalLoan).join(Document, Document.id == PhysicalLoan.document_id)
        .join(BorrowRequest, BorrowRequest.id == PhysicalLoan.request_id)
        .join(User, User.id == BorrowRequest.requester_id)
        .where(*overdue_condition).order_by(PhysicalLoan.due_on, PhysicalLoan.id).limit(OVERDUE_ROWS)).all()
    decided = sum(int(n) for _, n, _, _ in timing)
    mean = (sum(float(a or 0) * int(n) for _, n, a, _ in timing) / decided) if decided else None
    return Report(
        name="borrowing", scope=describe(actor, scope), generated_at=now,
        figures=(Figure("requests_12_months", sum(r[-1] for r in requests)),
                 Figure("decided_12_months", decided),
                 Figure("mean_approval_hours", round(mean, 1) if mean is not None else None, "number"),
                 Figure("active_grants", sum(int(n) for _, n in grants)),
                 Figure("overdue_loans", int(overdue_total))),
        tables=(
            Table("requests", (Column("month", "text"), *(Column(s) for s in STATUSES), Column("total")), requests),
            Table("approval_times", (Column("classification", "classification"), Column("decided"),
                                     Column("mean_hours", "number"), Column("max_hours", "number")),
                  tuple((c, int(n), round(float(a or 0), 1), round(float(m or 0), 1)) for c, n, a, m in timing)),
            Table("active_grants", (Column("mode", "mode"), Column("grants")), tuple((m, int(n)) for m, n in grants)),
            Table("overdue_loans", (Column("request", "text"), Column("borrower", "text"),
                                    Column("archive_code", "text"), Column("box", "text"), Column("shelf", "text"),
                                    Column("due_on", "date"), Column("days_overdue")),
                  tuple((number, who, code, box, shelf, due, (today - due).days)
                        for number, who, code, box, shelf, due in overdue), total_rows=int(overdue_total)),
        ),
        charts=(Chart("requests_per_month", "requests", STATUSES[:5], kind="stacked", limit=MONTHS),),
    )
