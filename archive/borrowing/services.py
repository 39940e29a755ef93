"""Borrowing 借阅: a request runs its approval chain, becomes a time-boxed grant that the access policy
honours everywhere, and ends by expiry, return or revocation. Originals are lent and returned by the
archive room (登记在案), with reminders before the due date and on every day overdue."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from archive import access, audit
from archive.actors import Actor, DocumentGrant
from archive.borrowing import chains
from archive.borrowing.events import (
    event_borrow_decided,
    event_borrow_ended,
    event_borrow_escalated,
    event_borrow_granted,
    event_borrow_requested,
    event_delegation_set,
    event_loan_lent,
    event_loan_reminded,
    event_loan_returned,
)
from archive.borrowing.models import (
    ARCHIVE_MANAGER,
    CAPACITIES,
    DEPARTMENT_HEAD,
    DOWNLOAD,
    LEADER,
    MODES,
    ORIGINAL,
    VIEW,
    BorrowDecision,
    BorrowItem,
    BorrowRequest,
    Delegation,
    Grant,
    PhysicalLoan,
)
from archive.borrowing.permissions import (
    permission_borrow_approve,
    permission_borrow_request,
    permission_borrow_revoke,
    permission_loan_manage,
)
from archive.borrowing.views import (
    DecisionView,
    DelegationView,
    GrantTrace,
    ItemView,
    LoanView,
    RequestView,
)
from archive.errors import AccessDenied, NotFoundError, ValidationError
from archive.identity import classify_identifier
from archive.models import (
    SHREDDED,
    ClassificationLevel,
    Customer,
    Department,
    Document,
    SearchOutbox,
    User,
    as_utc,
)
from archive.permissions import permission_document_download, permission_document_view
from archive.pii import lookup_hash, redact
from archive.roles import APPROVER, RECORDS_MANAGER, SECURITY_ADMIN
from archive.roles import LEADER as LEADER_ROLE
from archive.security.lookups import audit_hash
from archive.services import inbox, indexing
from archive.unit_of_work import UnitOfWork

ROLE_OF = {DEPARTMENT_HEAD: APPROVER, ARCHIVE_MANAGER: RECORDS_MANAGER, LEADER: LEADER_ROLE}
PERMISSIONS = {VIEW: frozenset({permission_document_view}),
               DOWNLOAD: frozenset({permission_document_view, permission_document_download}),
               ORIGINAL: frozenset()}  # a paper original is lent at the counter, not opened online
LINK = "/borrow/{id}"


def _denied(actor: Actor, permission: str, reason: str, request: BorrowRequest | None = None) -> AccessDenied:
    return access.denied(actor, permission, reason, "borrow_request", request.id if request is not None else "")


# --- asking -----------------------------------------------------------------------------------


def _resolve(uow: UnitOfWork, codes: list[str], dossier_id: int | None, customer: str | None,
             types: list[str]) -> list[Document]:
    """The documents a request names, found as the system would (the requester learns nothing of them)."""
    session = uow.session
    conditions = []
    if codes:
        conditions.append(Document.archive_code.in_(codes))
    if dossier_id is not None:
        conditions.append(Document.dossier_id == dossier_id)
    if customer:
        _kind, number = classify_identifier(customer)
        customer_ids = select(Customer.id).where(Customer.identity_hash == lookup_hash(number, uow.keyring))
        by_customer = Document.customer_id.in_(customer_ids)
        conditions.append(and_(by_customer, Document.document_type.in_(types)) if types else by_customer)
    if not conditions:
        return []
    query = select(Document).where(or_(*conditions), Document.status.notin_((SHREDDED, "failed")))
    return list(session.scalars(query.order_by(Document.id)).unique())


def request_borrow(
    uow: UnitOfWork, *, actor: Actor, purpose: str, mode: str, days: int, codes: Iterable[str] = (),
    dossier_id: int | None = None, customer: str | None = None, types: Iterable[str] = (),
) -> str:
    """Ask to borrow archive codes, a dossier, or a customer's documents of some types (customer: an ID
    number or credit code, looked up by its hash). Returns the request number and nothing about what
    exists. Requires permission_borrow_request; the first step's approvers are notified."""
    codes, types = [c.strip() for c in codes if c.strip()], [t.strip() for t in types if t.strip()]
    if not purpose.strip():
        raise ValidationError("a purpose (用途) is required", code="borrow_purpose_required", field="purpose")
    if mode not in MODES:
        raise ValidationError(f"mode must be one of {', '.join(MODES)}, not {mode!r}", code="borrow_unknown_mode",
                              params={"value": mode}, field="mode")
    if not 1 <= days <= uow.settings.borrow_max_days:
        raise ValidationError(f"the period is 1 to {uow.settings.borrow_max_days} days", code="borrow_days_range",
                              params={"max": uow.settings.borrow_max_days}, field="days")
    if not (codes or dossier_id is not None or customer):
        raise ValidationError("name archive codes, a dossier or a customer", code="borrow_nothing_named", field="codes")
    with uow:
        access.require(actor, permission_borrow_request)
        session = uow.session
        documents = _resolve(uow, codes, dossier_id, customer, types)
        ranks = dict(session.execute(select(ClassificationLevel.code, ClassificationLevel.rank)).all())
        level = max((d.classification for d in documents), key=lambda c: ranks.get(c, 99), default="public")
        owners = {d.department_id for d in documents}
        in_department = bool(owners) and owners == {actor.department_id}
        steps = chains.steps_for(session, level, in_department) if documents else [dict(chains.MANAGER)]
        now = uow.clock.now()
        asked: dict[str, Any] = {"codes": codes, "dossier": dossier_id, "types": types}
        if customer:
            asked["customer"] = redact(customer)  # masked; the hash alone is in the audit
        request = BorrowRequest(number="", requester_id=actor.user_id, purpose=purpose.strip(), mode=mode, days=days,
                                asked=asked, status="pending", classification=level, in_department=in_department,
                                steps=steps, step=0, step_started_at=now, created_at=now)
        session.add(request)
        session.flush()
        request.number = f"JY-{now.year}-{request.id:06d}"
        for document in documents:
            session.add(BorrowItem(request_id=request.id, document_id=document.id,
                                   department_id=document.department_id))
        session.flush()
        audit.record(session, actor, event_borrow_requested, target_type="borrow_request", target_id=request.id,
                     number=request.number, purpose=request.purpose, mode=mode, days=days, codes=codes,
                     dossier=dossier_id, customer_hash=audit_hash(classify_identifier(customer)[1], uow.keyring)
                     if customer else "", types=types, documents=[d.id for d in documents])
        inbox.notify(uow, _all_approvers(session, request, uow.clock.today()), "borrow.to_decide",
                     link=LINK.format(id=request.id), number=request.number)
        uow.commit()
        return request.number


