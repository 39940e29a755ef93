"""`archive check`: the four-property check 四性检测 (DA/T 70) with a progress bar, its reports, and their
export as PDF or Excel."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from archive.actors import Actor
from archive.bootstrap import Archive
from archive.cli.support import archive_of, named_actor, progress_bar
from archive.compliance import fourcheck
from archive.compliance.checks import CHECKS, PROPERTIES, PROPERTY_NAMES_ZH
from archive.compliance.fourcheck_export import export_report
from archive.compliance.permissions import FOURCHECK_ACTOR

as_option = click.option("--as", "username",
                         help="The auditor or records manager acting (default $ARCHIVE_USER, else system:fourcheck).")


def _actor(archive: Archive, username: str | None) -> Actor:
    """The operator's `system:fourcheck` on the server host, or the person named (and proved) by --as."""
    if not (username or os.environ.get("ARCHIVE_USER")):
        return FOURCHECK_ACTOR
    return named_actor(archive, username)


def _summary(report: fourcheck.FourCheckReport) -> str:
    counts = ", ".join(f"{PROPERTY_NAMES_ZH[p]} {p} {report.counts[p]['passed']} passed / "
                       f"{report.counts[p]['failed']} failed" for p in PROPERTIES)
    outcome = "ok" if report.ok else "failed"
    return (f"checked {report.documents_checked} documents: {counts}; {len(report.problems)} problems: {outcome} "
            f"(report {report.run_id})")


@click.group(invoke_without_command=True)
@click.option("--department", help="Only this department's records (its code).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only records captured on or after this day.")
@click.option("--archive-code", "prefix", help="Only records whose archive code starts so.")
@click.option("--pdf", "pdf", type=click.Path(dir_okay=False, path_type=Path), help="Also write the report as PDF.")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path), help="Also write it as Excel.")
@click.option("--deep", is_flag=True, help="Decode every page in full (slower; default: in full only when a page's "
              "bytes changed, else its structure and CRCs).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@as_option
@click.pass_context
def check(ctx: click.Context, department: str | None, since: datetime | None, prefix: str | None, pdf: Path | None,
          xlsx: Path | None, deep: bool, as_json: bool, username: str | None) -> None:
    """Run the four-property check (authenticity, integrity, usability, security) and store its report;
    exit 1 when a record fails. `archive check checks` lists the checks; `list` and `export` the reports.

    The worker also runs it over the whole archive every Sunday at 04:00 UTC.
    """
    if ctx.invoked_subcommand is not None:
        return
    archive = archive_of(ctx)
    actor = _actor(archive, username)
    scope = fourcheck.CheckScope(department=department, since=since.date() if since else None,
                                 archive_code_prefix=prefix)
    with progress_bar("check", "doc", disable=as_json) as progress:
        report = fourcheck.run_fourcheck(archive.uow(), actor=actor, scope=scope, deep=deep, progress=progress)
    for path, format in ((pdf, "pdf"), (xlsx, "xlsx")):
        if path:
            export_report(archive.uow(), actor=actor, run_id=report.run_id, path=path, format=format)
    if as_json:
        click.echo(json.dumps({**asdict(report), "ok": report.ok}, ensure_ascii=False, default=str))
    else:
        for problem in report.problems:
            click.echo(f"{problem.severity:7}  {problem.property:12}  {problem.check:26}  "
                       f"{problem.archive_code or problem.subject}  {problem.detail}  → {problem.hint}")
        click.echo(_summary(report))
    sys.exit(0 if report.ok else 1)


@check.command("checks")
def list_checks() -> None:
    """Every check: its property, severity and what it proves."""
    for item in CHECKS:
        click.echo(f"{item.property:12}  {item.severity:7}  {item.name:26}  {item.description}")


@check.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@as_option
@click.pass_context
def list_reports(ctx: click.Context, limit: int, username: str | None) -> None:
    """The newest reports: id, when, trigger, who, documents and counts."""
    archive = archive_of(ctx)
    for report in fourcheck.list_reports(archive.uow(), actor=_actor(archive, username), limit=limit):
        failed = ", ".join(f"{p} {report.counts.get(p, {}).get('failed', 0)}" for p in PROPERTIES)
        click.echo(f"{report.run_id:6}  {report.started_at:%Y-%m-%d %H:%M}  {report.trigger:8}  {report.actor_name:20}  "
                   f"{report.documents_checked} documents; failed: {failed}")


@check.command("export")
@click.argument("run_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: .pdf or .xlsx.")
@as_option
@click.pass_context
def export(ctx: click.Context, run_id: int, out: Path, username: str | None) -> None:
    """Write a stored report as PDF (Chinese font embedded) or Excel, by the file's suffix."""
    archive = archive_of(ctx)
    format = out.suffix.lower().lstrip(".")
    export_report(archive.uow(), actor=_actor(archive, username), run_id=run_id, path=out, format=format)
    click.echo(f"report {run_id} written to {out}")


COMMANDS: list[click.Command] = [check]
