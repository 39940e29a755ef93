"""`archive file`: file 归档 captured documents, alone or in batches."""

from __future__ import annotations

import json
import sys

import click

from archive.cli.support import archive_of, named_actor
from archive.services.filing import file_documents


@click.command("file")
@click.argument("archive_codes", nargs=-1, required=True)
@click.option("--as", "username", help="The filing clerk (default $ARCHIVE_USER).")
@click.option("--json", "as_json", is_flag=True, help="Print filed and refused codes as JSON.")
@click.pass_context
def file_(ctx: click.Context, archive_codes: tuple[str, ...], username: str | None, as_json: bool) -> None:
    """File documents by archive code: each is checked against its metadata first; exit 1 if any is refused."""
    archive = archive_of(ctx)
    result = file_documents(archive.uow(), actor=named_actor(archive, username), archive_codes=archive_codes)
    if as_json:
        click.echo(json.dumps({"filed": result.filed, "refused": result.refused}, ensure_ascii=False))
    else:
        for code in result.filed:
            click.echo(f"filed {code}")
        for code, reason in result.refused.items():
            click.echo(f"refused {code}: {reason}", err=True)
    sys.exit(1 if result.refused else 0)


COMMANDS: list[click.Command] = [file_]
