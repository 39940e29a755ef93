"""The archive's domain model: SQLAlchemy 2.0 typed declarative, no framework, no I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Text,
    UniqueConstraint,
    select,
    true,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SHREDDED = "shredded"  # a shredded document's status and key id: its data key no longer exists


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: DateTime(timezone=True)}


# --- reference data -------------------------------------------------------------------------


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # false: not for new use


class ClassificationLevel(Base):
    """密级: public < internal < confidential < secret; rank orders them."""

    __tablename__ = "classification_level"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # false: not for new use


class RetentionPeriod(Base):
    """保管期限: permanent, 30 years, 10 years. `years` is None for permanent."""

    __tablename__ = "retention_period"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    years: Mapped[int | None] = mapped_column(Integer)
    archive_code: Mapped[str] = mapped_column(String(8))  # the 保管期限代码 in the 档号: Y, D30, D10
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(50))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # false: not for new use


class DocumentType(Base):
    __tablename__ = "document_type"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(16))  # 门类代码 in the 档号
    retention_code: Mapped[str] = mapped_column(ForeignKey("retention_period.code"))
    default_classification: Mapped[str] = mapped_column(ForeignKey("classification_level.code"))
    # A document of this type is never captured below this level (an ID copy is never public).
    minimum_classification: Mapped[str | None] = mapped_column(String(32))  # a classification_level code
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # false: not for new use


class RequiredDocument(Base):
    """The checklist: a customer of this kind (its business process) must have a document of this type."""

    __tablename__ = "required_document"
    __table_args__ = (UniqueConstraint("customer_kind", "document_type_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_kind: Mapped[str] = mapped_column(String(32))  # individual, organisation
    document_type_code: Mapped[str] = mapped_column(ForeignKey("document_type.code"))


# --- people -----------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    clearance: Mapped[str] = mapped_column(ForeignKey("classification_level.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when an administrator chose the password: the user must replace it at the next login.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cli_token_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the personal CLI token
    email: Mapped[str | None] = mapped_column(String(200))  # for self-service unlock when SMTP is configured
    totp_sealed: Mapped[str | None] = mapped_column(String(200))  # the TOTP secret, sealed; None: not enrolled
    # The first of the three administrator roles (三员分立) the account ever held: it never takes another.
    duty_role: Mapped[str | None] = mapped_column(String(20))

    department: Mapped[Department | None] = relationship(lazy="joined")
    clearance_level: Mapped[ClassificationLevel] = relationship(lazy="joined")

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and as_utc(self.locked_until) > now


# --- customers and their files ------------------------------------------------------------------


class Customer(Base):
    """客户. The identity key is stored sealed (encrypted) plus a keyed hash for exact lookup."""

    __tablename__ = "customer"
    __table_args__ = (UniqueConstraint("identity_hash", name="uq_customer_identity_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # individual | organisation
    id_type: Mapped[str] = mapped_column(String(20))  # resident_id | uscc
    identity_sealed: Mapped[str] = mapped_column(String(200))
    identity_hash: Mapped[str] = mapped_column(String(64))
    identity_masked: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    phone_sealed: Mapped[str | None] = mapped_column(String(200))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    customer_class: Mapped[str] = mapped_column(String(50), default="")
    status: Mapped[str] = mapped_column(String(20), default="normal")  # normal | abnormal
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A wrong identity key is never edited: a new customer supersedes this one, which turns abnormal 非正常.
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    department: Mapped[Department] = relationship(lazy="joined")


class Dossier(Base):
    """卷宗: the customer's file or one work order's documents."""

    __tablename__ = "dossier"
    __table_args__ = (UniqueConstraint("customer_id", "title", name="uq_dossier_customer_title"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # No document of the dossier is below this level (services/classification.py).
    classification: Mapped[str] = mapped_column(String(32), default="public", server_default="public")


class Document(Base):
    """件: one contract, form or ID copy of one or more pages."""

    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("customer_id", "content_sha256", name="uq_document_customer_content"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"), index=True)
    document_type: Mapped[str] = mapped_column(ForeignKey("document_type.code"))
    title: Mapped[str] = mapped_column(String(300))
    archive_code: Mapped[str] = mapped_column(String(100), unique=True)
    classification: Mapped[str] = mapped_column(ForeignKey("classification_level.code"))
    retention: Mapped[str] = mapped_column(ForeignKey("retention_period.code"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    original_or_copy: Mapped[str] = mapped_column(String(10), default="copy")  # original | copy
    status: Mapped[str] = mapped_column(String(20), default="processing")  # processing|ready|failed|shredded
    failure_reason: Mapped[str | None] = mapped_column(Text)
    document_date: Mapped[date | None] = mapped_column(Date)
    source_filename: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str] = mapped_column(String(200))
    cipher: Mapped[str] = mapped_column(String(20))
    key_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    pii_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    captured_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    captured_at: Mapped[datetime] = mapped_column(default=utcnow)
    late_capture_reason: Mapped[str | None] = mapped_column(Text)  # 补录 of an earlier year's document
    contract_end_date: Mapped[date | None] = mapped_column(Date)  # time-limited documents: history after it
    filed_at: Mapped[datetime | None] = mapped_column(index=True)  # 归档: None while pending filing
    filed_by_id: Mapped[int | None] = mapped_column(Integer)  # a user id (no FK: see migration 0006)
    box: Mapped[str | None] = mapped_column(String(50))  # where the paper original lies: 盒号
    shelf: Mapped[str | None] = mapped_column(String(50))  # 架位
    work_order: Mapped[str | None] = mapped_column(String(64), index=True)  # 工单号 of the business case
    business_step: Mapped[str | None] = mapped_column(String(100))  # 业务环节, e.g. 高压新装, 增容

    customer: Mapped[Customer] = relationship(lazy="joined")
    dossier: Mapped[Dossier | None] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    doc_type: Mapped[DocumentType] = relationship(lazy="joined")
    # A document is hardly ever used without its pages: load them for a whole result at once.
    pages: Mapped[list[Page]] = relationship(
        back_populates="document", order_by="Page.number", cascade="all, delete-orphan", lazy="selectin"
    )
    # Earlier versions are rarely read: loaded only when asked for (shredding, a version's page).
    page_versions: Mapped[list[PageVersion]] = relationship(
        order_by=lambda: [PageVersion.number, PageVersion.version], cascade="all, delete-orphan", lazy="select"
    )

    def is_history(self, today: date) -> bool:
        """A time-limited document (a contract) past its end date: 历史, still kept and searchable."""
        return self.contract_end_date is not None and self.contract_end_date < today

    @hybrid_property
    def is_shredded(self) -> bool:
        """Its data key is destroyed. Usable in queries too: `where(~Document.is_shredded)`."""
        return self.key_id == SHREDDED

    def shred(self) -> list[str]:
        """Destroy the data key and the text drawn from the content; return the object keys to delete.

        Earlier versions of replaced pages go the same way. What identifies the record (archive code,
        title, type, dates, SHA-256) stays as its trace.
        """
        keys = [self.object_key]
        for content in (*self.pages, *self.page_versions):
            keys += content.object_keys()
            content.ocr_text = None
        for page in self.pages:
            if page.ocr_status == "pending":
                page.ocr_status, page.ocr_error = "failed", "document shredded"
        self.wrapped_key, self.key_id, self.status, self.pii_hashes = b"", SHREDDED, SHREDDED, []
        return keys

    @classmethod
    def locked(cls, *criteria: Any, keys: bool = False) -> Select[tuple[Document]]:
        """Select documents locked until the commit and read again, with what other transactions
        committed meanwhile: for a read-modify-write of a document (its pii_hashes, its status).

        FOR NO KEY UPDATE unless keys: a page's update takes FOR KEY SHARE on its document (the foreign
        key check), and two transactions each holding that and asking FOR UPDATE deadlock. keys=True
        (FOR UPDATE) for a transaction that changes a unique column (customer_id is one, with the
        content hash): its UPDATE needs FOR UPDATE anyway, and taking it late deadlocks the same way.
        """
        return (select(cls).where(*criteria).with_for_update(key_share=not keys, of=cls)
                .execution_options(populate_existing=True))

    def refresh_status(self) -> None:
        """Become ready once every page is recognised; failed, with the first reason, if any page failed
        for good; processing while any page waits."""
        if self.is_shredded:
            return
        failed = [p for p in self.pages if p.ocr_status == "failed"]
        if failed:
            self.status = "failed"
            self.failure_reason = f"page {failed[0].number}: {failed[0].ocr_error or 'OCR failed'}"
        elif all(p.ocr_status == "done" for p in self.pages):
            self.status, self.failure_reason = "ready", None
        else:
            self.status, self.failure_reason = "processing", None


class PageContent:
    """What a page version is made of, on the current page and on kept earlier versions alike."""

    object_key: Mapped[str] = mapped_column(String(200))
    image_sha256: Mapped[str | None] = mapped_column(String(64))  # of the stored image; None before 0003
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    text_layer: Mapped[bool] = mapped_column(Boolean, default=False)
    ocr_error: Mapped[str | None] = mapped_column(Text)
    ocr_text: Mapped[str | None] = mapped_column(Text)  # PII redacted; the full text is an encrypted object
    ocr_confidence: Mapped[float | None] = mapped_column(Float)
    text_object_key: Mapped[str | None] = mapped_column(String(200))
    words_object_key: Mapped[str | None] = mapped_column(String(200))  # word boxes, encrypted JSON

    def object_keys(self) -> list[str]:
        """The stored objects of this version: image, full text, word boxes."""
        return [k for k in (self.object_key, self.text_object_key, self.words_object_key) if k]


class Page(PageContent, Base):
    """The current version of a page. A replaced version moves to PageVersion, so `page` holds exactly
    the pages a document has now."""

    __tablename__ = "page"
    __table_args__ = (UniqueConstraint("document_id", "number", name="uq_page_document_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    ocr_status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|done|failed
    # Set when a job starts on the page, cleared when it is queued: a page pending long after its job
    # started lost its worker (jobs.py re-queues it).
    ocr_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rescan_needed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # False while a PDF page waits for a worker to render its image (object_key names where it will be).
    image_ready: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    document: Mapped[Document] = relationship(back_populates="pages")

    def queue_ocr(self) -> None:
        """Wait for (another) recognition; the text so far stays until the new one replaces it."""
        self.ocr_status, self.ocr_error, self.ocr_started_at = "pending", None, None

    def supersede(self, *, by_id: int | None, at: datetime) -> PageVersion:
        """Keep this version as a PageVersion and clear the page for the next one (the caller sets
        its image). The page keeps its number; its version goes up by one."""
        kept = PageVersion(
            document_id=self.document_id, page_id=self.id, number=self.number, version=self.version,
            object_key=self.object_key, image_sha256=self.image_sha256, width=self.width, height=self.height,
            text_layer=self.text_layer, ocr_status=self.ocr_status, ocr_error=self.ocr_error,
            ocr_text=self.ocr_text, ocr_confidence=self.ocr_confidence, text_object_key=self.text_object_key,
            words_object_key=self.words_object_key, rescan_needed=self.rescan_needed,
            created_at=self.replaced_at or self.document.captured_at, superseded_at=at, superseded_by_id=by_id,
        )
        self.version += 1
        self.text_layer, self.ocr_text, self.ocr_confidence = False, None, None
        self.text_object_key = self.words_object_key = None
        self.rescan_needed, self.replaced_at, self.replaced_by_id = False, at, by_id
        self.queue_ocr()
        return kept


class PageVersion(PageContent, Base):
    """An earlier version of a page, replaced by a rescan; kept, with its objects, until shredding."""

    __tablename__ = "page_version"
    __table_args__ = (UniqueConstraint("page_id", "version", name="uq_page_version_page_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("page.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    ocr_status: Mapped[str] = mapped_column(String(20))
    rescan_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column()  # when this version became the page
    superseded_at: Mapped[datetime] = mapped_column()
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class ArchiveCodeCounter(Base):
    """Last item number per (fonds, category, year, retention, department), allocated atomically."""

    __tablename__ = "archive_code_counter"
    scope: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class SearchOutbox(Base):
    """Index work written in the same transaction as the change; the worker drains it."""

    __tablename__ = "search_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(10))  # index | delete
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobOutbox(Base):
    """A job to queue, written in the same transaction as the change that needs it: a job queue that is
    down when the change commits (Redis restarting) delays the job but cannot lose it."""

    __tablename__ = "job_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(64))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEvent(Base):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(100))
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16))  # ok | denied | failed
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The hash chain (archive/compliance/chain.py): position, previous entry's hash, this entry's hash.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, index=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; we store UTC everywhere."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FixityRun(Base):
    """One run of the fixity check: what was checked and every problem found (see services/integrity.py)."""

    __tablename__ = "fixity_run"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime] = mapped_column()
    documents_checked: Mapped[int] = mapped_column(Integer, default=0)
    objects_checked: Mapped[int] = mapped_column(Integer, default=0)
    # [{"kind", "object_key", "document_id", "archive_code", "detail"}, ...]
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    ok: Mapped[bool] = mapped_column(Boolean)


class AuditChainHead(Base):
    """One row (id 1): the last seq handed out and that entry's hash. Writers lock it (audit_chain.py)."""

    __tablename__ = "audit_chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """An inbox entry: a request to decide, a decision, a reminder. `kind` and `params` are translated
    where shown; `link` is the path of the page it concerns."""

    __tablename__ = "notification"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClassificationChange(Base):
    """A request to raise or lower (解密) a document's or a dossier's classification, which the
    security administrator decides (services/classification.py)."""

    __tablename__ = "classification_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))  # document | dossier
    target_id: Mapped[int] = mapped_column(Integer, index=True)
    before: Mapped[str] = mapped_column(String(32))
    after: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | approved | rejected
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    comment: Mapped[str] = mapped_column(Text, default="")
