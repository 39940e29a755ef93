"""Frozen values that services return to entry points; never ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class DocumentTypeView:
    code: str
    name_zh: str
    name_en: str
    active: bool = True


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    display_name: str
    role: str
    department: str
    clearance: str
    active: bool


@dataclass(frozen=True)
class PageVersionSummary:
    """An earlier version of a page, as listed beside the current one."""

    version: int
    superseded_at: datetime
    ocr_confidence: float | None


@dataclass(frozen=True)
class PageView:
    number: int
    ocr_status: str
    ocr_text: str
    ocr_confidence: float | None
    rescan_needed: bool
    ocr_error: str | None
    version: int = 1
    earlier_versions: list[PageVersionSummary] = field(default_factory=list)
    image_ready: bool = True  # false: a captured PDF page a worker has yet to render
    width: int = 0  # the page image's pixels (0: unknown), so the viewer keeps its place before it loads
    height: int = 0


@dataclass(frozen=True)
class PageVersionView:
    """One earlier version of a page: what it showed before a rescan replaced it."""

    document_id: int
    archive_code: str
    title: str
    number: int
    version: int
    current_version: int
    width: int
    height: int
    ocr_status: str
    ocr_text: str  # full text to those who may see PII, else redacted
    ocr_confidence: float | None
    ocr_error: str | None
    created_at: datetime
    superseded_at: datetime
    superseded_by: str


@dataclass(frozen=True)
class WordBoxView:
    """A recognised word and its box in the page image's pixels."""

    text: str
    confidence: float
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class PageWordsView:
    document_id: int
    number: int
    version: int
    width: int  # of the page image the boxes are drawn on
    height: int
    words: list[WordBoxView]


@dataclass(frozen=True)
class DocumentSummary:
    id: int
    archive_code: str
    title: str
    document_type: str
    classification: str
    status: str
    page_count: int
    captured_at: datetime
    dossier: str
    work_order: str = ""
    business_step: str = ""


@dataclass(frozen=True)
class DocumentView:
    id: int
    archive_code: str
    title: str
    document_type: str
    classification: str
    retention: str
    department: str
    original_or_copy: str
    status: str
    failure_reason: str | None
    document_date: date | None
    source_filename: str
    media_type: str
    size_bytes: int
    content_sha256: str
    customer_id: int
    customer_name: str
    customer_identity: str  # masked unless the actor may see PII
    dossier: str
    captured_at: datetime
    may_download: bool
    pages: list[PageView] = field(default_factory=list)
    filed_at: datetime | None = None  # None: captured, pending filing 归档
    late_capture_reason: str | None = None
    contract_end_date: date | None = None
    history: bool = False  # a time-limited document past its end: 历史
    actions: frozenset[str] = frozenset()  # the permissions the viewer holds on it (none once shredded)
    dossier_id: int | None = None
    work_order: str = ""
    business_step: str = ""
    box: str = ""
    shelf: str = ""
    edits: list[MetadataChangeView] = field(default_factory=list)  # newest first
    download_refused: str = ""  # why not, when may_download is false (access.WHY_*: role, department, ...)


@dataclass(frozen=True)
class CustomerSummary:
    id: int
    name: str
    kind: str
    identity: str  # masked unless the actor may see PII
    department: str
    customer_class: str
    status: str
    document_count: int


@dataclass(frozen=True)
class DossierView:
    id: int
    title: str
    documents: list[DocumentSummary]


@dataclass(frozen=True)
class CustomerLink:
    """The other customer of a supersession (seed 004); id None: outside the viewer's access."""

    id: int | None
    name: str
    identity: str  # always masked


@dataclass(frozen=True)
class CustomerView:
    summary: CustomerSummary
    phone: str
    dossiers: list[DossierView]
    loose_documents: list[DocumentSummary]
    missing_types: list[str]
    superseded_by: CustomerLink | None = None  # the customer with the corrected key
    supersedes: list[CustomerLink] = field(default_factory=list)  # customers whose wrong key this one corrects
    superseded_at: datetime | None = None
    actions: frozenset[str] = frozenset()  # the permissions the viewer holds on the customer


@dataclass(frozen=True)
class IdentifierCheck:
    """The registration form's live check of a key: valid (code says why not), and whether registered."""

    valid: bool
    code: str = ""
    message: str = ""
    normalised: str = ""
    registered: bool = False
    customer_id: int | None = None  # only when the actor may see that customer
    customer_name: str = ""


@dataclass(frozen=True)
class MetadataChangeView:
    """One edit of a document's metadata: who, when, and each changed field's before and after."""

    occurred_at: datetime
    actor: str
    changes: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class DocumentGroupView:
    """Documents grouped for the views by work order / business step and by dossier."""

    key: str  # the work order number, or the dossier's title
    label: str  # the business step, or the dossier's customer
    documents: list[DocumentSummary]
    dossier_id: int | None = None
    customer_id: int | None = None


@dataclass(frozen=True)
class SearchHitView:
    document_id: int
    archive_code: str
    title: str
    customer: str
    document_type: str
    snippet: str
    score: float
    history: bool = False  # a time-limited document past its end (retention): shown marked
    # Outside the user's access, shown as metadata only (ARCHIVE_BORROW_DISCOVERY): ask to borrow it.
    restricted: bool = False


@dataclass(frozen=True)
class SearchPage:
    query: str
    total: int
    hits: list[SearchHitView]
    facets: dict[str, dict[str, int]]


@dataclass(frozen=True)
class AuditEventView:
    id: int
    occurred_at: datetime
    actor: str
    event_type: str
    target: str
    outcome: str
    remote_addr: str
    detail: dict[str, object]


@dataclass(frozen=True)
class FixityProblem:
    kind: str  # missing | corrupted | orphaned | unreachable (the store could not be reached: the run stopped)
    object_key: str
    document_id: int | None  # None for an orphaned object
    archive_code: str
    detail: str


@dataclass(frozen=True)
class FixityReport:
    """The outcome of one fixity run, as recorded in fixity_run."""

    run_id: int
    started_at: datetime
    finished_at: datetime
    documents_checked: int
    objects_checked: int
    problems: list[FixityProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, kind: str) -> int:
        return sum(1 for problem in self.problems if problem.kind == kind)


@dataclass(frozen=True)
class FilingProblem:
    """One reason a document cannot be filed yet: a code and params the UI translates, and the sentence
    in English (the CLI, the audit)."""

    code: str
    message: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FilingResult:
    filed: list[str]  # archive codes filed now
    problems: dict[str, list[FilingProblem]]  # archive code: why it cannot be filed yet

    @property
    def refused(self) -> dict[str, str]:
        """Archive code: its reasons in English, one line."""
        return {code: "; ".join(p.message for p in found) for code, found in self.problems.items()}


# The compliance page reads a recorded run back as the same value.
FixityRunView = FixityReport


@dataclass(frozen=True)
class DocumentLink:
    """A document named on a list (the home page): what to show and when it was seen or captured."""

    id: int
    archive_code: str
    title: str
    document_type: str
    customer_name: str
    at: datetime


@dataclass(frozen=True)
class RecentDocuments:
    viewed: list[DocumentLink]  # what the actor opened lately and may still open
    new: list[DocumentLink]  # the newest documents the actor may open


@dataclass(frozen=True)
class CustomerGap:
    id: int
    name: str
    department: str
    missing_types: list[str]


@dataclass(frozen=True)
class CustomerGaps:
    total: int  # customers in scope with at least one required document type missing
    items: list[CustomerGap]
