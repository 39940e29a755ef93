"""`archive serve`: the web UI and API under waitress (pyproject: the `archive.commands` entry points)."""

from __future__ import annotations

import click
from waitress import serve as waitress_serve

from archive.cli.support import archive_of
from web import create_app


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--jobs/--no-jobs", "run_jobs", default=None,
              help="Also process background jobs in this process (default: yes when embedded).")
@click.option("--workers", default=2, show_default=True, help="Job worker threads when --jobs.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, run_jobs: bool | None, workers: int) -> None:
    """Serve the web UI and API."""
    archive = archive_of(ctx)
    archive.migrate()  # idempotent: a deployment's new release brings its schema up on start
    app = create_app(archive=archive)
    consumer = None
    if run_jobs if run_jobs is not None else archive.settings.queue == "sqlite":
        archive.jobs.start()
        consumer = archive.jobs.consumer(workers, periodic=True)  # the daily fixity check too
        consumer.start()
    click.echo(f"serving on http://{host}:{port}/ (jobs: {'yes' if consumer else 'no'})")
    try:
        waitress_serve(app, host=host, port=port, threads=8)
    finally:
        if consumer:
            consumer.stop(graceful=True)
