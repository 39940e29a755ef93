"""The access policy: the one place that decides who may see or do what.

`require(actor, permission, target)` raises AccessDenied; `visible(actor, permission)` gives a Scope
that lists can apply as a SQL condition and search backends as an engine filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from archive.actors import Actor, DocumentGrant
from archive.errors import AccessDenied
from archive.models import Customer, Document, Dossier
from archive.permissions import (
    DUTIES,
    READING,
    permission_document_search,
    permission_document_view,
    permission_pii_view,
)
from archive.roles import SEPARATED_ROLES
from search.base import Visibility

Target = Document | Customer | Dossier | None


@dataclass(frozen=True)
class Scope:
    """Departments (None: all), classification levels and individually granted documents."""

    department_ids: frozenset[int] | None
    department_codes: frozenset[str] | None
    classifications: frozenset[str]
    granted_document_ids: frozenset[int]

    def documents(self) -> ColumnElement[bool]:
        """A SQL condition on Document for list queries."""
        if self.department_ids is None:
            dept: ColumnElement[bool] = true()
        else:
            dept = Document.department_id.in_(self.department_ids) if self.department_ids else false()
        allowed = dept & Document.classification.in_(self.classifications)
        if self.granted_document_ids:
            return or_(allowed, Document.id.in_(self.granted_document_ids))
        return allowed

    def customers(self) -> ColumnElement[bool]:
        if self.department_ids is None:
            return true()
        return Customer.department_id.in_(self.department_ids) if self.department_ids else false()

    def for_search(self, lent_to: int | None = None,
                   lag: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())) -> Visibility:
        """The engine filter. With many grants, lent_to names the user whose borrower tag the engine may
        filter by instead of the ids, and lag (Lending.index_lag) corrects what the index has not caught
        up with, so counts stay exact at every instant."""
        pending, withheld = lag
        return Visibility(
            departments=self.department_codes,
            classifications=self.classifications,
            granted_document_ids=self.granted_document_ids,
            lent_to=lent_to if self.granted_document_ids else None,
            lent_pending=pending,
            withheld_document_ids=withheld,
        )


def denied(actor: Actor, permission: str, reason: str, target_type: str = "", target_id: object = "") -> AccessDenied:
    """The refusal to raise, carrying who and what, so the unit of work audits it as access.denied."""
    error = AccessDenied(permission, reason)
    error.actor = actor  # type: ignore[attr-defined]
    error.target_type, error.target_id = target_type, str(target_id or "")  # type: ignore[attr-defined]
    return error


# Why require refused, as a stable code an entry point can explain (the reason text stays in the audit).
WHY_ROLE, WHY_DEPARTMENT, WHY_CLEARANCE = "role", "department", "clearance"


def _denied(actor: Actor, permission: str, target: Any, reason: str, why: str) -> AccessDenied:
    """The refusal, saying why (error.why) and whether the actor may know the target exists (error.disclosed);
    only then does it name the record (params["archive_code"]), so a borrow request can be offered."""
    error = denied(actor, permission, reason, type(target).__name__.lower() if target is not None else "",
                   getattr(target, "id", ""))
    error.why = why  # type: ignore[attr-defined]
    error.disclosed = isinstance(target, Document) and may_know(actor, target)  # type: ignore[attr-defined]
    error.params["why"] = why
    if error.disclosed:  # type: ignore[attr-defined]
        error.params["archive_code"] = target.archive_code
    return error


def may_know(actor: Actor, target: Document) -> bool:
    """Whether the actor may learn that the document exists: it is lent to them, or they may view it."""
    if actor.grant_for(target.id) is not None:
        return True
    if permission_document_view not in actor.permissions:
        return False
    return actor.role == "system" or (target.department_id == actor.department_id
                                      and target.classification in actor.visible_classifications)


def allows(actor: Actor, permission: str, target: Target = None) -> bool:
    try:
        require(actor, permission, target)
    except AccessDenied:
        return False
    return True


def why_not(actor: Actor, permission: str, target: Target = None) -> str:
    """Why require would refuse (a WHY_* code; "" when it allows), to explain a missing action."""
    try:
        require(actor, permission, target)
    except AccessDenied as error:
        return getattr(error, "why", "") or "denied"
    return ""


def allowed_actions(actor: Actor, target: Target) -> frozenset[str]:
    """Every permission the actor holds that the policy allows on target (what to offer on its page)."""
    return frozenset(permission for permission in actor.permissions if allows(actor, permission, target))


def require(actor: Actor, permission: str, target: Target = None) -> None:
    """Raise AccessDenied unless the actor holds the permission for this target."""
    if isinstance(target, Document) and actor.grant_for(target.id, permission) is not None:
        return  # an approved borrow request, still running (the actor is resolved on the archive's clock)
    if permission not in actor.permissions:
        raise _denied(actor, permission, target, f"role {actor.role} lacks it", WHY_ROLE)
    if target is None or actor.role == "system":
        return
    if target.department_id != actor.department_id:
        raise _denied(actor, permission, target, "another department's record", WHY_DEPARTMENT)
    if isinstance(target, Document) and target.classification not in actor.visible_classifications:
        raise _denied(actor, permission, target, f"classification {target.classification} above clearance",
                      WHY_CLEARANCE)


def via_grant(actor: Actor, permission: str, target: Document) -> DocumentGrant | None:
    """The borrow grant that opens target to the actor when their own rights would not (then what is
    served is watermarked and the access is logged with the request number and purpose)."""
    grant = actor.grant_for(target.id, permission)
    if grant is None:
        return None
    return grant if not allows(replace(actor, grants=()), permission, target) else None


def require_search(actor: Actor) -> None:
    """Searching needs permission_document_search, or a running borrow grant (then over what is lent)."""
    if not any(permission_document_view in g.permissions for g in actor.grants):
        require(actor, permission_document_search)


def visible(actor: Actor, permission: str, *, all_departments_with: str | None = None) -> Scope:
    """The records the actor may reach with this permission; raise AccessDenied if none ever.

    all_departments_with names the override (its own permission) that widens the scope from the actor's
    department to every department, still up to the actor's clearance (the archive room's reports)."""
    granted = actor.lent(permission)
    if permission not in actor.permissions and granted:
        return Scope(frozenset(), frozenset(), frozenset(), granted)  # only what was lent
    require(actor, permission)
    if actor.role == "system":
        return Scope(None, None, frozenset(actor.visible_classifications), frozenset())
    if all_departments_with is not None and all_departments_with in actor.permissions:
        return Scope(None, None, actor.visible_classifications, granted)
    department = frozenset({actor.department_id}) if actor.department_id is not None else frozenset()
    codes = frozenset({actor.department_code}) if actor.department_code else frozenset()
    return Scope(department, codes, actor.visible_classifications, granted)


def may_see_pii(actor: Actor, target: Customer | Document) -> bool:
    return allows(actor, permission_pii_view, target)


def check_role_change(actor: Actor, duty_role: str | None, role: str) -> None:
    """三员分立: an account that ever held one of the three administrator roles (duty_role) never takes
    another of them, so nobody audits what they administered. Raises AccessDenied (audited)."""
    if duty_role is not None and role in SEPARATED_ROLES and role != duty_role:
        raise _denied(actor, "role.assign", None, f"an account that was {duty_role} cannot become {role} (三员分立)",
                      "separation")


def check_separation(role_permissions: Mapping[str, frozenset[str]]) -> None:
    """三员分立 over every feature's grants: no role holds permissions of two of the three duties, and
    none of the three administrator roles reads documents. Raises RuntimeError at start-up."""
    for role, held in role_permissions.items():
        duties = {duty for duty, permissions in DUTIES.items() if held & permissions}
        if len(duties) > 1:
            raise RuntimeError(f"role {role!r} holds the duties {sorted(duties)}: 三员分立 forbids it")
        if role in SEPARATED_ROLES and held & READING:
            raise RuntimeError(f"role {role!r} would read documents: {sorted(held & READING)}")
