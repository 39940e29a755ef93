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


@dataclass(frozen=True)
class Visibility:
    """What a user may see: None for departments means every department."""

    departments: frozenset[str] | None
    classifications: frozenset[str]
    granted_document_ids: frozenset[int] = frozenset()


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


class SearchIndex(Protocol):
    """An index of documents.

    `index` adds or replaces by document_id and is visible to `search` once it returns; `delete`
    is idempotent. `search` returns only documents matching `visibility`, and its totals and facets
    count only those.
    """

    def index(self, documents: Iterable[IndexedDocument]) -> None: ...

    def delete(self, document_ids: Iterable[int]) -> None: ...

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult: ...

    def clear(self) -> None: ...
