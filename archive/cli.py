"""The `archive` command: thin click commands over services."""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from archive.actors import Actor
from archive.bootstrap import Archive
from archive.capture import CaptureRequest, capture_document
from archive.cli_ocr import tell_ocr_outcomes
from archive.cli_support import OPERATOR, ArchiveGroup, archive_of, progress_bar
from archive.compliance.services import signer_for
from archive.errors import AccessDenied, ArchiveError
from archive.services import indexing, reference, searching, users
from archive.services.recognition import ocr_progress


def _actor(archive: Archive, username: str | None) -> Actor:
    username = username or os.environ.get("ARCHIVE_USER")
    if not username:
        raise click.UsageError("name the person acting with --as USER (or ARCHIVE_USER): every action is one "
                               "named person's")
    return users.resolve_actor(archive.uow(), username=username, remote_addr="cli")


@click.group(cls=ArchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """客户档案管理系统 — customer-file archive.

    Configuration comes from ARCHIVE_* environment variables (see README); by default everything
    lives under ARCHIVE_HOME (~/.customer-archive).
    """


@cli.command()
@click.option("--admin", "admin_name", default="admin", show_default=True, help="First administrator's name.")
@click.option("--admin-password", envvar="ARCHIVE_ADMIN_PASSWORD", help="Else generated and printed once.")
@click.pass_context
def init(ctx: click.Context, admin_name: str, admin_password: str | None) -> None:
    """Create ARCHIVE_HOME, the database, the master key and the first admin (idempotent)."""
    archive = archive_of(ctx)
    archive.migrate()
    archive.keyring  # noqa: B018 - creates the key file with 0600 on first run
    signer_for(archive.settings)  # creates the audit checkpoint signing key (0600) and its public key file
    added = reference.seed_reference_data(archive.uow())
    message = f"archive ready at {archive.settings.home} ({added} reference rows added)"
    if users.count_users(archive.uow()) == 0:
        password = admin_password or secrets.token_urlsafe(12)
        users.create_user(archive.uow(), actor=OPERATOR, username=admin_name, password=password, role="admin",
                          clearance="public", display_name="Administrator")
        message += f"; admin user {admin_name!r}" + ("" if admin_password else f" with password {password}")
    click.echo(message)


@cli.group()
def user() -> None:
    """Manage user accounts."""


@user.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["clerk", "staff", "approver", "compliance", "admin"]), required=True)
@click.option("--department", help="Department code (required for clerk, staff, approver).")
@click.option("--clearance", default="internal", show_default=True,
              help="Highest classification the user may read: public, internal, confidential, secret.")
@click.option("--name", "display_name", default="", help="Display name.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="ARCHIVE_NEW_PASSWORD")
@click.pass_context
def user_add(ctx: click.Context, username: str, role: str, department: str | None, clearance: str,
             display_name: str, password: str) -> None:
    """Create a user account."""
    user_id = users.create_user(archive_of(ctx).uow(), actor=OPERATOR, username=username, password=password,
                                role=role, department=department, clearance=clearance,
                                display_name=display_name)
    click.echo(f"user {username} created (id {user_id})")


@cli.group()
def department() -> None:
    """Manage departments."""


@department.command("add")
@click.argument("code")
@click.argument("name")
@click.pass_context
def department_add(ctx: click.Context, code: str, name: str) -> None:
    """Create a department (idempotent)."""
    department_id = reference.ensure_department(archive_of(ctx).uow(), actor=OPERATOR, code=code, name=name)
    click.echo(f"department {code} (id {department_id})")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--customer", required=True, help="Resident ID number or unified social credit code.")
@click.option("--customer-name", help="Needed when the customer is new.")
@click.option("--type", "document_type", required=True, help="Document type code, e.g. supply_contract.")
@click.option("--classification", help="public, internal, confidential or secret (default: the type's).")
@click.option("--dossier", help="Dossier (卷宗) or work order to file the documents in.")
@click.option("--title", help="Document title (default: customer name and type).")
@click.option("--as", "username", help="The capturing clerk (default $ARCHIVE_USER).")
@click.option("--wait", is_flag=True, help="Wait for OCR, processing jobs here, with a progress bar; a "
              "document whose OCR failed is named with the reason (exit 1).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.pass_context
def ingest(ctx: click.Context, files: tuple[Path, ...], customer: str, customer_name: str | None,
           document_type: str, classification: str | None, dossier: str | None, title: str | None,
           username: str | None, wait: bool, as_json: bool) -> None:
    """Capture scanned files (JPEG, PNG, TIFF, PDF) into a customer's file."""
    archive = archive_of(ctx)
    actor = _actor(archive, username)
    results, failures = [], 0
    for path in files:
        request = CaptureRequest(path=path, filename=path.name, customer=customer, customer_name=customer_name,
                                 document_type=document_type, classification=classification, dossier=dossier,
                                 title=title)
        try:
            result = capture_document(archive.uow(), actor=actor, request=request)
        except (ArchiveError, AccessDenied) as error:
            failures += 1
            results.append({"file": str(path), "error": str(error)})
            if not as_json:
                click.echo(f"refused {path}: {error}", err=True)
            continue
        results.append({"file": str(path), **asdict(result)})
        if not as_json:
            click.echo(f"captured {path} as {result.archive_code} (document {result.document_id}, "
                       f"{result.page_count} pages)")
    document_ids = [r["document_id"] for r in results if "document_id" in r]
    if wait and document_ids:
        _wait_for_ocr(archive, actor, document_ids, quiet=as_json)
        failures += tell_ocr_outcomes(archive, actor, results, quiet=as_json)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, default=str))
    sys.exit(1 if failures else 0)


