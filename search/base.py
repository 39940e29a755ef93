"""Search contract and value types shared by every backend.

The search package knows nothing of the archive: it indexes plain records and filters by an opaque
visibility description that the archive's access policy produces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol


class SearchError(Exception):
    """Base class for search failures."""


class QuerySyntaxError(SearchError):
    """The query string cannot be parsed."""


@dataclass(frozen=True)
class IndexedDocument:
    document_id: int
    title: str
    text: str  # OCR text with PII already redacted
    archive_code: str = ""
    customer_id: int = 0
    customer_name: str = ""
    document_type: str = ""
    department: str = ""
    classification: str = ""
    dossier: str = ""
    status: str = ""
    document_date: date | None = None
    keywords: tuple[str, ...] = ()  # exact identifiers: archive code, contract numbers, credit codes
    pii_hashes: tuple[str, ...] = ()  # keyed hashes of ID numbers / phones, never plaintext
    lent_to: tuple[int, ...] = ()  # users holding a running borrow grant on it, when it was indexed


@dataclass(frozen=True)
class Visibility:
    """What a user may see: None for departments means every department.

    granted_document_ids are the documents lent to the user. With many, the caller also names the user
    (lent_to): an engine that indexes borrowers then filters by that one term instead, adding the lent
    documents not yet tagged (lent_pending) and leaving out those tagged but no longer lent (withheld).
    """

    departments: frozenset[str] | None
    classifications: frozenset[str]
    granted_document_ids: frozenset[int] = frozenset()
    lent_to: int | None = None
    lent_pending: frozenset[int] = frozenset()
    withheld_document_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    pii_hashes: tuple[str, ...] = ()  # exact PII lookups (OR-ed with the text match)
    filters: dict[str, str] = field(default_factory=dict)  # key as in analysis.FILTER_FIELDS -> exact value
    limit: int = 20
    offset: int = 0
    sort: str = "relevance"  # "relevance", "newest" or "oldest" (by document_date)
    date_from: date | None = None  # inclusive bounds on document_date
    date_to: date | None = None
    exclude_ids: frozenset[int] = frozenset()  # withdrawn documents whose removal is still queued


@dataclass(frozen=True)
class SearchHit:
    document_id: int
    score: float
    snippet: str  # plain text with matches wrapped in <mark>...</mark>, everything else escaped


@dataclass(frozen=True)
class SearchResult:
    total: int
    hits: list[SearchHit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class IndexState:
    """Which index serves searches, and which one a rebuild is filling (None: no rebuild)."""

    live: str
    building: str | None = None


class IndexBuild(Protocol):
    """A fresh index filled beside the live one; searches see it only once published.

    `add` takes documents not yet in the build (the bulk load); `index` adds or replaces and
    `delete` removes, for changes made while the build ran. `publish` makes the build the live index
    in one atomic step and removes the old one; `discard` throws the build away, leaving the live
    index untouched. A build neither published nor discarded (a crash) never affects searches and is
    removed by the next `begin_rebuild`.
    """

    def add(self, documents: Iterable[IndexedDocument]) -> None: ...

    def index(self, documents: Iterable[IndexedDocument]) -> None: ...

    def delete(self, document_ids: Iterable[int]) -> None: ...

    def publish(self) -> None: ...

    def discard(self) -> None: ...


class SearchIndex(Protocol):
    """An index of documents.

    `index` adds or replaces by document_id and is visible to `search` once it returns; `delete`
    is idempotent. `search` returns only documents matching `visibility` and not in
    `query.exclude_ids`, and its totals and facets count only those. `state` tells every process
    which index is live and whether a rebuild is running (it changes when one starts or is
    published), so a writer can tell whether its change may have gone to an index being replaced.
    """

    def index(self, documents: Iterable[IndexedDocument]) -> None: ...

    def delete(self, document_ids: Iterable[int]) -> None: ...

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult: ...

    def clear(self) -> None: ...

    def state(self) -> IndexState: ...

    def begin_rebuild(self) -> IndexBuild: ...
