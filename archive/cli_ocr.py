"""`archive ocr rerun`: recognise chosen documents again with the current settings; and how OCR outcomes
(a document failed, with the reason) are told after `--wait`."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from archive.actors import Actor
from archive.bootstrap import Archive
from archive.cli_support import archive_of, cli_actor, progress_bar
from archive.services import indexing
from archive.services.ocr_runs import STATUSES, rerun_ocr
from archive.services.recognition import ocr_progress, ocr_progress_by_document


def _actor(archive: Archive, username: str | None) -> Actor:
    username = username or os.environ.get("ARCHIVE_USER")
    if not username:
        raise click.UsageError("name the person acting with --as USER (or ARCHIVE_USER): every action is one "
                               "named person's")
    return cli_actor(archive, username)


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


def tell_ocr_outcomes(archive: Archive, actor: Actor, results: list[dict[str, Any]], *, quiet: bool) -> int:
    """Add each recognised document's status, failed pages and failure reason to its result, print a
    `failed …` line for each document whose OCR failed, and return how many did."""
    ids = [r["document_id"] for r in results if "document_id" in r]
    found = ocr_progress_by_document(archive.uow(), ids, actor=actor)
    failed = 0
    for result in results:
        progress = found.get(result.get("document_id", -1))
        if progress is None:
            continue
        result.update(status=progress.status, pages_failed=progress.pages_failed,
                      failure_reason=progress.failure_reason)
        if progress.status == "failed":
            failed += 1
            if not quiet:
                click.echo(f"failed {result['archive_code']}: {progress.failure_reason}", err=True)
    return failed


@click.group()
def ocr() -> None:
    """Run OCR again over chosen documents (`ocr rerun`)."""


@ocr.command()
@click.argument("archive_codes", nargs=-1)
@click.option("--all", "all_documents", is_flag=True, help="Every document you may reprocess.")
@click.option("--status", type=click.Choice(STATUSES), help="Only documents in this state (e.g. failed).")
@click.option("--rescan-needed", is_flag=True, help="Only documents with a page flagged \"rescan needed\".")
@click.option("--as", "username", help="The person acting (default $ARCHIVE_USER).")
@click.option("--wait", is_flag=True, help="Wait for OCR, processing jobs here, with a progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the documents and their outcome as JSON.")
@click.pass_context
def rerun(ctx: click.Context, archive_codes: tuple[str, ...], all_documents: bool, status: str | None,
          rescan_needed: bool, username: str | None, wait: bool, as_json: bool) -> None:
    """Queue OCR again for documents named by archive code, or chosen with --all, --status or
    --rescan-needed, using the current settings (e.g. after ARCHIVE_OCR_LANGUAGES changed).

    Pages from a PDF's own text layer are left as they are. Their old text stays shown and searchable
    until the new one replaces it. Running workers use their own settings: restart them after a
    change. With --wait, exits 1 if any document's OCR failed.
    """
    archive = archive_of(ctx)
    actor = _actor(archive, username)
    result = rerun_ocr(archive.uow(), actor=actor, archive_codes=archive_codes, all_documents=all_documents,
                       status=status, rescan_needed=rescan_needed)
    if not as_json:
        click.echo(f"queued {result.pages_queued} pages of {len(result.documents)} documents for OCR "
                   f"({archive.settings.ocr_languages})")
    documents: list[dict[str, Any]] = [{"document_id": document_id, "archive_code": code}
                                       for document_id, code in result.documents.items()]
    failed = 0
    if wait and documents:
        wait_for_ocr(archive, actor, list(result.documents), quiet=as_json)
        failed = tell_ocr_outcomes(archive, actor, documents, quiet=as_json)
        if not as_json:
            click.echo(f"recognised {len(documents) - failed} documents, {failed} failed")
    if as_json:
        click.echo(json.dumps({"pages_queued": result.pages_queued, "documents": documents}, ensure_ascii=False))
    sys.exit(1 if failed else 0)


COMMANDS: list[click.Command] = [ocr]