# --- who decides --------------------------------------------------------------------------------


def _parties(request: BorrowRequest) -> list[int | None]:
    """Who must agree at the waiting step: each owning department for a head step, else one party."""
    if request.steps[request.step]["capacity"] == DEPARTMENT_HEAD:
        return sorted({item.department_id for item in request.items}) or [None]
    return [None]


def _holders(session: Session, request: BorrowRequest, party: int | None) -> set[int]:
    """The active users of the step's capacity for a party, never the requester."""
    role = ROLE_OF[request.steps[request.step]["capacity"]]
    query = select(User.id).where(User.role == role, User.active.is_(True), User.id != request.requester_id)
    if party is not None:
        query = query.where(User.department_id == party)
    return set(session.scalars(query))


def _delegates(session: Session, holders: set[int], today: date, requester_id: int) -> dict[int, int]:
    """delegate -> the holder they stand in for, on delegations running today."""
    if not holders:
        return {}
    rows = session.execute(select(Delegation.delegate_id, Delegation.approver_id).where(
        Delegation.approver_id.in_(holders), Delegation.starts_on <= today, Delegation.ends_on >= today))
    return {delegate: holder for delegate, holder in rows if delegate != requester_id}


def _eligible(session: Session, request: BorrowRequest, party: int | None, today: date) -> dict[int, int | None]:
    """user -> None (decides in their own right) or the holder they stand in for."""
    holders = _holders(session, request, party)
    eligible: dict[int, int | None] = dict.fromkeys(holders)
    for delegate, holder in _delegates(session, holders, today, request.requester_id).items():
        eligible.setdefault(delegate, holder)
    return eligible


def _all_approvers(session: Session, request: BorrowRequest, today: date) -> set[int]:
    return {user for party in _parties(request) for user in _eligible(session, request, party, today)}


def _step_done(session: Session, request: BorrowRequest) -> bool:
    rule = request.steps[request.step].get("rule", "any")
    decided = [d for d in request.decisions if d.step == request.step and d.approve]
    for party in _parties(request):
        mine = {d.on_behalf_of_id or d.approver_id for d in decided if d.department_id == party}
        if not mine or (rule == "all" and not _holders(session, request, party) <= mine):
            return False
    return True


