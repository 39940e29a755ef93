"""Embedded search index on Tantivy.

Text is analysed with search.analysis (CJK bigrams, lowercased words) and handed to tantivy as a
space-joined token stream split by its whitespace tokenizer, with positions, so phrases and Chinese
words match exactly as the analysis says; the original text is stored alongside for snippets.
Visibility, filters and facets are all evaluated inside the engine, so totals and facet counts never
include documents the user cannot see; a document's department and classification are also indexed as one
`access` term, so the visibility filter is a single union of terms.

The index folder holds generations (search.generations): a rebuild fills a new one with one
long-lived writer and publishes it atomically; every reader and writer, in any process, follows the
`CURRENT` pointer and reopens when it changed. Tantivy allows one writer per generation across
processes: each index()/delete()/clear() call takes the writer, commits and releases it, retrying
while another holder has the lock.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tantivy

from search.analysis import (
    ParsedQuery,
    Term,
    make_snippet,
    merge_filters,
    normalise_identifier,
    normalise_keyword,
    parse_query,
    token_streams,
)
from search.base import (
    IndexedDocument,
    IndexState,
    SearchError,
    SearchHit,
    SearchQuery,
    SearchResult,
    Visibility,
)
from search.generations import Generations

FACET_FIELDS: Mapping[str, str] = {
    "document_type": "document_type",
    "department": "department",
    "year": "year",
}
FILTER_TO_FIELD: Mapping[str, str] = {
    "type": "document_type",
    "department": "department",
    "classification": "classification",
    "dossier": "dossier",
    "status": "status",
    "year": "year",
}
FACET_SIZE = 1000
TITLE_BOOST = 2.0
BUILD_HEAP_BYTES = 256_000_000
log = logging.getLogger(__name__)
MAX_TERM_UNION = 32
WRITER_POLL = 0.05  # how often a writer waiting for another process's lock tries again, at most
LENT_TO = "lent_to"  # the users a document is lent to (borrow grants), one term each
ACCESS = "access"  # department and classification as one term, so visibility is a union of terms
OPTIONAL_FIELDS = (LENT_TO, ACCESS)  # added after the first layout; an older index serves without them


def build_schema(optional: Iterable[str] = OPTIONAL_FIELDS) -> tantivy.Schema:
    """Return the index schema (text fields are pre-tokenised, keyword fields raw).

    optional: the later fields to include (in their order; an index keeps its field ids).
    """
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("document_id", stored=True, indexed=True, fast=True)
    builder.add_text_field("title", tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("body", tokenizer_name="whitespace", index_option="position")
    builder.add_text_field("text", stored=True, tokenizer_name="raw", index_option="basic")  # stored only
    for name in ("archive_code", "keywords", "pii_hashes"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in ("document_type", "department", "classification", "dossier", "status", "customer_name"):
        builder.add_text_field(name, tokenizer_name="raw", index_option="basic", fast=True)
    builder.add_unsigned_field("customer_id", indexed=True, fast=True)
    builder.add_unsigned_field("year", indexed=True, fast=True)
    builder.add_integer_field("date", indexed=True, fast=True)  # proleptic ordinal, for sorting
    wanted = set(optional)
    if LENT_TO in wanted:
        builder.add_unsigned_field(LENT_TO, indexed=True)
    if ACCESS in wanted:
        builder.add_text_field(ACCESS, tokenizer_name="raw", index_option="basic")
    return builder.build()


def access_key(department: str, classification: str) -> str:
    """The access field's term: a department and a classification, normalised, in one term."""
    return f"{normalise_keyword(department)}\x1f{normalise_keyword(classification)}"


def _has_field(schema: tantivy.Schema, name: str) -> bool:
    try:
        tantivy.Query.term_query(schema, name, 0 if name == LENT_TO else "")
    except ValueError:
        return False
    return True


def default_build_threads() -> int:
    """Indexing threads for a rebuild: one a core, up to four.

    The Python side (batched analysis, engine documents) takes under half a core at full speed, so
    it needs no core of its own: on two cores, two threads built 100,000 documents at 5,800–5,900
    a second against 4,900–5,100 with one.
    """
    return max(1, min(4, os.cpu_count() or 2))


