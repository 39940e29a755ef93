"""The four-property check 四性检测 (DA/T 70): one engine over a registry of named checks.

Each check has a name, the property it proves (authenticity 真实性, integrity 完整性, usability 可用性,
security 安全性), a severity (an `error` fails the record: filing and handover refuse it; a `warning` is
reported only) and a hint saying what to do about it. `CHECKS` lists them all; `RECORD_CHECKS` look at
one record, `SET_CHECKS` at a whole scope (item numbers per archive-code scope, a customer's required
documents).

The engine reads each record once: its metadata in grouped queries per batch (`load_records`), then
each stored object decrypted once (`read_content`), and that one stream feeds every check that needs
the bytes: the SHA-256, the media-type sniff and page count, the decoding (an image decodes, a PDF
opens) and the virus scan through clamd when ARCHIVE_CLAMD is set. The plaintext-PII check reads the
record's stored text (title, file name, late-capture reason, the OCR text kept in the database), which
must hold ID and phone numbers only masked; the full OCR text is an encrypted object by design.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import zlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from PIL import Image
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archive import pii
from archive.compliance.clamd import ClamdError, ClamdScan
from archive.models import (
    ArchiveCodeCounter,
    AuditEvent,
    ClassificationLevel,
    Customer,
    Document,
    Dossier,
    Page,
    PageVersion,
    RetentionPeriod,
)
from archive.services.reference import required_document_types
from archive.unit_of_work import UnitOfWork
from ocr.base import InputRejectedError
from ocr.inputs import ACCEPTED_MEDIA_TYPES, BMP, JPEG, PDF, PNG, TIFF, WEBP, InputLimits, inspect_pdf
from storage.base import DecryptionError, ObjectNotFoundError
from storage.envelope import WrappedKey

AUTHENTICITY, INTEGRITY, USABILITY, SECURITY = "authenticity", "integrity", "usability", "security"
PROPERTIES = (AUTHENTICITY, INTEGRITY, USABILITY, SECURITY)
PROPERTY_NAMES_ZH = {AUTHENTICITY: "真实性", INTEGRITY: "完整性", USABILITY: "可用性", SECURITY: "安全性"}
ERROR, WARNING = "error", "warning"
CAPTURED = "document.captured"  # archive.capture.events.event_document_captured: the capture's audit event
CHUNK = 1024 * 1024
SPOOL = 32 * 1024 * 1024  # an original larger than this is spooled to a temporary file to be opened
ARCHIVE_CODE = re.compile(r"^(?P<fonds>[^-·]+)-(?P<category>[^-·]+)·(?P<year>\d{4})-(?P<retention>[^-·]+)-"
                          r"(?P<department>[^-·]+)-(?P<item>\d{4,})$")
_NO_PAGE_LIMIT = InputLimits(max_pages=1_000_000)  # what was archived is checked whatever its size


@dataclass(frozen=True)
class Problem:
    check: str
    property: str
    severity: str
    document_id: int | None
    archive_code: str
    subject: str  # what it concerns: an object key, a page, an archive-code scope, a customer
    detail: str
    hint: str

    def sentence(self) -> str:
        """One line fit to show a clerk: `integrity/pages_present: page 2 has no image (hint: rescan it)`."""
        return f"{self.property}/{self.check}: {self.detail} ({self.hint})"


# --- what the checks look at ------------------------------------------------------------------------


@dataclass
class PageFacts:
    number: int
    object_key: str
    image_sha256: str | None
    text_object_key: str | None
    words_object_key: str | None
    ocr_status: str
    ocr_error: str | None
    ocr_text: str | None
    text_layer: bool
    image_ready: bool = True  # false: a worker has yet to render it (no object to read)


@dataclass
class Record:
    """One document's metadata, read in a batch so no ORM object outlives its session."""

    id: int
    archive_code: str
    title: str
    document_type: str
    classification: str | None
    retention: str | None
    department_id: int | None
    document_date: date | None
    captured_at: datetime | None
    media_type: str
    size_bytes: int
    content_sha256: str
    object_key: str
    wrapped: WrappedKey
    status: str
    customer_id: int
    source_filename: str
    late_capture_reason: str | None
    dossier_title: str | None = None
    pages: list[PageFacts] = field(default_factory=list)
    earlier_versions: list[tuple[str, str | None]] = field(default_factory=list)  # (key, image SHA-256)
    capture_events: list[dict[str, Any]] = field(default_factory=list)  # chained document.captured details