# --- deciding -----------------------------------------------------------------------------------


def _load(session: Session, request_id: int, *, lock: bool = False) -> BorrowRequest:
    request = session.get(BorrowRequest, request_id, with_for_update=lock)
    if request is None:
        raise NotFoundError(f"no borrow request {request_id}")
    return request


def decide(uow: UnitOfWork, *, actor: Actor, request_id: int, approve: bool, comment: str = "") -> str:
    """Approve or reject the waiting step (a reason is required to reject). Returns the request's status
    afterwards. Requires permission_borrow_approve and the step's capacity (or a delegation from it);
    nobody approves their own request."""
    with uow:
        access.require(actor, permission_borrow_approve)
        session = uow.session
        request = _load(session, request_id, lock=True)
        if request.status != "pending":
            raise ValidationError(f"request {request.number} is {request.status}, not pending", code="borrow_not_pending",
                                  params={"number": request.number, "status": request.status})
        if actor.user_id == request.requester_id:
            raise _denied(actor, permission_borrow_approve, "nobody approves their own request", request)
        if not approve and not comment.strip():
            raise ValidationError("a reason is required to reject", code="reject_reason_required", field="comment")
        today = uow.clock.today()
        party, on_behalf = next(((p, e[actor.user_id]) for p in _parties(request)
                                 if actor.user_id in (e := _eligible(session, request, p, today))), (0, None))
        if party == 0:
            raise _denied(actor, permission_borrow_approve, "not an approver of this step", request)
        acting_for = on_behalf or actor.user_id
        if any(d.step == request.step and d.department_id == party and (d.on_behalf_of_id or d.approver_id)
               == acting_for for d in request.decisions):
            raise ValidationError("this step already has your decision", code="borrow_already_decided")
        now = uow.clock.now()
        session.add(BorrowDecision(request_id=request.id, step=request.step, department_id=party,
                                   approver_id=actor.user_id, on_behalf_of_id=on_behalf, approve=approve,
                                   comment=comment.strip(), decided_at=now))
        session.flush()
        session.refresh(request)
        capacity = request.steps[request.step]["capacity"]
        audit.record(session, actor, event_borrow_decided, target_type="borrow_request", target_id=request.id,
                     number=request.number, step=request.step, capacity=capacity, approve=approve,
                     comment=comment.strip(), on_behalf_of=on_behalf)
        link = LINK.format(id=request.id)
        if not approve:
            request.status, request.decided_at = "rejected", now
            inbox.notify(uow, [request.requester_id], "borrow.rejected", link=link, number=request.number,
                         comment=comment.strip())
        elif _step_done(session, request):
            if request.step + 1 < len(request.steps):
                request.step += 1
                request.step_started_at = now
                inbox.notify(uow, _all_approvers(session, request, today), "borrow.to_decide", link=link,
                             number=request.number)
            else:
                _grant(uow, actor, request, now)
        uow.commit()
        return request.status


def _grant(uow: UnitOfWork, actor: Actor, request: BorrowRequest, now: datetime) -> None:
    request.status, request.decided_at = "approved", now
    grant = Grant(request_id=request.id, user_id=request.requester_id, mode=request.mode, starts_at=now,
                  expires_at=now + timedelta(days=request.days))
    uow.session.add(grant)
    uow.session.flush()
    if request.mode != ORIGINAL:
        _reindex(uow, request)
    audit.record(uow.session, actor, event_borrow_granted, target_type="borrow_request", target_id=request.id,
                 number=request.number, grant=grant.id, mode=request.mode, expires_at=grant.expires_at.isoformat(),
                 documents=[item.document_id for item in request.items])
    inbox.notify(uow, [request.requester_id], "borrow.approved", link=LINK.format(id=request.id),
                 number=request.number, until=grant.expires_at.strftime("%Y-%m-%d %H:%M"))


