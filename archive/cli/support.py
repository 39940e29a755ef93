"""What every `archive` command shares: the archive of this run, the person acting, progress bars,
and how a domain error reaches the terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, Any

import click
from tqdm import tqdm

from archive.actors import Actor
from archive.bootstrap import Archive
from archive.capture.recognition import ocr_progress
from archive.cli.auth import resolve_cli_actor
from archive.errors import AccessDenied, ArchiveError
from archive.services import indexing


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


@contextmanager
def step_bars(units: Mapping[str, str], *, disable: bool = False) -> Iterator[Callable[[str, int, int], None]]:
    """One bar per step of a long command (`units`: step -> unit), driven by progress(step, done, total); a new
    step ends the last bar."""
    bars: dict[str, tqdm] = {}

    def update(step: str, done: int, total: int) -> None:
        if step not in bars:
            for bar in bars.values():
                bar.close()
            bars.clear()
            bars[step] = tqdm(total=0, unit=units.get(step, "it"), desc=step, file=sys.stderr, disable=disable)
        bar = bars[step]
        bar.total = total
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


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


def named_actor(archive: Archive, username: str | None) -> Actor:
    """The person a command acts as (--as USER or ARCHIVE_USER), once proved by their token
    (ARCHIVE_TOKEN) or password, unless the host is trusted (ARCHIVE_CLI_TRUSTED=1); shared accounts are
    refused, and a locked or deactivated account can do nothing (archive/cli/auth.py)."""
    username = username or os.environ.get("ARCHIVE_USER")
    if not username:
        raise click.UsageError("name the person acting with --as USER (or ARCHIVE_USER): every action is one "
                               "named person's")
    ask = (lambda: click.prompt(f"password for {username}", hide_input=True)) if _interactive() else None
    return resolve_cli_actor(archive.uow, username=username, trusted=archive.settings.cli_trusted,
                             token=os.environ.get("ARCHIVE_TOKEN") or None, ask_password=ask)


def wait_for_ocr(archive: Archive, actor: Actor, document_ids: list[int], *, quiet: bool) -> None:
    """Process jobs here, with a progress bar of pages, until every page of the documents is done or
    failed; then index them."""
    latest = ocr_progress(archive.uow(), document_ids, actor=actor)
    with progress_bar("OCR", "page", disable=quiet) as update:
        def tick() -> None:
            nonlocal latest
            latest = ocr_progress(archive.uow(), document_ids, actor=actor)
            update(latest.pages_done + latest.pages_failed, latest.pages_total)

        finished = archive.jobs.run_until(lambda: latest.finished and archive.jobs.pending() == 0, on_tick=tick)
    indexing.drain_outbox(archive.uow())
    if not finished:
        raise click.ClickException("timed out waiting for OCR")