def _open_writer(
    index: tantivy.Index, heap_bytes: int, timeout: float, where: object, threads: int = 0
) -> tantivy.IndexWriter:
    """Take the generation's writer, waiting while another process holds its lock."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            return index.writer(heap_size=heap_bytes, num_threads=threads)
        except ValueError as error:
            if "LockBusy" not in str(error) or time.monotonic() >= deadline:
                raise SearchError(f"cannot get the index writer for {where}: {error}") from error
        time.sleep(pause)
        pause = min(pause * 2, WRITER_POLL)


def to_tantivy(
    documents: Sequence[IndexedDocument], *, optional: Iterable[str] = OPTIONAL_FIELDS
) -> list[tantivy.Document]:
    """Return the engine documents: token streams, stored text, exact keywords, hashes, fast fields
    (optional: the later fields the index has). The batch's texts are analysed together."""
    titles = [" ".join(part for part in (d.title, d.customer_name) if part) for d in documents]
    streams = token_streams([*titles, *(d.text for d in documents)])
    wanted = frozenset(optional)
    return [_engine_document(document, title, body, wanted) for document, title, body
            in zip(documents, streams[: len(documents)], streams[len(documents) :], strict=True)]


def _engine_document(
    document: IndexedDocument, title: str, body: str, optional: frozenset[str]
) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_unsigned("document_id", document.document_id)
    if title:
        doc.add_text("title", title)
    doc.add_text("body", body)
    doc.add_pre_tokenized_text("text", _stored_only(document.text))
    if document.archive_code:
        doc.add_text("archive_code", normalise_identifier(document.archive_code))
    for keyword in {normalise_identifier(k) for k in (*document.keywords, document.archive_code) if k}:
        doc.add_text("keywords", keyword)
    for pii_hash in document.pii_hashes:
        doc.add_text("pii_hashes", pii_hash)
    for name in ("document_type", "department", "classification", "dossier", "status", "customer_name"):
        value = normalise_keyword(getattr(document, name))
        if value:
            doc.add_text(name, value)
    doc.add_unsigned("customer_id", max(document.customer_id, 0))
    if document.document_date is not None:
        doc.add_unsigned("year", document.document_date.year)
        doc.add_integer("date", document.document_date.toordinal())
    if LENT_TO in optional:
        for user_id in document.lent_to:
            doc.add_unsigned(LENT_TO, user_id)
    if ACCESS in optional and normalise_keyword(document.department) and normalise_keyword(document.classification):
        doc.add_text(ACCESS, access_key(document.department, document.classification))
    return doc


ANALYSIS_CHUNK = 64  # documents analysed together: enough to spread numpy's per-call cost


def _chunks(documents: Iterable[IndexedDocument]) -> Iterator[list[IndexedDocument]]:
    iterator = iter(documents)
    while chunk := list(itertools.islice(iterator, ANALYSIS_CHUNK)):
        yield chunk


def _by_id(documents: Iterable[IndexedDocument], optional: Iterable[str]) -> dict[int, tantivy.Document]:
    """The engine documents by document_id, the last of a repeated id winning."""
    latest = list({document.document_id: document for document in documents}.values())
    return {document.document_id: doc for chunk in _chunks(latest)
            for document, doc in zip(chunk, to_tantivy(chunk, optional=optional), strict=True)}


def _ids_query(schema: tantivy.Schema, document_ids: Iterable[int]) -> tantivy.Query:
    # delete_documents_by_term does not match unsigned fields in tantivy-py 0.27; a query does.
    return _one_of(schema, "document_id", sorted(document_ids))


def _one_of(schema: tantivy.Schema, field: str, values: list[str] | list[int]) -> tantivy.Query:
    """Match documents whose field holds any of the values.

    A few values become a union of term queries, which an intersection advances lazily: a filter
    then costs as much as the documents it is intersected with. A term-set query materialises
    every document of every value first (milliseconds per query at 100,000 documents), so it is
    kept for long lists only.
    """
    if not values:
        return tantivy.Query.empty_query()
    if len(values) > MAX_TERM_UNION:
        return tantivy.Query.term_set_query(schema, field, list(values))
    return _any([tantivy.Query.term_query(schema, field, value) for value in values])


def _stored_only(text: str) -> tantivy.PreTokenizedString:
    """Wrap text with no tokens: it is stored for snippets but adds nothing to the index."""
    return tantivy.PreTokenizedString(text, [])


