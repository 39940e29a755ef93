"""`archive worker`: process background jobs."""

from __future__ import annotations

import os

import click

from archive.cli.support import archive_of


@click.command()
@click.option("--workers", default=2, show_default=True, help="Worker threads (OCR runs one tesseract each).")
@click.pass_context
def worker(ctx: click.Context, workers: int) -> None:
    """Process background jobs (OCR, indexing, the daily fixity check) until interrupted."""
    archive = archive_of(ctx)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    archive.store  # noqa: B018 - built now, not in the first job
    archive.jobs.start()
    archive.jobs.huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()


COMMANDS: list[click.Command] = [worker]
