"""`archive keys ...`: master-key rotation and status."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click
from tqdm import tqdm

from archive.bootstrap import Archive
from archive.cli_support import OPERATOR
from archive.errors import KeyManagementError
from archive.services import keys as key_service


def _archive(ctx: click.Context) -> Archive:
    from archive.cli import _archive as archive_of  # archive.cli imports this module when it registers it

    return archive_of(ctx)


@contextmanager
def _progress(desc: str) -> Iterator[Callable[[int, int], None]]:
    with tqdm(total=0, unit="key", desc=desc, file=sys.stderr) as bar:
        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            yield update
        except KeyManagementError as error:
            raise click.ClickException(str(error)) from None


@click.group()
def keys() -> None:
    """Manage master keys (rotation re-wraps data keys; objects are not re-encrypted)."""


@keys.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
def keys_status(ctx: click.Context, as_json: bool) -> None:
    """List the master keys, which is active and how many documents each one wraps."""
    rows = key_service.key_status(_archive(ctx).uow(), actor=OPERATOR)
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
    with _progress("rewrap") as progress:
        result = key_service.rotate_master_key(_archive(ctx).uow(), actor=OPERATOR, progress=progress)
    click.echo(f"rotated to {result.key_id} (was {result.previous_key_id}): re-wrapped "
               f"{result.documents_rewrapped} data keys, re-sealed {result.customers_resealed} customers; "
               "restart servers and workers, then run `archive keys retire-unused`")


@keys.command("rewrap")
@click.pass_context
def keys_rewrap(ctx: click.Context) -> None:
    """Re-wrap every data key not yet under the active master key (resumes an interrupted rotation)."""
    archive = _archive(ctx)
    with _progress("rewrap") as progress:
        count = key_service.rewrap_data_keys(archive.uow(), actor=OPERATOR, progress=progress)
    click.echo(f"re-wrapped {count} data keys under {archive.keyring.active_id}")


@keys.command("retire-unused")
@click.pass_context
def keys_retire_unused(ctx: click.Context) -> None:
    """Retire (forget) every old master key that no document or sealed value uses any more."""
    try:
        retired = key_service.retire_unused_keys(_archive(ctx).uow(), actor=OPERATOR)
    except KeyManagementError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"retired {', '.join(retired)}" if retired else "no unused keys to retire")


COMMANDS: list[click.Command] = [keys]
