"""`archive backup DEST`, `archive backup verify SRC` (the restore drill), `archive backup prune DEST` and
`archive restore SRC`."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

import click

from archive.backup import services
from archive.backup.permissions import BACKUP_OPERATOR
from archive.cli.support import archive_of, step_bars

PASSPHRASE_ENV = "ARCHIVE_BACKUP_PASSPHRASE"
MiB = 1024 * 1024
STEPS = {"copy": "obj", "restore": "obj", "index": "doc", "fixity": "doc"}


def _passphrase(passphrase_file: Path | None, *, confirm: bool) -> str:
    """From --passphrase-file (its first line), else $ARCHIVE_BACKUP_PASSPHRASE, else asked; never echoed."""
    if passphrase_file is not None:
        lines = passphrase_file.read_text(encoding="utf-8").splitlines()
        return lines[0] if lines else ""
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    if not sys.stdin.isatty():
        raise click.UsageError(f"give the keyring file's passphrase with --passphrase-file or ${PASSPHRASE_ENV}")
    return click.prompt("passphrase for the keyring file", hide_input=True, confirmation_prompt=confirm)


passphrase_option = click.option(
    "--passphrase-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=f"A file whose first line is the passphrase (else ${PASSPHRASE_ENV}, else asked).")
keyring_option = click.option(
    "--keyring", "keyring_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The sealed keyring file written by `archive backup --keyring-out`.")
snapshot_option = click.option("--snapshot", help="Snapshot name (default: the newest complete one).")


class BackupGroup(click.Group):
    """`archive backup DEST ...` runs `create`; `backup verify SRC` and `backup prune DEST` their commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group(cls=BackupGroup)
def backup() -> None:
    """Back up the archive into a directory (`archive backup DEST`), drill a restore (`backup verify SRC`),
    or remove old snapshots (`backup prune DEST --keep N`).

    A snapshot holds a consistent database copy, the manifest of objects with their SHA-256 and a note
    that the search index is rebuilt on restore; objects are stored once, by hash, and shared by every
    snapshot, so a second backup copies only new objects. The keyring goes to a separate file sealed by
    a passphrase (--keyring-out), never into DEST.
    """


@backup.command("create")
@click.argument("destination", type=click.Path(file_okay=False, path_type=Path))
@click.option("--keyring-out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the sealed keyring file: not inside DEST nor ARCHIVE_HOME.")
@passphrase_option
@click.option("--rehash", is_flag=True, help="Read every object again instead of trusting the last manifest.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def create(ctx: click.Context, destination: Path, keyring_out: Path, passphrase_file: Path | None, rehash: bool,
           as_json: bool) -> None:
    """Write a snapshot into DEST (created if missing) and the sealed keyring file."""
    archive = archive_of(ctx)
    passphrase = _passphrase(passphrase_file, confirm=True)
    with step_bars(STEPS, disable=as_json) as progress:
        report = services.create_backup(archive.uow(), actor=BACKUP_OPERATOR, destination=destination,
                                        keyring_out=keyring_out, passphrase=passphrase, progress=progress,
                                        rehash=rehash)
    if as_json:
        click.echo(json.dumps(asdict(report), ensure_ascii=False))
    else:
        for key in report.missing:
            click.echo(f"warning: {key} vanished from the object store before it was copied")
        click.echo(f"snapshot {report.snapshot}: {report.database} database, {report.objects} objects "
                   f"({report.bytes / MiB:.1f} MiB); copied {report.objects_copied} new "
                   f"({report.bytes_copied / MiB:.1f} MiB), {report.objects_unchanged} already there; "
                   f"keyring sealed to {keyring_out}")
    sys.exit(1 if report.missing else 0)


