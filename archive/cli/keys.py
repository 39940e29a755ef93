"""`archive keys ...`: master-key rotation and status."""

from __future__ import annotations

import json

import click

from archive.actors import OPERATOR
from archive.cli.support import archive_of, progress_bar
from archive.services import keys as key_service


@click.group()
def keys() -> None:
    """Manage master keys (rotation re-wraps data keys; objects are not re-encrypted)."""


@keys.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def keys_status(ctx: click.Context, as_json: bool) -> None:
    """List the master keys, which is active and how many documents each one wraps."""
    rows = key_service.key_status(archive_of(ctx).uow(), actor=OPERATOR)
    if as_json:
        click.echo(json.dumps([row._asdict() for row in rows]))
        return
    for row in rows:
        click.echo(f"{row.key_id:<8} {'active' if row.active else 'old':<7} {row.documents_using} documents")


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Add a new master key to the key file, make it active and re-wrap every data key under it.

    If interrupted, run `archive keys rewrap` to finish. Restart servers and workers afterwards, then
    run `archive keys retire-unused`.
    """
    with progress_bar("rewrap", "key") as progress:
        result = key_service.rotate_master_key(archive_of(ctx).uow(), actor=OPERATOR, progress=progress)
    click.echo(f"rotated to {result.key_id} (was {result.previous_key_id}): re-wrapped "
               f"{result.documents_rewrapped} data keys, re-sealed {result.customers_resealed} customers; "
               "restart servers and workers, then run `archive keys retire-unused`")


@keys.command("rewrap")
@click.pass_context
def keys_rewrap(ctx: click.Context) -> None:
    """Re-wrap every data key not yet under the active master key (resumes an interrupted rotation)."""
    archive = archive_of(ctx)
    with progress_bar("rewrap", "key") as progress:
        count = key_service.rewrap_data_keys(archive.uow(), actor=OPERATOR, progress=progress)
    click.echo(f"re-wrapped {count} data keys under {archive.keyring.active_id}")


@keys.command("retire-unused")
@click.pass_context
def keys_retire_unused(ctx: click.Context) -> None:
    """Retire (forget) every old master key that no document or sealed value uses any more."""
    retired = key_service.retire_unused_keys(archive_of(ctx).uow(), actor=OPERATOR)
    click.echo(f"retired {', '.join(retired)}" if retired else "no unused keys to retire")


COMMANDS: list[click.Command] = [keys]