def escalate(uow: UnitOfWork, *, actor: Actor) -> list[str]:
    """Move a waiting step with no approver available for ARCHIVE_BORROW_ESCALATE_HOURS to the capacity
    above it (head → archive manager → leader); the new approvers are notified. Returns the numbers."""
    moved = []
    with uow:
        session = uow.session
        now, today = uow.clock.now(), uow.clock.today()
        limit = timedelta(hours=uow.settings.borrow_escalate_hours)
        for request in session.scalars(select(BorrowRequest).where(BorrowRequest.status == "pending")):
            step = request.steps[request.step]
            if now - as_utc(request.step_started_at) < limit or step["capacity"] == LEADER:
                continue
            if all(_eligible(session, request, party, today) for party in _parties(request)):
                continue
            higher = CAPACITIES[CAPACITIES.index(step["capacity"]) + 1]
            steps = [dict(s) for s in request.steps]
            steps[request.step] = {**step, "capacity": higher, "escalated_from": step["capacity"]}
            request.steps, request.step_started_at = steps, now
            audit.record(session, actor, event_borrow_escalated, target_type="borrow_request", target_id=request.id,
                         number=request.number, step=request.step, before=step["capacity"], after=higher)
            inbox.notify(uow, _all_approvers(session, request, today), "borrow.escalated",
                         link=LINK.format(id=request.id), number=request.number)
            moved.append(request.number)
        uow.commit()
    return moved


def delegate(uow: UnitOfWork, *, actor: Actor, to: str, starts_on: date, ends_on: date) -> int:
    """Let another approver of the same capacity decide for the actor from starts_on to ends_on."""
    with uow:
        access.require(actor, permission_borrow_approve)
        session = uow.session
        delegate_user = session.scalar(select(User).where(User.username == to, User.active.is_(True)))
        if delegate_user is None:
            raise NotFoundError(f"no active user {to!r}")
        if delegate_user.id == actor.user_id or delegate_user.role != actor.role:
            raise ValidationError("delegate to another approver of the same capacity", code="delegate_same_capacity",
                                  field="delegate")
        if ends_on < starts_on:
            raise ValidationError("the delegation ends before it starts", code="delegation_ends_before_start",
                                  field="ends_on")
        row = Delegation(approver_id=actor.user_id, delegate_id=delegate_user.id, starts_on=starts_on, ends_on=ends_on)
        session.add(row)
        session.flush()
        audit.record(session, actor, event_delegation_set, target_type="user", target_id=delegate_user.id,
                     delegate=to, starts_on=starts_on.isoformat(), ends_on=ends_on.isoformat())
        uow.commit()
        return row.id


def list_delegations(uow: UnitOfWork, *, actor: Actor) -> list[DelegationView]:
    """The delegations the actor gave or received that have not ended."""
    with uow:
        session = uow.session
        names = dict(session.execute(select(User.id, User.username)).all())
        rows = session.scalars(select(Delegation).where(
            or_(Delegation.approver_id == actor.user_id, Delegation.delegate_id == actor.user_id),
            Delegation.ends_on >= uow.clock.today()).order_by(Delegation.starts_on))
        return [DelegationView(d.id, names.get(d.approver_id, ""), names.get(d.delegate_id, ""), d.starts_on,
                               d.ends_on) for d in rows]


# --- grants -------------------------------------------------------------------------------------


def _running(now: datetime) -> Any:
    """Grants open online at this instant (a loan of originals opens nothing online)."""
    return and_(Grant.ended_at.is_(None), Grant.starts_at <= now, Grant.expires_at > now, Grant.mode != ORIGINAL)


def grants_for(session: Session, user_id: int, now: datetime) -> list[DocumentGrant]:
    """The grants running for the user at this instant, each with the documents it lends
    (archive.ports.Lending.grants); read on every request, so two plain queries."""
    name = session.scalar(select(User.display_name).where(User.id == user_id)) or ""
    grants = session.execute(
        select(Grant.id, Grant.request_id, Grant.mode, Grant.expires_at, BorrowRequest.number, BorrowRequest.purpose)
        .join(BorrowRequest, BorrowRequest.id == Grant.request_id)
        .where(Grant.user_id == user_id, _running(now))).all()
    if not grants:
        return []
    lent: dict[int, set[int]] = {}
    for request_id, document_id in session.execute(
            select(BorrowItem.request_id, BorrowItem.document_id).join(Grant, Grant.request_id == BorrowItem.request_id)
            .where(Grant.user_id == user_id, _running(now))):
        lent.setdefault(request_id, set()).add(document_id)
    return [DocumentGrant(frozenset(lent.get(g.request_id, ())), g.id, g.number, g.purpose, PERMISSIONS[g.mode],
                          as_utc(g.expires_at), name) for g in grants]


def borrowers(session: Session, document_ids: Collection[int], now: datetime) -> dict[int, tuple[int, ...]]:
    """The users each document is lent to now: the search index tags documents with them."""
    lent: dict[int, list[int]] = {}
    for document_id, user_id in session.execute(
            select(BorrowItem.document_id, Grant.user_id).join(Grant, Grant.request_id == BorrowItem.request_id)
            .where(BorrowItem.document_id.in_(list(document_ids)), _running(now)).distinct()):
        lent.setdefault(document_id, []).append(user_id)
    return {document_id: tuple(sorted(users)) for document_id, users in lent.items()}


