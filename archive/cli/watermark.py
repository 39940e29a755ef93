"""`archive watermark identify`: which grant a leaked page image or PDF of a borrowed document came from
(借阅水印)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from archive.borrowing.watermark import identify as identify_page
from ocr.base import InputRejectedError
from ocr.inputs import iter_pages


@click.group()
def watermark() -> None:
    """Borrowing watermarks 借阅水印: read the mark of a borrowed page (`watermark identify`)."""


@watermark.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the grant id found (or null) as JSON.")
def identify(file: Path, as_json: bool) -> None:
    """Print the grant id hidden in a page image (or in each page of a PDF or TIFF) until one is found;
    exit 1 when no page carries a readable mark, 2 when the file cannot be read. Reading the file
    stores and audits nothing."""
    grant_id: int | None = None
    page_number: int | None = None
    try:
        for page in iter_pages(file):
            grant_id = identify_page(page.image)
            if grant_id is not None:
                page_number = page.number
                break
    except InputRejectedError as error:
        unreadable = click.ClickException(f"{file}: {error}")
        unreadable.exit_code = 2  # 1 means "read, and no mark found"
        raise unreadable from error
    if as_json:
        found = {"file": str(file), "grant_id": grant_id, "page": page_number}
        click.echo(json.dumps(found, ensure_ascii=False))
    elif grant_id is None:
        click.echo(f"no watermark found in {file} (未发现水印)", err=True)
    else:
        click.echo(f"watermark of grant {grant_id} on page {page_number} of {file}")
    sys.exit(0 if grant_id is not None else 1)


COMMANDS: list[click.Command] = [watermark]