@dataclass
class ObjectRead:
    """An object decrypted once: its size and SHA-256, or why it could not be read."""

    key: str
    size: int = 0
    sha256: str = ""
    failure: str = ""  # "missing" or "does not decrypt: ..."
    render_error: str = ""  # the image does not decode / the PDF does not open
    sniffed: str = ""  # the media type its first bytes say
    page_count: int | None = None  # pages of a PDF, frames of an image original
    virus: str = ""  # the signature clamd found
    scan_error: str = ""  # clamd could not scan it


@dataclass
class Content:
    """What reading a record's objects found, shared by every check that needs the bytes."""

    key_error: str = ""  # the data key does not unwrap
    original: ObjectRead | None = None
    pages: dict[int, ObjectRead] = field(default_factory=dict)
    others: list[ObjectRead] = field(default_factory=list)  # text, word boxes, earlier page versions
    earlier: dict[str, str | None] = field(default_factory=dict)  # earlier version key -> recorded SHA-256


@dataclass(frozen=True)
class Environment:
    """What the checks compare against: live master keys, known reference codes, the virus scanner."""

    live_keys: frozenset[str]
    classifications: frozenset[str]
    retentions: frozenset[str]
    clamd: str = ""
    # Decode every pixel of every page (and every frame of an image original). Otherwise a page is
    # decoded in full only when its bytes differ from the capture's, and otherwise checked for structure
    # (Pillow's verify: header, every chunk and its CRC): bytes identical to the PNG capture wrote from
    # decoded pixels decode as they did then; a full decode costs 10-60 ms a page, fifty times the
    # decryption, so the deep run is for a periodic sweep against decoder regressions.
    deep: bool = False


@dataclass(frozen=True)
class Check:
    name: str
    property: str
    severity: str
    hint: str
    description: str
    # (record, content, environment) -> details of what is wrong; content is None when not read
    run: Callable[[Record, Content | None, Environment], Iterable[tuple[str, str]]] | None = None
    needs_content: bool = False


# --- the record checks ------------------------------------------------------------------------------


