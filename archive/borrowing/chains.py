"""Approval chains as reference data: chosen by the highest classification a request covers and by
whether the requester belongs to the owning department; kept by the security administrator."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from archive import access, audit
from archive.actors import Actor
from archive.borrowing.events import event_chain_changed
from archive.borrowing.models import ARCHIVE_MANAGER, CAPACITIES, DEPARTMENT_HEAD, LEADER, ApprovalChain
from archive.borrowing.permissions import permission_chain_manage
from archive.errors import ValidationError
from archive.models import ClassificationLevel
from archive.unit_of_work import UnitOfWork

RULES = ("any", "all")  # any one approver of the capacity, or all of them
HEAD = {"capacity": DEPARTMENT_HEAD, "rule": "any"}
MANAGER = {"capacity": ARCHIVE_MANAGER, "rule": "any"}
TOP = {"capacity": LEADER, "rule": "any"}
DEFAULT_CHAINS: dict[str, list[dict[str, str]]] = {
    "public": [HEAD], "internal": [HEAD], "confidential": [HEAD, MANAGER], "secret": [HEAD, MANAGER, TOP],
}


def steps_for(session: Any, classification: str, in_department: bool) -> list[dict[str, str]]:
    """The stored chain for the level, else the default (the strictest for an unknown level)."""
    chain = session.scalar(select(ApprovalChain).where(ApprovalChain.classification == classification,
                                                       ApprovalChain.in_department.is_(in_department)))
    if chain is not None:
        return [dict(step) for step in chain.steps]
    return [dict(step) for step in DEFAULT_CHAINS.get(classification, DEFAULT_CHAINS["secret"])]


def check_steps(steps: list[dict[str, str]]) -> list[dict[str, str]]:
    if not steps:
        raise ValidationError("a chain has at least one step", code="chain_needs_a_step")
    clean = []
    for step in steps:
        capacity, rule = step.get("capacity", ""), step.get("rule", "any")
        if capacity not in CAPACITIES:
            raise ValidationError(f"capacity must be one of {', '.join(CAPACITIES)}, not {capacity!r}",
                                  code="unknown_capacity", params={"value": capacity}, field="capacity")
        if rule not in RULES:
            raise ValidationError(f"rule must be one of {', '.join(RULES)}, not {rule!r}", code="unknown_rule",
                                  params={"value": rule}, field="rule")
        clean.append({"capacity": capacity, "rule": rule})
    return clean


def set_chain(uow: UnitOfWork, *, actor: Actor, classification: str, in_department: bool,
              steps: list[dict[str, str]]) -> None:
    """Replace a level's chain. Requires permission_chain_manage; audited with before and after."""
    with uow:
        access.require(actor, permission_chain_manage)
        session = uow.session
        if session.get(ClassificationLevel, classification) is None:
            raise ValidationError(f"unknown classification {classification!r}", code="unknown_classification",
                                  params={"value": classification}, field="classification")
        clean = check_steps(steps)
        before = steps_for(session, classification, in_department)
        chain = session.scalar(select(ApprovalChain).where(ApprovalChain.classification == classification,
                                                           ApprovalChain.in_department.is_(in_department)))
        if chain is None:
            session.add(ApprovalChain(classification=classification, in_department=in_department, steps=clean))
        else:
            chain.steps = clean
        audit.record(session, actor, event_chain_changed, target_type="approval_chain",
                     target_id=f"{classification}:{'in' if in_department else 'out'}", before=before, after=clean)
        uow.commit()


def list_chains(uow: UnitOfWork, *, actor: Actor) -> list[tuple[str, bool, list[dict[str, str]]]]:
    """Every level's chain for requesters outside and inside the owning department."""
    with uow:
        access.require(actor, permission_chain_manage)
        levels = uow.session.scalars(select(ClassificationLevel.code).order_by(ClassificationLevel.rank)).all()
        return [(level, inside, steps_for(uow.session, level, inside)) for level in levels for inside in (False, True)]
