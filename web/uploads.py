"""Uploaded files to capture requests: each file streamed to a temporary file, captured, deleted."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath

from flask import url_for
from werkzeug.datastructures import FileStorage, MultiDict

from archive.capture import recognition
from archive.capture.services import CaptureRequest, capture_document
from archive.capture.views import CaptureResult, OcrProgress
from archive.errors import DuplicateDocumentError, ValidationError
from archive.security import limits
from archive.security.uploads import clean_filename
from web.security import is_id
from web.support import current_actor, get_archive, new_uow

MAX_PROGRESS_IDS = 100


@dataclass(frozen=True)
class CaptureFields:
    customer: str
    document_type: str
    customer_name: str | None = None
    classification: str | None = None
    dossier: str | None = None
    title: str | None = None
    document_date: date | None = None
    late_reason: str = ""
    contract_end_date: date | None = None
    work_order: str | None = None
    business_step: str | None = None

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> CaptureFields:
        def text(name: str, limit: int = 200) -> str | None:
            value = (form.get(name) or "").strip()[:limit]
            return value or None

        def day(name: str) -> date | None:
            raw = text(name, 10)
            try:
                return date.fromisoformat(raw) if raw else None
            except ValueError:
                raise ValidationError(f"{name} {raw!r} is not a date (YYYY-MM-DD)") from None

        return cls(
            customer=text("customer", 40) or "", document_type=text("document_type", 60) or "",
            customer_name=text("customer_name"), classification=text("classification", 40),
            dossier=text("dossier"), title=text("title"), document_date=day("document_date"),
            late_reason=text("late_reason", 500) or "", contract_end_date=day("contract_end_date"),
            work_order=text("work_order", 64), business_step=text("business_step", 100),
        )


@dataclass
class CaptureOutcome:
    captured: list[tuple[str, CaptureResult]] = field(default_factory=list)
    refused: list[tuple[str, str, int | None]] = field(default_factory=list)  # filename, message, existing id


def uploaded_files(files: MultiDict[str, FileStorage]) -> list[FileStorage]:
    return [f for name in ("files", "file") for f in files.getlist(name) if f and f.filename]


def client_filename(upload: FileStorage) -> str:
    """The file's own name, without any directory the browser sent."""
    return clean_filename(PurePosixPath((upload.filename or "upload").replace("\\", "/")).name, default="upload")


@contextmanager
def saved_upload(upload: FileStorage, prefix: str) -> Iterator[Path]:
    """Stream the upload to a temporary file (keeping a plain suffix) and delete it afterwards; each upload
    counts against the user's hourly limit (ARCHIVE_UPLOAD_RATE_PER_HOUR)."""
    limits.take(new_uow(), actor=current_actor(), action="upload", limit=get_archive().settings.upload_rate_per_hour)
    suffix = Path(client_filename(upload)).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    with tempfile.NamedTemporaryFile(prefix=prefix, suffix=suffix, delete=False) as handle:
        path = Path(handle.name)
        try:
            upload.save(handle)
        except BaseException:
            handle.close()
            path.unlink(missing_ok=True)
            raise
    try:
        yield path
    finally:
        os.unlink(path)


def capture_upload(upload: FileStorage, fields: CaptureFields) -> CaptureResult:
    """Capture one uploaded file. Raises ValidationError, DuplicateDocumentError, AccessDenied."""
    with saved_upload(upload, "upload-") as path:
        request = CaptureRequest(
            path=path, customer=fields.customer, document_type=fields.document_type,
            filename=client_filename(upload), customer_name=fields.customer_name,
            classification=fields.classification, dossier=fields.dossier, title=fields.title,
            document_date=fields.document_date, late_reason=fields.late_reason,
            contract_end_date=fields.contract_end_date, work_order=fields.work_order,
            business_step=fields.business_step,
        )
        return capture_document(new_uow(), actor=current_actor(), request=request)


def capture_uploads(uploads: list[FileStorage], fields: CaptureFields) -> CaptureOutcome:
    """Capture each file on its own; one refused file does not stop the others. AccessDenied propagates."""
    outcome = CaptureOutcome()
    for upload in uploads:
        try:
            outcome.captured.append((client_filename(upload), capture_upload(upload, fields)))
        except DuplicateDocumentError as error:
            outcome.refused.append((client_filename(upload), str(error), error.existing_document_id or None))
        except ValidationError as error:
            outcome.refused.append((client_filename(upload), str(error), None))
    return outcome


def parse_ids(raw: str) -> list[int]:
    """`1,2,3` to ids; raise ValidationError on anything else."""
    try:
        ids = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise ValidationError("ids must be comma-separated numbers") from None
    if not all(is_id(i) for i in ids):
        raise ValidationError("ids must be comma-separated numbers")
    if not ids or len(ids) > MAX_PROGRESS_IDS:
        raise ValidationError(f"give between 1 and {MAX_PROGRESS_IDS} ids")
    return ids


def progress_of(ids: list[int]) -> dict[str, object]:
    """OCR progress per document and over all of them, as JSON-ready values: a document is
    `all_recognised` only when every page was read and none needs a rescan."""
    found = recognition.ocr_progress_by_document(new_uow(), ids, actor=current_actor())
    per_document = {}
    for document_id in dict.fromkeys(ids):
        p = found.get(document_id, OcrProgress(0, 0, 0))  # unknown, or not the user's to see
        per_document[str(document_id)] = {
            "pages_total": p.pages_total, "pages_done": p.pages_done, "pages_failed": p.pages_failed,
            "finished": p.finished, "status": p.status, "failure_reason": p.failure_reason,
            "all_recognised": p.all_recognised,
            # Pages read below ARCHIVE_RESCAN_THRESHOLD: each links to its place on the document page.
            "rescan_pages": [{"number": n, "url": url_for("documents.show", document_id=document_id,
                                                          _anchor=f"page-{n}")} for n in p.rescan_pages],
        }
    return {
        "documents": per_document,
        "finished": all(d["finished"] for d in per_document.values()),
    }