def _content_hash(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if content is None or content.key_error:
        return
    original = content.original
    if original and not original.failure:
        if original.sha256 != record.content_sha256:
            yield original.key, f"SHA-256 {original.sha256} differs from the recorded {record.content_sha256}"
        elif original.size != record.size_bytes:
            yield original.key, f"{original.size} bytes, {record.size_bytes} recorded"
    for page in record.pages:
        read = content.pages.get(page.number)
        if read and not read.failure and page.image_sha256 and read.sha256 != page.image_sha256:
            yield read.key, f"page {page.number}: SHA-256 {read.sha256} differs from the recorded {page.image_sha256}"
    for read in content.others:
        expected = content.earlier.get(read.key)
        if expected and not read.failure and read.sha256 != expected:
            yield read.key, f"earlier page version: SHA-256 {read.sha256} differs from the recorded {expected}"


def _metadata_matches(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if content is None or content.original is None or content.original.failure:
        return
    original = content.original
    if original.sniffed and original.sniffed != record.media_type:
        yield original.key, f"recorded as {record.media_type}, the content is {original.sniffed}"
    if original.page_count is not None and original.page_count != len(record.pages):
        yield original.key, f"the original has {original.page_count} pages, {len(record.pages)} recorded"


def _capture_audited(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if not record.capture_events:
        yield "audit trail", "no chained document.captured event for this record"
        return
    recorded = {str(e.get("sha256") or "") for e in record.capture_events}
    if record.content_sha256 not in recorded:
        yield "audit trail", (f"the capture event recorded SHA-256 {', '.join(sorted(recorded))}, the record says "
                              f"{record.content_sha256}")


_DAT22 = (("title", "title 题名"), ("document_type", "type 类型"), ("classification", "classification 密级"),
          ("retention", "retention 保管期限"), ("department_id", "department 部门"))


def _required_metadata(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    missing = [label for name, label in _DAT22 if not getattr(record, name)]
    match = ARCHIVE_CODE.match(record.archive_code or "")
    if match is None:
        missing.insert(0, "archive code 档号 (fonds-category·year-retention-department-item)")
    if record.document_date is None and record.captured_at is None:
        missing.append("date 日期")
    if not record.pages:
        missing.append("page count 页数")
    if missing:
        yield "metadata", f"required metadata missing: {', '.join(missing)}"


def _document_date(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if record.document_date is None:
        yield "metadata", "no document date 文件形成日期 (the capture date stands in)"


def _pages_present(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    numbers = [p.number for p in record.pages]
    expected = list(range(1, len(numbers) + 1))
    if numbers != expected:
        gaps = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        yield "pages", f"page numbers {numbers} are not 1..{len(numbers)}" + (f" (missing {gaps})" if gaps else "")
    for page in record.pages:
        read = content.pages.get(page.number) if content else None
        if not page.object_key:
            yield f"page {page.number}", f"page {page.number} has no image"
        elif read is not None and read.failure == "missing":
            yield read.key, f"page {page.number}: the image is not in the object store"
    if content and content.original and content.original.failure == "missing":
        yield content.original.key, "the original is not in the object store"
    for read in content.others if content else ():
        if read.failure == "missing":
            yield read.key, "a page's text, word boxes or earlier version is not in the object store"


def _decrypts_and_renders(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if content is None:
        return
    if content.key_error:
        yield record.object_key, f"the data key does not unwrap: {content.key_error}"
        return
    reads = [("original", content.original)] if content.original else []
    reads += [(f"page {number}", read) for number, read in sorted(content.pages.items())]
    for what, read in reads:
        assert read is not None
        if read.failure and read.failure != "missing":
            yield read.key, f"{what} {read.failure}"
        elif read.render_error:
            yield read.key, f"{what} does not render: {read.render_error}"
    for read in content.others:
        if read.failure and read.failure != "missing":
            yield read.key, f"{read.failure}"


def _ocr_text(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    for page in record.pages:
        if page.ocr_status == "pending":
            yield f"page {page.number}", f"page {page.number}: OCR has not finished"
        elif page.ocr_status == "failed" and not (page.ocr_error or "").strip():
            yield f"page {page.number}", f"page {page.number}: OCR failed and no reason is recorded"
        elif page.ocr_status == "done" and page.ocr_text is None and not page.text_layer:
            yield f"page {page.number}", f"page {page.number}: recognised but no text is stored"


def _format_allowed(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if record.media_type not in ACCEPTED_MEDIA_TYPES:
        yield record.object_key, f"{record.media_type} is not on the format allow-list ({', '.join(ACCEPTED_MEDIA_TYPES)})"


def _live_key(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if not record.wrapped.wrapped or not record.wrapped.key_id:
        yield "data key", "the record is not encrypted (no wrapped data key)"
    elif record.wrapped.key_id not in env.live_keys:
        yield "data key", f"wrapped under master key {record.wrapped.key_id!r}, which is not in the keyring"


def _classification_retention(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if record.classification not in env.classifications:
        yield "metadata", f"classification {record.classification!r} is not a known level"
    if record.retention not in env.retentions:
        yield "metadata", f"retention {record.retention!r} is not a known period"


def _no_plaintext_pii(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    texts = [("title", record.title), ("file name", record.source_filename),
             ("late-capture reason", record.late_capture_reason), ("dossier title", record.dossier_title)]
    texts += [(f"page {p.number} OCR text", p.ocr_text) for p in record.pages]
    for where, text in texts:
        if text and (found := pii.find_identifiers(text)):
            yield where, f"{where} holds {len(found)} ID or phone number(s) in plaintext"


def _virus_free(record: Record, content: Content | None, env: Environment) -> Iterable[tuple[str, str]]:
    if content is None or content.original is None or not env.clamd:
        return
    if content.original.virus:
        yield content.original.key, f"clamd found {content.original.virus}"
    elif content.original.scan_error:
        yield content.original.key, f"not scanned: {content.original.scan_error}"


CHECKS: tuple[Check, ...] = (
    Check("content_hash", AUTHENTICITY, ERROR, "restore the object from a backup; never re-record the hash",
          "the original and every page image match their SHA-256 recorded at capture", _content_hash, True),
    Check("metadata_matches_content", AUTHENTICITY, ERROR,
          "correct the recorded media type or pages, or recapture the document",
          "the recorded media type and page count agree with the content", _metadata_matches, True),
    Check("capture_audited", AUTHENTICITY, ERROR,
          "investigate: a record without its chained capture event was not captured through the archive",
          "the capture event is in the audit chain with the record's SHA-256", _capture_audited),
    Check("required_metadata", INTEGRITY, ERROR, "complete the metadata on the document page before filing",
          "the DA/T 22 elements: archive code parts, title, type, date, retention, classification, department, "
          "page count", _required_metadata),
    Check("document_date", INTEGRITY, WARNING, "enter the date the document was made",
          "the document's own date is recorded", _document_date),
    Check("pages_present", INTEGRITY, ERROR, "rescan the missing pages, or restore them from a backup",
          "pages numbered 1..n, each with its stored image", _pages_present, True),
    Check("item_numbers_gapless", INTEGRITY, ERROR,
          "find the record that holds the missing item number, or note the gap in the register",
          "item numbers 件号 have no gap within each archive-code scope"),
    Check("required_documents_present", INTEGRITY, WARNING,
          "capture the missing documents of the customer's business process",
          "each customer's file holds the documents its business process requires"),
    Check("decrypts_and_renders", USABILITY, ERROR,
          "restore the object from a backup, or recapture from the paper original",
          "the original and every page decrypt; an image decodes, a PDF opens", _decrypts_and_renders, True),
    Check("ocr_text", USABILITY, ERROR, "run `archive ocr rerun` for the document, or rescan the page",
          "every page has its OCR text, or its OCR failure is recorded", _ocr_text),
    Check("format_allowed", SECURITY, ERROR, "convert the original to an allowed format and recapture it",
          "the original's format is on the allow-list", _format_allowed),
    Check("live_key", SECURITY, ERROR, "run `archive keys rewrap` while the old master key is still held",
          "encrypted under a data key wrapped by a master key still in the keyring", _live_key),
    Check("classification_retention", SECURITY, ERROR, "set the classification and retention period",
          "classification 密级 and retention 保管期限 are known values", _classification_retention),
    Check("no_plaintext_pii", SECURITY, ERROR, "run `archive reredact` so stored text holds numbers masked",
          "no ID or phone number in plaintext in the record's stored text", _no_plaintext_pii),
    Check("virus_free", SECURITY, ERROR, "quarantine the document and ask the security administrator",
          "clamd finds nothing in the original (when ARCHIVE_CLAMD is set)", _virus_free, True),
)
BY_NAME = {check.name: check for check in CHECKS}
RECORD_CHECKS = tuple(check for check in CHECKS if check.run is not None)
SET_CHECKS = tuple(check for check in CHECKS if check.run is None)


def evaluate(record: Record, content: Content | None, env: Environment,
             checks: Sequence[Check] = RECORD_CHECKS) -> list[Problem]:
    """Every problem the record checks find in one record."""
    return [Problem(check.name, check.property, check.severity, record.id, record.archive_code, subject, detail,
                    check.hint)
            for check in checks if check.run is not None
            for subject, detail in check.run(record, content, env)]


# --- loading: grouped queries per batch -------------------------------------------------------------


def environment(uow: UnitOfWork, *, deep: bool = False) -> Environment:
    """Call inside an open unit of work."""
    session = uow.session
    return Environment(frozenset(uow.keyring.key_ids), frozenset(session.scalars(select(ClassificationLevel.code))),
                       frozenset(session.scalars(select(RetentionPeriod.code))), uow.settings.clamd, deep)


RECORD_COLUMNS = (Document.id, Document.archive_code, Document.title, Document.document_type,
                  Document.classification, Document.retention, Document.department_id, Document.document_date,
                  Document.captured_at, Document.media_type, Document.size_bytes, Document.content_sha256,
                  Document.object_key, Document.key_id, Document.cipher, Document.wrapped_key, Document.status,
                  Document.customer_id, Document.source_filename, Document.late_capture_reason, Dossier.title)


def record_query() -> Any:
    """The documents' columns the checks need (shredded records are gone by design: not checked)."""
    return (select(*RECORD_COLUMNS).outerjoin(Dossier, Dossier.id == Document.dossier_id)
            .where(~Document.is_shredded))


def load_records(session: Session, rows: Sequence[Any]) -> list[Record]:
    """Records for rows of `record_query()`, with their pages, earlier versions and capture events:
    three more queries for the whole batch."""
    batch: dict[int, Record] = {}
    for r in rows:
        batch[r[0]] = Record(*r[:13], WrappedKey(r.key_id, r.cipher, r.wrapped_key), r.status, r.customer_id,
                             r.source_filename, r.late_capture_reason, r[20])
    ids = list(batch)
    pages = session.execute(
        select(Page.document_id, Page.number, Page.object_key, Page.image_sha256, Page.text_object_key,
               Page.words_object_key, Page.ocr_status, Page.ocr_error, Page.ocr_text, Page.text_layer,
               Page.image_ready)
        .where(Page.document_id.in_(ids)).order_by(Page.document_id, Page.number))
    for document_id, *facts in pages:
        batch[document_id].pages.append(PageFacts(*facts))
    versions = session.execute(select(PageVersion.document_id, PageVersion.object_key, PageVersion.image_sha256,
                                      PageVersion.text_object_key, PageVersion.words_object_key)
                               .where(PageVersion.document_id.in_(ids)))
    for document_id, key, sha256, text_key, words_key in versions:
        batch[document_id].earlier_versions += [(key, sha256), *((k, None) for k in (text_key, words_key) if k)]
    events = session.execute(select(AuditEvent.target_id, AuditEvent.detail).where(
        AuditEvent.event_type == CAPTURED, AuditEvent.target_type == "document",
        AuditEvent.target_id.in_([str(i) for i in ids]), AuditEvent.seq.is_not(None)))
    for target_id, detail in events:
        if target_id.isdigit() and int(target_id) in batch:
            batch[int(target_id)].capture_events.append(dict(detail or {}))
    return list(batch.values())


# --- reading: each object decrypted once ------------------------------------------------------------


def sniff(head: bytes) -> str:
    """The media type the first bytes say, or "" when none of the accepted ones."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"BM"):
        return BMP
    return ""


def read_content(uow: UnitOfWork, record: Record, env: Environment) -> Content:
    """Decrypt every object of the record once and hand each stream to what needs it: hashing, the
    sniff, the decoding and the virus scan."""
    content = Content(earlier=dict(record.earlier_versions))
    try:
        data_key = uow.keyring.unwrap(record.wrapped)
    except (DecryptionError, KeyError, ValueError) as error:
        content.key_error = str(error) or type(error).__name__
        return content
    content.original = _read_original(uow, record.object_key, data_key, env)
    for page in record.pages:
        if page.object_key and page.image_ready:
            content.pages[page.number] = _read_page(uow, page.object_key, data_key, page.image_sha256, env.deep)
        for key in (page.text_object_key, page.words_object_key):
            if key:
                content.others.append(_read_plain(uow, key, data_key))
    for key, _ in record.earlier_versions:
        content.others.append(_read_plain(uow, key, data_key))
    return content


def _read_plain(uow: UnitOfWork, key: str, data_key: bytes) -> ObjectRead:
    read, digest = ObjectRead(key), hashlib.sha256()
    buffer = bytearray(CHUNK)
    try:
        with uow.store.open(key, data_key=data_key) as stream:
            while count := stream.readinto(buffer):  # type: ignore[attr-defined]
                digest.update(memoryview(buffer)[:count])
                read.size += count
    except ObjectNotFoundError:
        read.failure = "missing"
    except DecryptionError as error:
        read.failure = f"does not decrypt: {error or type(error).__name__}"
    read.sha256 = digest.hexdigest()
    return read


def _read_page(uow: UnitOfWork, key: str, data_key: bytes, expected: str | None, deep: bool) -> ObjectRead:
    """A page image (a PNG the archive wrote, small): held in memory, hashed, decoded (in full when deep
    or when the bytes are not the captured ones; see Environment.deep)."""
    read = ObjectRead(key)
    try:
        with uow.store.open(key, data_key=data_key) as stream:
            data = stream.read()
    except ObjectNotFoundError:
        read.failure = "missing"
        return read
    except DecryptionError as error:
        read.failure = f"does not decrypt: {error or type(error).__name__}"
        return read
    read.size, read.sha256 = len(data), hashlib.sha256(data).hexdigest()
    read.render_error = _decode_image(data, full=deep or read.sha256 != expected)
    return read


def _png_structure(data: bytes) -> str:
    """What Pillow's verify checks of a PNG, without its per-file overhead: the signature, every chunk
    whole with its CRC, IHDR first and IEND last. "" when sound."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "not a PNG"
    view, offset, first = memoryview(data), 8, True
    while offset + 12 <= len(data):
        length = int.from_bytes(view[offset:offset + 4], "big")
        kind = bytes(view[offset + 4:offset + 8])
        end = offset + 12 + length
        if end > len(data):
            return f"chunk {kind!r} is cut short"
        if zlib.crc32(view[offset + 4:end - 4]) != int.from_bytes(view[end - 4:end], "big"):
            return f"chunk {kind!r} fails its CRC"
        if first and kind != b"IHDR":
            return "the first chunk is not IHDR"
        if kind == b"IEND":
            return ""
        offset, first = end, False
    return "no IEND chunk: the image is truncated"


def _decode_image(data: bytes, *, full: bool) -> str:
    if not full and data.startswith(b"\x89PNG"):
        return _png_structure(data)
    try:
        with Image.open(io.BytesIO(data)) as image:
            if full:
                image.load()
            else:
                image.verify()
    except Exception as error:  # noqa: BLE001 - any decoder failure is the finding
        return str(error) or type(error).__name__
    return ""


def _read_original(uow: UnitOfWork, key: str, data_key: bytes, env: Environment) -> ObjectRead:
    """The original, streamed once: hashed and scanned as it comes, spooled to be opened after."""
    read, digest = ObjectRead(key), hashlib.sha256()
    scan: ClamdScan | None = None
    if env.clamd:
        try:
            scan = ClamdScan(env.clamd)
        except ClamdError as error:
            read.scan_error = str(error)
    with tempfile.SpooledTemporaryFile(max_size=SPOOL) as spool:
        buffer = bytearray(CHUNK)
        try:
            with uow.store.open(key, data_key=data_key) as stream:
                while count := stream.readinto(buffer):  # type: ignore[attr-defined]
                    chunk = memoryview(buffer)[:count]
                    digest.update(chunk)
                    spool.write(chunk)
                    if scan is not None:
                        scan.feed(chunk)
                    read.size += count
        except ObjectNotFoundError:
            read.failure = "missing"
        except DecryptionError as error:
            read.failure = f"does not decrypt: {error or type(error).__name__}"
        if read.failure:
            if scan is not None:
                scan.close()
            return read
        read.sha256 = digest.hexdigest()
        if scan is not None:
            try:
                verdict = scan.verdict()
                read.virus = "" if verdict.clean else verdict.signature
            except ClamdError as error:
                read.scan_error = str(error)
        spool.seek(0)
        read.sniffed = sniff(spool.read(16))
        spool.seek(0)
        if read.sniffed == PDF:
            in_memory = read.size <= SPOOL
            read.page_count, read.render_error = _open_pdf(spool.read() if in_memory else spool)
        elif read.sniffed:
            read.page_count, read.render_error = _open_image(spool, deep=env.deep)
    return read


def _open_pdf(source: bytes | Any) -> tuple[int | None, str]:
    """Open it with the renderer OCR uses (pdfium): every page's size, the first page loaded."""
    try:
        return inspect_pdf(source, limits=_NO_PAGE_LIMIT), ""
    except InputRejectedError as error:
        return None, str(error)
    except Exception as error:  # noqa: BLE001 - any parser failure is the finding
        return None, str(error) or type(error).__name__


def _open_image(source: Any, *, deep: bool) -> tuple[int | None, str]:
    """An image original: its frames are the pages (counted by walking them); each frame is decoded in a
    deep run (the pages, which capture decoded from it, are checked each in every run)."""
    try:
        with Image.open(source) as image:
            frames = getattr(image, "n_frames", 1)
            if deep:
                for frame in range(frames):
                    image.seek(frame)
                    image.load()
            return frames, ""
    except Exception as error:  # noqa: BLE001 - any decoder failure is the finding
        return None, str(error) or type(error).__name__


# --- the set checks ---------------------------------------------------------------------------------


def gap_problems(session: Session, scopes: Collection[str]) -> list[Problem]:
    """Item numbers missing within each archive-code scope (one query for the codes, one for the counters)."""
    if not scopes:
        return []
    check = BY_NAME["item_numbers_gapless"]
    present: dict[str, set[int]] = defaultdict(set)
    scope_list = sorted(scopes)
    for start in range(0, len(scope_list), 200):
        part = scope_list[start:start + 200]
        condition = [Document.archive_code.startswith(scope + "-", autoescape=True) for scope in part]
        for code in session.scalars(select(Document.archive_code).where(or_(*condition))):
            scope, _, item = code.rpartition("-")
            if item.isdigit():
                present[scope].add(int(item))
    counters = dict(session.execute(select(ArchiveCodeCounter.scope, ArchiveCodeCounter.last_number)
                                    .where(ArchiveCodeCounter.scope.in_(scope_list))).all())
    problems = []
    for scope in scope_list:
        numbers = present.get(scope, set())
        last = max(counters.get(scope, 0), max(numbers, default=0))
        missing = sorted(set(range(1, last + 1)) - numbers)
        if missing:
            shown = ", ".join(f"{n:04d}" for n in missing[:20]) + (" …" if len(missing) > 20 else "")
            problems.append(Problem(check.name, check.property, check.severity, None, "", scope,
                                    f"{scope}: {len(missing)} item number(s) missing: {shown}", check.hint))
    return problems


def required_document_problems(session: Session, customer_ids: Collection[int]) -> list[Problem]:
    """Each customer whose file lacks a document type its business process requires (reference data)."""
    if not customer_ids:
        return []
    check = BY_NAME["required_documents_present"]
    ids = sorted(customer_ids)
    kinds: dict[int, str] = {}
    types: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        kinds.update(session.execute(select(Customer.id, Customer.kind).where(Customer.id.in_(part))).all())
        for customer_id, document_type in session.execute(
                select(Document.customer_id, Document.document_type).distinct()
                .where(Document.customer_id.in_(part), ~Document.is_shredded)):
            types[customer_id].add(document_type)
    problems = []
    for customer_id in ids:
        missing = [t for t in required_document_types(session, kinds.get(customer_id, "")) if t not in types[customer_id]]
        if missing:
            problems.append(Problem(check.name, check.property, check.severity, None, "", f"customer {customer_id}",
                                    f"customer {customer_id} lacks {', '.join(missing)}", check.hint))
    return problems


def scope_of(archive_code: str) -> str:
    """`Z001-HT·2024-D30-YX-0007` -> `Z001-HT·2024-D30-YX`: the scope item numbers count in."""
    return archive_code.rpartition("-")[0]
