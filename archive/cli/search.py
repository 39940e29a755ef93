"""`archive search` and `archive reindex`."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime

import click

from archive.cli.support import archive_of, named_actor, progress_bar
from archive.services import indexing, searching


@click.command()
@click.argument("query")
@click.option("--as", "username", help="Search as this user (default $ARCHIVE_USER).")
@click.option("--limit", default=20, show_default=True)
@click.option("--offset", default=0, show_default=True, help="Skip this many hits (paging).")
@click.option("--sort", type=click.Choice(searching.SORTS), default="relevance", show_default=True)
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="Documents dated on or after.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Documents dated on or before.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of hits.")
@click.pass_context
def search(ctx: click.Context, query: str, username: str | None, limit: int, offset: int, sort: str,
           date_from: datetime | None, date_to: datetime | None, as_json: bool) -> None:
    """Full-text search; only documents the user may see. Syntax (as in the web UI): see README."""
    archive = archive_of(ctx)
    page = searching.search_documents(
        archive.uow(), actor=named_actor(archive, username), query=query, limit=limit, offset=offset, sort=sort,
        date_from=date_from.date() if date_from else None, date_to=date_to.date() if date_to else None,
    )
    if as_json:
        click.echo(json.dumps([asdict(h) for h in page.hits], ensure_ascii=False))
        return
    click.echo(f"{page.total} documents")
    for hit in page.hits:
        snippet = hit.snippet.replace("<mark>", "[").replace("</mark>", "]")
        click.echo(f"{hit.document_id:>6}  {hit.archive_code}  {hit.customer}  {hit.title}\n        {snippet}")


@click.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the database beside the live one, then swap it in."""
    with progress_bar("reindex", "doc") as update:
        count = indexing.reindex(archive_of(ctx).uow(), progress=update)
    click.echo(f"indexed {count} documents")


COMMANDS: list[click.Command] = [search, reindex]