def index_lag(session: Session, user_id: int, now: datetime, lent: frozenset[int]) -> tuple[frozenset[int],
                                                                                          frozenset[int]]:
    """What the index has not caught up with for the user: documents lent but not yet tagged with them
    (their reindex still queued), and documents tagged but no longer lent (a grant past its expiry
    that the job has not ended yet, or ended with the reindex still queued)."""
    queued = select(SearchOutbox.document_id)
    mine = (select(BorrowItem.document_id).join(Grant, Grant.request_id == BorrowItem.request_id)
            .where(Grant.user_id == user_id, Grant.mode != ORIGINAL))
    pending = frozenset(session.scalars(mine.where(_running(now), BorrowItem.document_id.in_(queued))))
    stale = frozenset(session.scalars(mine.where(or_(
        and_(Grant.ended_at.is_(None), Grant.expires_at <= now),
        and_(Grant.ended_at.is_not(None), BorrowItem.document_id.in_(queued))))))
    return pending & lent, stale - lent


def _reindex(uow: UnitOfWork, request: BorrowRequest) -> None:
    """The index tags lent documents with their borrowers: a grant that starts or ends retags them."""
    for item in request.items:
        indexing.queue_reindex(uow, item.document_id)


def _end(uow: UnitOfWork, actor: Actor, grant: Grant, reason: str, at: datetime, **detail: Any) -> None:
    grant.ended_at, grant.end_reason, grant.ended_by_id = at, reason, actor.user_id
    grant.request.status = {"expired": "expired", "returned": "returned", "revoked": "revoked"}[reason]
    if grant.mode != ORIGINAL:
        _reindex(uow, grant.request)
    audit.record(uow.session, actor, event_borrow_ended, target_type="borrow_request", target_id=grant.request_id,
                 number=grant.request.number, grant=grant.id, reason=reason, **detail)
    inbox.notify(uow, [grant.user_id], "borrow.ended", link=LINK.format(id=grant.request_id),
                 number=grant.request.number, reason=reason)


def _running_grant(session: Session, request: BorrowRequest) -> Grant:
    grant = session.scalar(select(Grant).where(Grant.request_id == request.id, Grant.ended_at.is_(None)))
    if grant is None:
        raise ValidationError(f"request {request.number} has no running grant", code="borrow_no_running_grant",
                              params={"number": request.number})
    return grant


def expire_grants(uow: UnitOfWork, *, actor: Actor) -> int:
    """End every grant past its expiry (the check at use already refuses it); returns how many."""
    with uow:
        now = uow.clock.now()
        ended = list(uow.session.scalars(select(Grant).where(Grant.ended_at.is_(None), Grant.expires_at <= now)))
        for grant in ended:
            _end(uow, actor, grant, "expired", as_utc(grant.expires_at))
        uow.commit()
        return len(ended)


def return_borrow(uow: UnitOfWork, *, actor: Actor, request_id: int) -> None:
    """The borrower gives the access back early (a loaned original is returned at the counter)."""
    with uow:
        request = _load(uow.session, request_id, lock=True)
        if request.requester_id != actor.user_id:
            raise _denied(actor, permission_borrow_request, "only the borrower returns a borrowing", request)
        grant = _running_grant(uow.session, request)
        if _open_loans(uow.session, request.id):
            raise ValidationError("the paper originals are returned at the archive room's counter",
                                  code="originals_returned_at_counter")
        _end(uow, actor, grant, "returned", uow.clock.now())
        uow.commit()


def _may_revoke(actor: Actor, request: BorrowRequest) -> bool:
    """The security administrator, or an approver who decided the request (and the hourly job)."""
    if permission_borrow_revoke not in actor.permissions:
        return False
    return actor.role in (SECURITY_ADMIN, "system") or actor.user_id in {d.approver_id for d in request.decisions}


def oversees(actor: Actor) -> bool:
    """Whether the actor sees every request and running grant (the security administrator, the archive room)."""
    return actor.role == SECURITY_ADMIN or permission_loan_manage in actor.permissions


