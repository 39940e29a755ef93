"""`archive ingest`: capture scanned files into a customer's file."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from archive.capture.services import CaptureRequest, capture_document
from archive.cli.ocr import tell_ocr_outcomes
from archive.cli.support import archive_of, named_actor, wait_for_ocr
from archive.errors import AccessDenied, ArchiveError


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--customer", required=True, help="Resident ID number or unified social credit code.")
@click.option("--customer-name", help="Needed when the customer is new.")
@click.option("--type", "document_type", required=True, help="Document type code, e.g. supply_contract.")
@click.option("--classification", help="public, internal, confidential or secret (default: the type's).")
@click.option("--dossier", help="Dossier (卷宗) or work order to file the documents in.")
@click.option("--title", help="Document title (default: customer name and type).")
@click.option("--date", "document_date", type=click.DateTime(["%Y-%m-%d"]), help="The document's own date.")
@click.option("--late-reason", default="", help="补录: why a document of an earlier year is captured only now.")
@click.option("--contract-end", type=click.DateTime(["%Y-%m-%d"]), help="A contract's end date (then it is history).")
@click.option("--as", "username", help="The capturing clerk (default $ARCHIVE_USER).")
@click.option("--wait", is_flag=True, help="Wait for OCR, processing jobs here, with a progress bar; a "
              "document whose OCR failed is named with the reason (exit 1).")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.pass_context
def ingest(ctx: click.Context, files: tuple[Path, ...], customer: str, customer_name: str | None,
           document_type: str, classification: str | None, dossier: str | None, title: str | None,
           document_date: datetime | None, late_reason: str, contract_end: datetime | None, username: str | None,
           wait: bool,
           as_json: bool) -> None:
    """Capture scanned files (JPEG, PNG, TIFF, PDF) into a customer's file."""
    archive = archive_of(ctx)
    actor = named_actor(archive, username)
    results, failures = [], 0
    for path in files:
        request = CaptureRequest(path=path, filename=path.name, customer=customer, customer_name=customer_name,
                                 document_type=document_type, classification=classification, dossier=dossier,
                                 title=title, document_date=document_date.date() if document_date else None,
                                 late_reason=late_reason, contract_end_date=contract_end.date() if contract_end else None)
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
        wait_for_ocr(archive, actor, document_ids, quiet=as_json)
        failures += tell_ocr_outcomes(archive, actor, results, quiet=as_json)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, default=str))
    sys.exit(1 if failures else 0)


COMMANDS: list[click.Command] = [ingest]
