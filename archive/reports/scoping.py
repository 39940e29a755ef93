"""Whose records a report counts: the access policy's scope for `report.view`, widened to every
department by `report.all_departments` (archive/access.py decides both)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from archive import access
from archive.access import Scope
from archive.actors import Actor
from archive.models import Document
from archive.reports.permissions import permission_report_all_departments, permission_report_view
from archive.reports.views import ReportScope


def report_scope(actor: Actor) -> Scope:
    """The documents and customers the actor's report figures count. Raises AccessDenied."""
    return access.visible(actor, permission_report_view, all_departments_with=permission_report_all_departments)


def counted_documents(scope: Scope) -> ColumnElement[bool]:
    """Documents a report counts: visible to the viewer and not shredded (a shredded record's trace is in
    the destruction register, not in the holdings)."""
    return and_(scope.documents(), ~Document.is_shredded)


def describe(actor: Actor, scope: Scope) -> ReportScope:
    departments = None if scope.department_codes is None else tuple(sorted(scope.department_codes))
    return ReportScope(departments=departments, clearance=actor.clearance)