class TantivyBuild:
    """A new generation filled by one writer kept open across batches (see search.base.IndexBuild)."""

    def __init__(self, generations: Generations, schema: tantivy.Schema, *, heap_bytes: int,
                 threads: int) -> None:
        self._generations = generations
        self._schema = schema
        self.name = generations.begin()
        folder = generations.folder(self.name)
        self._index = tantivy.Index(schema, path=str(folder), reuse=False)
        self._writer: tantivy.IndexWriter | None = _open_writer(
            self._index, heap_bytes, 0.0, folder, threads=threads
        )

    def _live_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise SearchError(f"the index build {self.name} is finished")
        return self._writer

    def add(self, documents: Iterable[IndexedDocument]) -> None:
        """Add documents not in the build yet (the bulk load: no delete by id first)."""
        writer = self._live_writer()
        for chunk in _chunks(documents):
            for doc in to_tantivy(chunk):
                writer.add_document(doc)

    def index(self, documents: Iterable[IndexedDocument]) -> None:
        """Add or replace documents by document_id."""
        batch = _by_id(documents, OPTIONAL_FIELDS)
        if batch:
            writer = self._live_writer()
            writer.delete_documents_by_query(_ids_query(self._schema, batch))
            for doc in batch.values():
                writer.add_document(doc)

    def delete(self, document_ids: Iterable[int]) -> None:
        ids = list(dict.fromkeys(document_ids))
        if ids:
            self._live_writer().delete_documents_by_query(_ids_query(self._schema, ids))

    def publish(self) -> None:
        """Commit, wait for merges, then make this generation the live one.

        Raises SearchError when a newer rebuild has dropped this one, or the commit fails.
        """
        writer = self._live_writer()
        self._writer = None
        try:
            if self._generations.building() != self.name:
                raise SearchError(f"the index build {self.name} was replaced by a newer rebuild")
            writer.commit()
        except ValueError as error:
            raise SearchError(f"cannot commit the index build {self.name}: {error}") from error
        finally:
            with contextlib.suppress(ValueError):  # a folder already removed has nothing to merge
                writer.wait_merging_threads()
        self._generations.publish(self.name)

    def discard(self) -> None:
        """Throw the build away; the live generation keeps serving."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.rollback()
            writer.wait_merging_threads()
        self._generations.drop(self.name)


class TantivyIndex:
    """A SearchIndex stored in a directory (created on first use)."""

    def __init__(
        self, path: Path, *, writer_heap_bytes: int = 128_000_000, lock_timeout: float = 10.0,
        build_heap_bytes: int = BUILD_HEAP_BYTES, build_threads: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.writer_heap_bytes = writer_heap_bytes
        self.lock_timeout = lock_timeout
        self.build_heap_bytes = build_heap_bytes
        self.build_threads = build_threads or default_build_threads()
        self._generations = Generations(self.path, marker="meta.json")
        self._schema = build_schema()
        self._opened: tuple[str, tantivy.Index] | None = None
        self._optional: frozenset[str] = frozenset(OPTIONAL_FIELDS)  # those the live generation has
        self._open_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    def state(self) -> IndexState:
        """The live generation and the one a rebuild is filling, as every process sees them."""
        return IndexState(live=self._generations.live(), building=self._generations.building())

    def _get_index(self) -> tantivy.Index:
        """The live generation, reopened when a rebuild has published a new one."""
        for _ in range(5):
            live = self._generations.live()
            with self._open_lock:
                if self._opened is not None and self._opened[0] == live:
                    return self._opened[1]
                folder = self._generations.folder(live)
                if not folder.is_dir():
                    continue  # published and removed since we read the pointer: read it again
                try:
                    index = tantivy.Index(self._schema, path=str(folder), reuse=True)
                    self._optional = frozenset(OPTIONAL_FIELDS)
                except ValueError as error:
                    if "schema does not match" not in str(error):
                        raise SearchError(f"cannot open the search index at {folder}: {error}") from error
                    # Made before a later field: it serves as it is (grants filtered by id, visibility by
                    # department and classification) until `archive reindex` builds a generation with them.
                    index = tantivy.Index.open(str(folder))
                    self._optional = frozenset(f for f in OPTIONAL_FIELDS if _has_field(index.schema, f))
                    log.warning("the search index at %s lacks the fields %s; run `archive reindex`", folder,
                                ", ".join(sorted(set(OPTIONAL_FIELDS) - self._optional)))
                self._opened = (live, index)
                return index
        raise SearchError(f"the search index at {self.path} keeps changing; try again")

    def _write(self, work: Callable[[tantivy.IndexWriter], object]) -> None:
        writer = _open_writer(self._get_index(), self.writer_heap_bytes, self.lock_timeout, self.path)
        try:
            work(writer)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            # Consumes the writer and frees the directory lock for other processes.
            writer.wait_merging_threads()

    def begin_rebuild(self) -> TantivyBuild:
        """Start a new generation beside the live one (an unfinished earlier build is dropped)."""
        return TantivyBuild(self._generations, self._schema, heap_bytes=self.build_heap_bytes,
                            threads=self.build_threads)

    # -- writing -------------------------------------------------------------------------------

    def index(self, documents: Iterable[IndexedDocument]) -> None:
        """Add or replace documents by document_id; visible to search once this returns."""
        self._get_index()  # knows which later fields the live generation has
        batch = _by_id(documents, self._optional)
        if not batch:
            return

        def work(writer: tantivy.IndexWriter) -> None:
            writer.delete_documents_by_query(_ids_query(self._schema, batch))
            for doc in batch.values():
                writer.add_document(doc)

        self._write(work)

    def delete(self, document_ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored."""
        ids = list(dict.fromkeys(document_ids))
        if ids:
            self._write(lambda writer: writer.delete_documents_by_query(_ids_query(self._schema, ids)))

    def clear(self) -> None:
        """Remove every document."""
        self._write(lambda writer: writer.delete_all_documents())

    # -- reading -------------------------------------------------------------------------------

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult:
        """Return the visible documents matching the query, with totals and facets over them.

        Raises QuerySyntaxError for a malformed query.
        """
        parsed = parse_query(query.text)
        index = self._get_index()  # first: the query depends on the fields the live generation has
        engine_query = self._build_query(query, parsed, visibility)
        index.reload()
        searcher = index.searcher()
        limit = max(query.limit, 1)  # tantivy needs a positive limit; hits are trimmed below
        sort_field, order = _sort(query.sort)
        # The facets are a second pass over the matches; it runs on another core while this thread
        # finds the page of hits and cuts their snippets (tantivy releases the GIL while it works).
        facets_job = _side_thread().submit(self._facets, searcher, engine_query)
        try:
            if sort_field is None:
                result = searcher.search(engine_query, limit=limit, count=True, offset=query.offset)
            else:
                result = searcher.search(
                    engine_query,
                    limit=limit,
                    count=True,
                    offset=query.offset,
                    order_by_field=sort_field,
                    order=order,
                )
        except ValueError as error:
            facets_job.exception()  # wait: a failed search leaves nothing running behind it
            raise SearchError(f"search failed: {error}") from error
        hits = []
        for key, address in result.hits[: max(query.limit, 0)]:
            stored = searcher.doc(address)
            score = float(key) if sort_field is None else 0.0
            text = stored.get_first("text") or ""
            hits.append(
                SearchHit(int(stored.get_first("document_id")), score, make_snippet(text, parsed.terms))
            )
        try:
            facets = facets_job.result()
        except ValueError as error:
            raise SearchError(f"search failed: {error}") from error
        return SearchResult(total=result.count, hits=hits, facets=facets)

    def _facets(self, searcher: tantivy.Searcher, engine_query: tantivy.Query) -> dict[str, dict[str, int]]:
        # One extra pass over the matching set, evaluated on fast fields inside the engine.
        spec = {name: {"terms": {"field": field, "size": FACET_SIZE}} for name, field in FACET_FIELDS.items()}
        raw = searcher.aggregate(engine_query, spec)
        return {
            name: {
                str(bucket["key"]): int(bucket["doc_count"])
                for bucket in raw.get(name, {}).get("buckets", [])
            }
            for name in FACET_FIELDS
        }

    def _build_query(self, query: SearchQuery, parsed: ParsedQuery, visibility: Visibility) -> tantivy.Query:
        schema = self._schema
        must: list[tantivy.Query] = []
        match = self._text_query(parsed)
        if query.pii_hashes:
            by_hash = _one_of(schema, "pii_hashes", list(query.pii_hashes))
            match = by_hash if match is None else _any([match, by_hash])
        must.append(match if match is not None else tantivy.Query.all_query())
        for key, values in merge_filters(parsed.filters, query.filters).items():
            must.append(_constant(self._filter_query(key, values)))
        if query.date_from is not None or query.date_to is not None:
            must.append(
                _constant(
                    tantivy.Query.range_query(
                        schema,
                        "date",
                        tantivy.FieldType.Integer,
                        query.date_from.toordinal() if query.date_from else -(2**62),
                        query.date_to.toordinal() if query.date_to else 2**62,
                    )
                )
            )
        must.append(_constant(self._visibility_query(visibility)))
        clauses = [(tantivy.Occur.Must, q) for q in must]
        if query.exclude_ids:
            clauses.append((tantivy.Occur.MustNot, _ids_query(schema, query.exclude_ids)))
        return tantivy.Query.boolean_query(clauses)

    def _text_query(self, parsed: ParsedQuery) -> tantivy.Query | None:
        if not parsed.groups:
            return None
        groups = [_any([self._term_query(term) for term in group]) for group in parsed.groups]
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, group) for group in groups])

    def _term_query(self, term: Term) -> tantivy.Query:
        schema = self._schema
        options: list[tantivy.Query] = []
        for field, boost in (("body", 1.0), ("title", TITLE_BOOST)):
            if term.single_cjk_char:
                char = _regex_escape(term.tokens[0])
                text_query = tantivy.Query.regex_query(schema, field, f"{char}.?|.{char}")
            elif len(term.tokens) == 1:
                text_query = tantivy.Query.term_query(schema, field, term.tokens[0])
            else:
                text_query = tantivy.Query.phrase_query(schema, field, list(term.tokens))
            options.append(tantivy.Query.boost_query(text_query, boost) if boost != 1.0 else text_query)
        if not term.quoted:
            for field in ("archive_code", "keywords"):
                options.append(
                    tantivy.Query.boost_query(tantivy.Query.term_query(schema, field, term.raw), 4.0)
                )
        return _any(options)

    def _filter_query(self, key: str, values: tuple[str, ...]) -> tantivy.Query:
        schema = self._schema
        if not values:
            return tantivy.Query.empty_query()
        if key == "year":
            return _one_of(schema, "year", [int(v) for v in values])
        if key == "customer":
            ids = [int(v) for v in values if v.isdigit()]
            names = [v for v in values if not v.isdigit()]
            options = []
            if ids:
                options.append(_one_of(schema, "customer_id", ids))
            if names:
                options.append(_one_of(schema, "customer_name", names))
            return _any(options)
        return _one_of(schema, FILTER_TO_FIELD[key], list(values))

    def _ordinary_query(self, visibility: Visibility) -> tantivy.Query:
        """Documents of a visible department and classification.

        With the access field this is one union of (department, classification) terms: an
        intersection of two unions walks every posting of both (the department's and the
        classification's documents), which made the filter most of a common word's search time.
        """
        schema = self._schema
        classifications = sorted({normalise_keyword(c) for c in visibility.classifications} - {""})
        if visibility.departments is None:
            return _one_of(schema, "classification", classifications)
        departments = sorted({normalise_keyword(d) for d in visibility.departments} - {""})
        if ACCESS in self._optional:
            keys = [access_key(d, c) for d in departments for c in classifications]
            return _one_of(schema, ACCESS, keys)
        return tantivy.Query.boolean_query([
            (tantivy.Occur.Must, _one_of(schema, "classification", classifications)),
            (tantivy.Occur.Must, _one_of(schema, "department", departments)),
        ])

    def _visibility_query(self, visibility: Visibility) -> tantivy.Query:
        schema = self._schema
        ordinary = self._ordinary_query(visibility)
        if not visibility.granted_document_ids:
            return ordinary
        if visibility.lent_to is None or LENT_TO not in self._optional:
            return _any([ordinary, _ids_query(schema, visibility.granted_document_ids)])
        # One term for everything lent to the user, corrected by what the index has not caught up with.
        lent = tantivy.Query.term_query(schema, LENT_TO, visibility.lent_to)
        if visibility.withheld_document_ids:
            lent = tantivy.Query.boolean_query([(tantivy.Occur.Must, lent), (
                tantivy.Occur.MustNot, _ids_query(schema, visibility.withheld_document_ids))])
        parts = [ordinary, lent]
        if visibility.lent_pending:
            parts.append(_ids_query(schema, visibility.lent_pending))
        return _any(parts)


_side: tuple[int, ThreadPoolExecutor] | None = None
_side_lock = threading.Lock()


def _side_thread() -> ThreadPoolExecutor:
    """Return this process's pool for a search's second pass (made anew in a forked child)."""
    global _side
    with _side_lock:
        if _side is None or _side[0] != os.getpid():
            _side = (os.getpid(), ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix="facets"))
        return _side[1]


def _any(queries: list[tantivy.Query]) -> tantivy.Query:
    if len(queries) == 1:
        return queries[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in queries])


def _constant(query: tantivy.Query) -> tantivy.Query:
    """Wrap a filter so it narrows the set without changing relevance scores."""
    return tantivy.Query.const_score_query(query, 0.0)


def _regex_escape(char: str) -> str:
    return "\\" + char if char in r".^$*+?()[]{}|\\" else char


def _sort(sort: str) -> tuple[str | None, tantivy.Order]:
    if sort == "relevance":
        return None, tantivy.Order.Desc
    if sort == "newest":
        return "date", tantivy.Order.Desc
    if sort == "oldest":
        return "date", tantivy.Order.Asc
    raise SearchError(f"unknown sort {sort!r}; use relevance, newest or oldest")
