"""`archive demo`: an embedded instance with sample data, then served (by the `serve` command)."""

from __future__ import annotations

import click

from archive.cli.support import archive_of
from archive.demo.loading import load_demo


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--serve/--no-serve", "then_serve", default=True, help="Serve the UI afterwards.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, then_serve: bool) -> None:
    """Initialise an embedded instance with sample customers and scans, then serve it."""
    logins = load_demo(archive_of(ctx), echo=click.echo)
    click.echo("demo logins (username / password):")
    for username, password, role in logins:
        click.echo(f"  {username:<12} {password:<16} {role}")
    if then_serve:
        serve = ctx.find_root().command.get_command(ctx, "serve")  # type: ignore[attr-defined]
        if serve is None:
            raise click.ClickException("no `serve` command is registered: install the web package")
        ctx.invoke(serve, host=host, port=port, run_jobs=True, workers=2)


COMMANDS: list[click.Command] = [demo]