@backup.command("verify")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@keyring_option
@passphrase_option
@snapshot_option
@click.option("--scratch-database-url", help="An empty PostgreSQL database to restore a PostgreSQL snapshot into, "
              "left as restored: drop it afterwards (default: one created for the drill on ARCHIVE_DATABASE_URL's "
              "server, then dropped).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def verify(ctx: click.Context, source: Path, keyring_path: Path, passphrase_file: Path | None, snapshot: str | None,
           scratch_database_url: str | None, as_json: bool) -> None:
    """The restore drill: restore SRC into a scratch ARCHIVE_HOME, run fixity and the audit verification
    there, check shredded documents stay undecryptable; exit 1 on any failure."""
    archive = archive_of(ctx)
    passphrase = _passphrase(passphrase_file, confirm=False)
    with step_bars(STEPS, disable=as_json) as progress:
        report = services.verify_backup(archive.uow(), actor=BACKUP_OPERATOR, source=source,
                                        keyring_path=keyring_path, passphrase=passphrase, snapshot=snapshot,
                                        scratch_database_url=scratch_database_url, progress=progress)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, default=str))
    else:
        fixity, trail = report.fixity, report.audit
        click.echo(f"snapshot {report.snapshot}: restored {report.restore.objects_restored} objects into a scratch "
                   f"archive; search index {report.restore.index}")
        if fixity is not None:
            click.echo(f"fixity: {fixity.documents_checked} documents, {fixity.objects_checked} objects: "
                       f"{'ok' if fixity.ok else f'{len(fixity.problems)} problems'}")
        if trail is not None:
            click.echo(f"audit: {trail.summary()}")
        click.echo(f"shredding: {report.shredded_checked} shredded documents checked: "
                   f"{'none decryptable' if not report.shred_problems else f'{len(report.shred_problems)} problems'}")
        for problem in report.problems:
            click.echo(f"problem: {problem}")
        click.echo("drill passed" if report.ok else f"drill FAILED: {len(report.problems)} problems")
    sys.exit(0 if report.ok else 1)


@backup.command("prune")
@click.argument("destination", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--keep", type=click.IntRange(min=1), required=True, help="How many of the newest snapshots to keep.")
@click.pass_context
def prune(ctx: click.Context, destination: Path, keep: int) -> None:
    """Remove all but the newest KEEP snapshots and the objects no kept snapshot lists.

    A snapshot from before a shredding still holds the document's wrapped data key: prune within the
    retention schedule's grace period so the shredding reaches the backups too.
    """
    report = services.prune_backups(archive_of(ctx).uow(), actor=BACKUP_OPERATOR, destination=destination, keep=keep)
    click.echo(f"kept {len(report.kept)} snapshots, removed {len(report.removed)}"
               + (f" ({', '.join(report.removed)})" if report.removed else "")
               + f"; removed {report.objects_removed} objects ({report.bytes_freed / MiB:.1f} MiB)")


@click.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@keyring_option
@passphrase_option
@snapshot_option
@click.option("--force", is_flag=True, help="Restore over what ARCHIVE_HOME, the database or the store hold.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def restore(ctx: click.Context, source: Path, keyring_path: Path, passphrase_file: Path | None, snapshot: str | None,
            force: bool, as_json: bool) -> None:
    """Restore a backup into the (empty) archive the environment configures; the search index is rebuilt.

    Every object's SHA-256 is checked as it is copied back; one that does not match is not restored, and
    the command exits 1 naming it.
    """
    archive = archive_of(ctx)
    passphrase = _passphrase(passphrase_file, confirm=False)
    with step_bars(STEPS, disable=as_json) as progress:
        report = services.restore_backup(archive.settings, actor=BACKUP_OPERATOR, source=source,
                                         keyring_path=keyring_path, passphrase=passphrase, snapshot=snapshot,
                                         force=force, progress=progress)
    if as_json:
        click.echo(json.dumps({**asdict(report), "ok": report.ok}, ensure_ascii=False))
    else:
        for problem in report.problems:
            click.echo(f"problem: {problem.kind} {problem.key}: {problem.detail}")
        click.echo(f"restored snapshot {report.snapshot} into {archive.settings.home}: {report.database} database, "
                   f"{report.objects_restored} objects ({report.bytes_restored / MiB:.1f} MiB); search index "
                   f"{report.index}" + ("" if report.ok else f"; {len(report.problems)} objects NOT restored"))
    sys.exit(0 if report.ok else 1)


COMMANDS: list[click.Command] = [backup, restore]
