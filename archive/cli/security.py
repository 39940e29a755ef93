"""`archive reredact` (re-redact text stored before the current redaction, resumable) and
`archive token issue` (a personal token for acting as yourself on the command line)."""

from __future__ import annotations

import click

from archive.actors import REDACTOR
from archive.cli.support import archive_of, named_actor, progress_bar
from archive.services import reredaction, users


@click.command()
@click.option("--batch", default=200, show_default=True, type=click.IntRange(min=1))
@click.pass_context
def reredact(ctx: click.Context, batch: int) -> None:
    """Redact ID and phone numbers again in stored titles, names, file names and OCR text; changed
    documents are re-indexed. Interrupted, it resumes where it stopped."""
    with progress_bar("reredact", "doc") as progress:
        report = reredaction.reredact_stored_text(archive_of(ctx).uow(), actor=REDACTOR, batch=batch,
                                                  progress=progress)
    click.echo(f"checked {report.documents_checked} documents, changed {report.documents_changed}"
               + (f" (resumed after document {report.resumed_after})" if report.resumed_after else ""))


@click.group()
def token() -> None:
    """Personal tokens for acting as yourself on the command line (ARCHIVE_TOKEN)."""


@token.command("issue")
@click.option("--as", "username", required=True, help="You: your password is asked (or ARCHIVE_TOKEN used).")
@click.pass_context
def issue_token(ctx: click.Context, username: str) -> None:
    """Issue a new personal token (the earlier one stops working); it is shown once."""
    archive = archive_of(ctx)
    actor = named_actor(archive, username)
    click.echo(users.issue_cli_token(archive.uow(), actor=actor))


COMMANDS: list[click.Command] = [reredact, token]
