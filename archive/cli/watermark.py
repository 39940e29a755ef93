"""`archive watermark identify`: which grant a leaked page image or PDF of a borrowed document came from
(借阅水印)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from archive.borrowing.lending import mark_key
from archive.borrowing.services import trace_grant
from archive.borrowing.watermark import identify as identify_page
from archive.cli.support import archive_of, named_actor
from ocr.base import InputRejectedError
from ocr.inputs import iter_pages


@click.group()
def watermark() -> None:
    """Borrowing watermarks 借阅水印: read the mark of a borrowed page (`watermark identify`)."""


@watermark.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", help="Also name the grant's request, borrower and purpose, as this person "
              "(a security administrator, an approver or an auditor; audited).")
@click.option("--json", "as_json", is_flag=True, help="Print the grant id found (or null) as JSON.")
@click.pass_context
def identify(ctx: click.Context, file: Path, username: str | None, as_json: bool) -> None:
    """Print the grant id hidden in a page image (or in each page of a PDF or TIFF) until one is found;
    exit 1 when no page carries a readable mark, 2 when the file cannot be read. The mark is keyed by this
    archive (ARCHIVE_HOME's keys). Reading the file alone stores and audits nothing; with --as, the lookup
    of whom the grant names is audited."""
    archive = archive_of(ctx)
    key = mark_key(archive.keyring)
    grant_id: int | None = None
    page_number: int | None = None
    try:
        for page in iter_pages(file):
            grant_id = identify_page(page.image, key=key)
            if grant_id is not None:
                page_number = page.number
                break
    except InputRejectedError as error:
        unreadable = click.ClickException(f"{file}: {error}")
        unreadable.exit_code = 2  # 1 means "read, and no mark found"
        raise unreadable from error
    trace = None
    if grant_id is not None and username:
        trace = trace_grant(archive.uow(), actor=named_actor(archive, username), grant_id=grant_id)
    if as_json:
        found = {"file": str(file), "grant_id": grant_id, "page": page_number}
        if trace is not None:
            found["grant"] = {key: str(value) if isinstance(value, datetime) else value
                              for key, value in asdict(trace).items()}
        click.echo(json.dumps(found, ensure_ascii=False))
    elif grant_id is None:
        click.echo(f"no watermark found in {file} (未发现水印)", err=True)
    else:
        click.echo(f"watermark of grant {grant_id} on page {page_number} of {file}")
        if trace is not None:
            click.echo(f"borrow request {trace.request_number}: {trace.borrower_name} ({trace.borrower}), "
                       f"{trace.mode}, {trace.starts_at:%Y-%m-%d %H:%M} to {trace.expires_at:%Y-%m-%d %H:%M} UTC, "
                       f"purpose: {trace.purpose}")
    sys.exit(0 if grant_id is not None else 1)


COMMANDS: list[click.Command] = [watermark]