def revoke(uow: UnitOfWork, *, actor: Actor, request_id: int, reason: str) -> None:
    """End a running grant at once. Requires permission_borrow_revoke: the security administrator, or an
    approver who decided the request."""
    with uow:
        access.require(actor, permission_borrow_revoke)
        request = _load(uow.session, request_id, lock=True)
        if not _may_revoke(actor, request):
            raise _denied(actor, permission_borrow_revoke, "only its approvers or the security administrator",
                          request)
        if not reason.strip():
            raise ValidationError("a reason is required to revoke", code="revoke_reason_required", field="reason")
        _end(uow, actor, _running_grant(uow.session, request), "revoked", uow.clock.now(), comment=reason.strip())
        uow.commit()


# --- reading requests ---------------------------------------------------------------------------


def _asked(session: Session, actor: Actor, request: BorrowRequest, today: date) -> bool:
    """Whether the actor may decide the step that waits (in their own right or by delegation)."""
    return (request.status == "pending" and permission_borrow_approve in actor.permissions
            and actor.user_id != request.requester_id and actor.user_id in _all_approvers(session, request, today))


def _may_oversee(actor: Actor, request: BorrowRequest, asked: bool) -> bool:
    """Approvers of any step (asked now, or who decided) and the security administrator see what a
    request covers; its requester sees only what they named."""
    if oversees(actor):
        return True
    if permission_borrow_approve not in actor.permissions:
        return False
    return asked or any(d.approver_id == actor.user_id for d in request.decisions)


def _view(session: Session, actor: Actor, request: BorrowRequest, today: date, names: dict[int, tuple[str, str]],
          *, with_items: bool) -> RequestView:
    grant = session.scalar(select(Grant).where(Grant.request_id == request.id))
    asked = _asked(session, actor, request, today)  # the approvers worked out once per request
    oversee = _may_oversee(actor, request, asked)
    items: list[ItemView] = []
    if with_items and (oversee or request.requester_id == actor.user_id):
        documents = session.scalars(select(Document).where(Document.id.in_([i.document_id for i in request.items])))
        departments = dict(session.execute(select(Department.id, Department.code)).all())
        for d in documents.unique():
            if not oversee and not access.allows(actor, permission_document_view, d):
                continue  # the requester learns nothing beyond what they may already see
            items.append(ItemView(d.id, d.archive_code, redact(d.title), d.document_type, d.classification,
                                  departments.get(d.department_id, ""), d.box or "", d.shelf or ""))
    decisions = [DecisionView(d.step, request.steps[d.step]["capacity"] if d.step < len(request.steps) else "",
                              names.get(d.approver_id, ("", ""))[0],
                              names.get(d.on_behalf_of_id, ("", ""))[0] if d.on_behalf_of_id else "",
                              d.approve, d.comment, as_utc(d.decided_at)) for d in request.decisions]
    awaiting = asked and not any(d.step == request.step and d.approver_id == actor.user_id
                                 for d in request.decisions)
    requester = names.get(request.requester_id, ("", ""))
    running = grant is not None and grant.ended_at is None
    actions = {action for action, allowed in (
        ("decide", awaiting),
        ("return", running and request.requester_id == actor.user_id and request.mode != ORIGINAL),
        ("revoke", running and _may_revoke(actor, request)),
        ("lend", running and request.mode == ORIGINAL and permission_loan_manage in actor.permissions
         and not session.scalar(select(func.count()).select_from(PhysicalLoan)
                                .where(PhysicalLoan.request_id == request.id))),
    ) if allowed}
    return RequestView(
        id=request.id, number=request.number, requester=requester[0], requester_name=requester[1],
        purpose=request.purpose, mode=request.mode, days=request.days, status=request.status,
        classification=request.classification if oversee else "", in_department=request.in_department,
        asked=dict(request.asked), steps=[dict(s) for s in request.steps], step=request.step,
        created_at=as_utc(request.created_at), grant_expires_at=as_utc(grant.expires_at) if grant else None,
        grant_ended_at=as_utc(grant.ended_at) if grant and grant.ended_at else None,
        grant_end_reason=grant.end_reason or "" if grant else "", items=items, decisions=decisions,
        awaiting_me=awaiting, actions=frozenset(actions),
    )


def _names(session: Session) -> dict[int, tuple[str, str]]:
    return {i: (u, n) for i, u, n in session.execute(select(User.id, User.username, User.display_name))}


def get_request(uow: UnitOfWork, *, actor: Actor, request_id: int) -> RequestView:
    """The requester, its approvers, the archive room and the security administrator may open it."""
    with uow:
        session = uow.session
        request = _load(session, request_id)
        today = uow.clock.today()
        if request.requester_id != actor.user_id and not _may_oversee(actor, request,
                                                                      _asked(session, actor, request, today)):
            raise _denied(actor, permission_borrow_request, "neither its requester nor an approver", request)
        return _view(session, actor, request, today, _names(session), with_items=True)