def _wait_for_ocr(archive: Archive, actor: Actor, document_ids: list[int], *, quiet: bool) -> None:
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


@cli.command()
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
        archive.uow(), actor=_actor(archive, username), query=query, limit=limit, offset=offset, sort=sort,
        date_from=date_from.date() if date_from else None, date_to=date_to.date() if date_to else None,
    )
    if as_json:
        click.echo(json.dumps([asdict(h) for h in page.hits], ensure_ascii=False))
        return
    click.echo(f"{page.total} documents")
    for hit in page.hits:
        snippet = hit.snippet.replace("<mark>", "[").replace("</mark>", "]")
        click.echo(f"{hit.document_id:>6}  {hit.archive_code}  {hit.customer}  {hit.title}\n        {snippet}")


@cli.command()
@click.pass_context
def reindex(ctx: click.Context) -> None:
    """Rebuild the search index from the database beside the live one, then swap it in."""
    with progress_bar("reindex", "doc") as update:
        count = indexing.reindex(archive_of(ctx).uow(), progress=update)
    click.echo(f"indexed {count} documents")


@cli.command()
@click.option("--workers", default=2, show_default=True, help="Worker threads (OCR runs one tesseract each).")
@click.pass_context
def worker(ctx: click.Context, workers: int) -> None:
    """Process background jobs (OCR, indexing) until interrupted."""
    archive = archive_of(ctx)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    archive.jobs.requeue_unfinished(archive)
    archive.jobs.huey.create_consumer(workers=workers, worker_type="thread", periodic=True).run()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--jobs/--no-jobs", "run_jobs", default=None,
              help="Also process background jobs in this process (default: yes when embedded).")
@click.option("--workers", default=2, show_default=True, help="Job worker threads when --jobs.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, run_jobs: bool | None, workers: int) -> None:
    """Serve the web UI and API."""
    _serve(archive_of(ctx), host, port, run_jobs, workers)


def _serve(archive: Archive, host: str, port: int, run_jobs: bool | None, workers: int) -> None:
    from waitress import serve as waitress_serve

    from web import create_app

    archive.migrate()  # idempotent: a deployment's new release brings its schema up on start
    app = create_app(archive=archive)
    consumer = None
    if run_jobs if run_jobs is not None else archive.settings.queue == "sqlite":
        archive.jobs.requeue_unfinished(archive)
        consumer = archive.jobs.consumer(workers, periodic=True)  # the daily fixity check too
        consumer.start()
    click.echo(f"serving on http://{host}:{port}/ (jobs: {'yes' if consumer else 'no'})")
    try:
        waitress_serve(app, host=host, port=port, threads=8)
    finally:
        if consumer:
            consumer.stop(graceful=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--serve/--no-serve", "then_serve", default=True, help="Serve the UI afterwards.")
@click.pass_context
def demo(ctx: click.Context, host: str, port: int, then_serve: bool) -> None:
    """Initialise an embedded instance with sample customers and scans, then serve it."""
    from archive.demo import LOGINS, load_demo

    archive = archive_of(ctx)
    load_demo(archive, echo=click.echo)
    click.echo("demo logins (username / password):")
    for username, password, role in LOGINS:
        click.echo(f"  {username:<12} {password:<16} {role}")
    if then_serve:
        _serve(archive, host, port, True, 2)


def main() -> None:
    """The console script. Domain errors end as one `error: …` line (cli_support.ArchiveGroup)."""
    cli()


def _register_extra_commands() -> None:
    from archive import cli_integrity, cli_keys, cli_ocr
    from archive.compliance.cli import audit as audit_commands

    for command in (*cli_integrity.COMMANDS, *cli_keys.COMMANDS, *cli_ocr.COMMANDS):
        cli.add_command(command)
    cli.add_command(audit_commands)


_register_extra_commands()
