"""`archive verify` and `archive sweep`: fixity checks and removal of uncommitted objects."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import timedelta

import click

from archive.actors import VERIFIER
from archive.cli.support import archive_of, progress_bar
from archive.services import integrity


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Check every stored object decrypts and matches its recorded SHA-256; exit 1 on any problem.

    Reports missing, corrupted and orphaned objects by document and archive code. The run is recorded
    and shown on the compliance page; the `archive worker` also runs it daily at 02:00 UTC.
    """
    with progress_bar("verify", "doc", disable=as_json) as progress:
        report = integrity.verify_archive(archive_of(ctx).uow(), actor=VERIFIER, progress=progress)
    if as_json:
        click.echo(json.dumps({**asdict(report), "ok": report.ok}, ensure_ascii=False, default=str))
    else:
        if report.problems:
            rows = [("document", "archive code", "object key", "kind")] + [
                (str(p.document_id or "-"), p.archive_code or "-", p.object_key, p.kind) for p in report.problems
            ]
            widths = [max(len(row[i]) for row in rows) for i in range(3)]
            for row in rows:
                click.echo("  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]))
        outcome = "ok" if report.ok else f"{len(report.problems)} problems"
        click.echo(f"verified {report.documents_checked} documents, {report.objects_checked} objects: {outcome}"
                   f" (run {report.run_id})")
    sys.exit(0 if report.ok else 1)


@click.command()
@click.option("--older-than-minutes", default=60, show_default=True, type=click.IntRange(min=0),
              help="Grace period: younger objects may belong to a capture still in progress.")
@click.pass_context
def sweep(ctx: click.Context, older_than_minutes: int) -> None:
    """Delete stored objects that no document references (left by captures that never committed)."""
    removed = integrity.sweep_orphans(archive_of(ctx).uow(), actor=VERIFIER,
                                      older_than=timedelta(minutes=older_than_minutes))
    for key in removed:
        click.echo(f"removed {key}")
    click.echo(f"swept {len(removed)} objects")


COMMANDS: list[click.Command] = [verify, sweep]