def own_request_id(uow: UnitOfWork, *, actor: Actor, number: str) -> int | None:
    """The id of the actor's own request with this number (None when they made none such)."""
    with uow:
        return uow.session.scalar(select(BorrowRequest.id).where(BorrowRequest.number == number,
                                                                 BorrowRequest.requester_id == actor.user_id))


def list_requests(uow: UnitOfWork, *, actor: Actor, which: str = "mine", limit: int = 200,
                  before_id: int | None = None) -> list[RequestView]:
    """which: mine (the actor's own), to_approve (waiting for the actor), decided (the actor decided),
    active (running grants: archive room and security administrator), all (security administrator).
    Newest first; before_id continues a list after the request with that id."""
    with uow:
        session = uow.session
        today = uow.clock.today()
        query = select(BorrowRequest).order_by(BorrowRequest.id.desc())
        if before_id is not None:
            query = query.where(BorrowRequest.id < before_id)
        if which == "mine":
            access.require(actor, permission_borrow_request)
            query = query.where(BorrowRequest.requester_id == actor.user_id)
        elif which == "to_approve":
            access.require(actor, permission_borrow_approve)
            query = query.where(BorrowRequest.status == "pending", BorrowRequest.requester_id != actor.user_id)
        elif which == "decided":
            access.require(actor, permission_borrow_approve)
            query = query.where(BorrowRequest.id.in_(select(BorrowDecision.request_id).where(
                BorrowDecision.approver_id == actor.user_id)))
        elif which in ("active", "all"):
            if not oversees(actor):
                access.require(actor, permission_loan_manage)
            if which == "active":
                query = query.where(BorrowRequest.status == "approved")
        else:
            raise ValidationError("which must be mine, to_approve, decided, active or all")
        requests = list(session.scalars(query.limit(limit if which != "to_approve" else 5000)))
        if which == "to_approve":
            requests = [r for r in requests if actor.user_id in _all_approvers(session, r, today)][:limit]
        names = _names(session)
        return [_view(session, actor, r, today, names, with_items=False) for r in requests]


def trace_grant(uow: UnitOfWork, *, actor: Actor, grant_id: int) -> GrantTrace:
    """Who a watermark's grant id points to. Requires permission_borrow_revoke (security administrator,
    approvers) or the audit view; audited."""
    from archive.borrowing.events import event_watermark_identified
    from archive.permissions import permission_audit_view

    with uow:
        if not ({permission_borrow_revoke, permission_audit_view} & actor.permissions):
            access.require(actor, permission_audit_view)
        session = uow.session
        grant = session.get(Grant, grant_id)
        if grant is None:
            raise NotFoundError(f"no grant {grant_id}")
        user = session.get(User, grant.user_id)
        assert user is not None
        audit.record(session, actor, event_watermark_identified, target_type="borrow_request",
                     target_id=grant.request_id, grant=grant.id, number=grant.request.number)
        uow.commit()
        return GrantTrace(grant.id, grant.request.number, user.username, user.display_name, grant.request.purpose,
                          grant.mode, as_utc(grant.starts_at), as_utc(grant.expires_at))


# --- paper originals ----------------------------------------------------------------------------


def _open_loans(session: Session, request_id: int) -> list[PhysicalLoan]:
    return list(session.scalars(select(PhysicalLoan).where(PhysicalLoan.request_id == request_id,
                                                           PhysicalLoan.returned_at.is_(None))))


def lend_originals(uow: UnitOfWork, *, actor: Actor, request_id: int, note: str = "") -> list[int]:
    """The archive room hands over an approved request's originals, with box and shelf, due after the
    request's days. Requires permission_loan_manage."""
    with uow:
        access.require(actor, permission_loan_manage)
        session = uow.session
        request = _load(session, request_id, lock=True)
        if request.mode != ORIGINAL or request.status != "approved":
            raise ValidationError(f"request {request.number} is not an approved loan of originals",
                                  code="not_an_original_loan", params={"number": request.number})
        _running_grant(session, request)
        if session.scalar(select(func.count()).select_from(PhysicalLoan).where(
                PhysicalLoan.request_id == request.id)):
            raise ValidationError(f"the originals of {request.number} were already lent", code="originals_already_lent",
                                  params={"number": request.number})
        now, due = uow.clock.now(), uow.clock.today() + timedelta(days=request.days)
        ids = []
        for item in request.items:
            document = session.get(Document, item.document_id)
            assert document is not None
            loan = PhysicalLoan(request_id=request.id, document_id=document.id, box=document.box or "",
                                shelf=document.shelf or "", lent_at=now, lent_by_id=actor.user_id, due_on=due,
                                note=note)
            session.add(loan)
            session.flush()
            ids.append(loan.id)
            audit.record(session, actor, event_loan_lent, target_type="document", target_id=document.id,
                         number=request.number, loan=loan.id, box=loan.box, shelf=loan.shelf, due_on=due.isoformat())
        uow.commit()
        return ids


