"""Running a report: the catalogue (the core's reports and those features contribute through the
registry), the permission check, the audit event, and the Excel export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from archive import access, audit, registry
from archive.actors import Actor
from archive.errors import NotFoundError
from archive.reports.events import event_report_exported, event_report_viewed
from archive.reports.excel import write_workbook
from archive.reports.views import Report, ReportDefinition, ReportParameters
from archive.unit_of_work import UnitOfWork


def catalogue() -> list[ReportDefinition]:
    """Every report, in the order the reports page lists them."""
    return sorted(registry.reports(), key=lambda d: (d.order, d.name))


def available_reports(actor: Actor) -> list[ReportDefinition]:
    """The reports the actor may open (what the reports page offers)."""
    return [d for d in catalogue() if access.allows(actor, d.permission)]


def find_report(name: str) -> ReportDefinition:
    found = next((d for d in catalogue() if d.name == name), None)
    if found is None:
        raise NotFoundError(f"no report {name!r}")
    return found


def run_report(uow: UnitOfWork, *, actor: Actor, name: str,
               parameters: ReportParameters | None = None) -> Report:
    """The report's figures over what the actor may see, audited as report.viewed. Requires the report's
    permission (report.view, or report.access for the access report); raises AccessDenied, NotFoundError."""
    return _run(uow, actor, name, parameters or ReportParameters(), event_report_viewed)


def export_report(uow: UnitOfWork, *, actor: Actor, name: str, out: BinaryIO,
                  text: Callable[[str], str], value: Callable[[str, Any], Any],
                  parameters: ReportParameters | None = None) -> Report:
    """Write the report as an Excel workbook to out (headers through text, codes through value: the
    reader's language), audited as report.exported. Same permission as run_report."""
    report = _run(uow, actor, name, parameters or ReportParameters(), event_report_exported)
    write_workbook(report, out, text=text, value=value)
    return report


def _run(uow: UnitOfWork, actor: Actor, name: str, parameters: ReportParameters, event: str) -> Report:
    definition = find_report(name)
    with uow:
        access.require(actor, definition.permission)
        report = definition.build(uow, actor, parameters)
        audit.record(uow.session, actor, event, target_type="report", target_id=name,
                     departments=list(report.scope.departments) if report.scope.departments is not None else "all",
                     **parameters.active())
        uow.commit()
    return report
