"""What every `archive` command shares: the archive of this run, the operator actor, progress bars,
and how a domain error reaches the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import click
from tqdm import tqdm

from archive.actors import Actor
from archive.bootstrap import Archive
from archive.errors import AccessDenied, ArchiveError
from archive.permissions import permission_keys_manage, permission_reference_manage, permission_user_manage

# The named system actor for operator commands run on the server host.
OPERATOR = Actor.system(
    "cli", frozenset({permission_user_manage, permission_reference_manage, permission_keys_manage})
)


def cli_actor(archive: Archive, username: str) -> Actor:
    """The person named by --as, once proved by ARCHIVE_TOKEN or a password prompt (archive/security/cli_auth.py)."""
    from archive.security.cli_auth import resolve_cli_actor

    ask = (lambda: click.prompt(f"password for {username}", hide_input=True)) if _interactive() else None
    return resolve_cli_actor(archive.uow, username=username, trusted=archive.settings.cli_trusted,
                             token=os.environ.get("ARCHIVE_TOKEN") or None, ask_password=ask)


def _interactive() -> bool:
    return sys.stdin.isatty()


def archive_of(ctx: click.Context) -> Archive:
    """The archive of this run, built from the environment on first use (tests pass one in ctx.obj)."""
    return ctx.ensure_object(dict).setdefault("archive", Archive())


@contextmanager
def progress_bar(desc: str, unit: str, *, disable: bool = False) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr, driven by the services' progress(done, total) callbacks."""
    with tqdm(total=0, unit=unit, desc=desc, file=sys.stderr, disable=disable) as bar:
        def update(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        yield update


class CommandFailed(click.ClickException):
    """A domain error as one line, `error: …`; exit 2, or 3 when the access policy refused."""

    def __init__(self, error: ArchiveError) -> None:
        super().__init__(str(error))
        self.exit_code = 3 if isinstance(error, AccessDenied) else 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)


class ArchiveGroup(click.Group):
    """The root group: every command's domain errors end as CommandFailed."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiveError as error:
            raise CommandFailed(error) from error