def return_original(uow: UnitOfWork, *, actor: Actor, loan_id: int) -> None:
    """Register an original back in the archive room; the last one back ends the grant (returned)."""
    with uow:
        access.require(actor, permission_loan_manage)
        session = uow.session
        loan = session.get(PhysicalLoan, loan_id, with_for_update=True)
        if loan is None or loan.returned_at is not None:
            raise NotFoundError(f"no original out on loan {loan_id}")
        loan.returned_at, loan.returned_by_id = uow.clock.now(), actor.user_id
        request = _load(session, loan.request_id)
        audit.record(session, actor, event_loan_returned, target_type="document", target_id=loan.document_id,
                     number=request.number, loan=loan.id, box=loan.box, shelf=loan.shelf)
        session.flush()
        if not _open_loans(session, request.id):
            grant = session.scalar(select(Grant).where(Grant.request_id == request.id, Grant.ended_at.is_(None)))
            if grant is not None:
                _end(uow, actor, grant, "returned", uow.clock.now())
        uow.commit()


def list_loans(uow: UnitOfWork, *, actor: Actor, overdue_only: bool = False) -> list[LoanView]:
    """Originals out of the archive room (overdue_only: past their due date). Requires
    permission_loan_manage."""
    with uow:
        access.require(actor, permission_loan_manage)
        session = uow.session
        today = uow.clock.today()
        query = (select(PhysicalLoan, BorrowRequest.number, User.username, Document.archive_code)
                 .join(BorrowRequest, BorrowRequest.id == PhysicalLoan.request_id)
                 .join(User, User.id == BorrowRequest.requester_id)
                 .join(Document, Document.id == PhysicalLoan.document_id)
                 .where(PhysicalLoan.returned_at.is_(None)).order_by(PhysicalLoan.due_on))
        if overdue_only:
            query = query.where(PhysicalLoan.due_on < today)
        return [LoanView(loan.id, number, username, code, loan.box, loan.shelf, as_utc(loan.lent_at), loan.due_on,
                         None, max(0, (today - loan.due_on).days))
                for loan, number, username, code in session.execute(query)]


def send_reminders(uow: UnitOfWork, *, actor: Actor) -> int:
    """ARCHIVE_BORROW_REMINDER_DAYS before the due date, and on every day overdue, remind the borrower
    (in-app; by e-mail too when SMTP is configured). Once a day at most; returns how many went out."""
    sent = 0
    with uow:
        session = uow.session
        today = uow.clock.today()
        soon = today + timedelta(days=uow.settings.borrow_reminder_days)
        loans = session.execute(
            select(PhysicalLoan, BorrowRequest.requester_id, BorrowRequest.number, Document.archive_code)
            .join(BorrowRequest, BorrowRequest.id == PhysicalLoan.request_id)
            .join(Document, Document.id == PhysicalLoan.document_id)
            .where(PhysicalLoan.returned_at.is_(None), PhysicalLoan.due_on <= soon,
                   or_(PhysicalLoan.reminded_on.is_(None), PhysicalLoan.reminded_on < today)))
        for loan, requester_id, number, code in loans.all():
            if loan.due_on >= today and loan.reminded_on is not None:
                continue  # before the due date: once, N days ahead (or at lending, for shorter loans)
            overdue = (today - loan.due_on).days
            kind = "loan.overdue" if overdue > 0 else "loan.due_soon"
            inbox.notify(uow, [requester_id], kind, link=LINK.format(id=loan.request_id), code=code,
                         due=loan.due_on.isoformat(), days=overdue, number=number)
            loan.reminded_on = today
            audit.record(session, actor, event_loan_reminded, target_type="document", target_id=loan.document_id,
                         number=number, loan=loan.id, kind=kind, days_overdue=max(0, overdue))
            sent += 1
        uow.commit()
    return sent
