"""Uploaded files to capture requests: each file streamed to a temporary file, captured, deleted."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from werkzeug.datastructures import FileStorage, MultiDict

from archive.capture import CaptureRequest, capture_document
from archive.errors import DuplicateDocumentError, ValidationError
from archive.security import limits
from archive.security.uploads import clean_filename
from archive.services import recognition
from archive.views import CaptureResult, OcrProgress
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

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> CaptureFields:
        def text(name: str, limit: int = 200) -> str | None:
            value = (form.get(name) or "").strip()[:limit]
            return value or None

        return cls(
            customer=text("customer", 40) or "", document_type=text("document_type", 60) or "",
            customer_name=text("customer_name"), classification=text("classification", 40),
            dossier=text("dossier"), title=text("title"),
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


def capture_upload(upload: FileStorage, fields: CaptureFields) -> CaptureResult:
    """Capture one uploaded file. Raises ValidationError, DuplicateDocumentError, AccessDenied."""
    limits.take(new_uow(), actor=current_actor(), action="upload",
                limit=get_archive().settings.upload_rate_per_hour)
    filename = client_filename(upload)
    suffix = Path(filename).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    with tempfile.NamedTemporaryFile(prefix="upload-", suffix=suffix, delete=False) as handle:
        path = Path(handle.name)
        try:
            upload.save(handle)
        except BaseException:
            handle.close()
            path.unlink(missing_ok=True)
            raise
    try:
        request = CaptureRequest(
            path=path, customer=fields.customer, document_type=fields.document_type, filename=filename,
            customer_name=fields.customer_name, classification=fields.classification, dossier=fields.dossier,
            title=fields.title,
        )
        return capture_document(new_uow(), actor=current_actor(), request=request)
    finally:
        os.unlink(path)


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
    if not ids or len(ids) > MAX_PROGRESS_IDS:
        raise ValidationError(f"give between 1 and {MAX_PROGRESS_IDS} ids")
    return ids


def progress_of(ids: list[int]) -> dict[str, object]:
    """OCR progress per document and over all of them, as JSON-ready values."""
    found = recognition.ocr_progress_by_document(new_uow(), ids, actor=current_actor())
    per_document = {}
    for document_id in dict.fromkeys(ids):
        p = found.get(document_id, OcrProgress(0, 0, 0))  # unknown, or not the user's to see
        per_document[str(document_id)] = {
            "pages_total": p.pages_total, "pages_done": p.pages_done, "pages_failed": p.pages_failed,
            "finished": p.finished, "status": p.status, "failure_reason": p.failure_reason,
        }
    return {
        "documents": per_document,
        "finished": all(d["finished"] for d in per_document.values()),
    }
