"""Embedded search index on Tantivy.

Text is analysed with search.analysis (CJK bigrams, lowercased words) and handed to tantivy as a
space-joined token stream split by its whitespace tokenizer, with positions, so phrases and Chinese
words match exactly as the analysis says; the original text is stored alongside for snippets. Visibility, filters and facets are
all evaluated inside the engine, so totals and facet counts never include documents the user cannot
see. Tantivy allows one writer per directory across processes: each index()/delete()/clear() call
takes the writer, commits and releases it, retrying while another holder has the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
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
    token_stream,
)
from search.base import IndexedDocument, SearchError, SearchHit, SearchQuery, SearchResult, Visibility

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


def build_schema() -> tantivy.Schema:
    """Return the index schema (text fields are pre-tokenised, keyword fields raw)."""
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
    return builder.build()


def _stored_only(text: str) -> tantivy.PreTokenizedString:
    """Wrap text with no tokens: it is stored for snippets but adds nothing to the index."""
    return tantivy.PreTokenizedString(text, [])


class TantivyIndex:
    """A SearchIndex stored in a directory (created on first use)."""

    def __init__(
        self, path: Path, *, writer_heap_bytes: int = 128_000_000, lock_timeout: float = 10.0
    ) -> None:
        self.path = Path(path)
        self.writer_heap_bytes = writer_heap_bytes
        self.lock_timeout = lock_timeout
        self._schema = build_schema()
        self._index: tantivy.Index | None = None
        self._open_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    def _get_index(self) -> tantivy.Index:
        with self._open_lock:
            if self._index is None:
                self.path.mkdir(parents=True, exist_ok=True)
                try:
                    self._index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
                except ValueError as error:
                    raise SearchError(f"cannot open the search index at {self.path}: {error}") from error
            return self._index

    def _writer(self) -> tantivy.IndexWriter:
        index = self._get_index()
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.02
        while True:
            try:
                return index.writer(heap_size=self.writer_heap_bytes)
            except ValueError as error:
                if "LockBusy" not in str(error) or time.monotonic() >= deadline:
                    raise SearchError(f"cannot get the index writer for {self.path}: {error}") from error
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _write(self, work: Callable[[tantivy.IndexWriter], object]) -> None:
        writer = self._writer()
        try:
            work(writer)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            # Consumes the writer and frees the directory lock for other processes.
            writer.wait_merging_threads()

    # -- writing -------------------------------------------------------------------------------

    def index(self, documents: Iterable[IndexedDocument]) -> None:
        """Add or replace documents by document_id; visible to search once this returns."""
        batch = dict(self._to_tantivy(document) for document in documents)  # the last of a repeated id wins
        if not batch:
            return

        def work(writer: tantivy.IndexWriter) -> None:
            # delete_documents_by_term does not match unsigned fields in tantivy-py 0.27; a query does.
            writer.delete_documents_by_query(self._ids_query(batch))
            for doc in batch.values():
                writer.add_document(doc)

        self._write(work)

    def delete(self, document_ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored."""
        ids = list(dict.fromkeys(document_ids))
        if not ids:
            return

        def work(writer: tantivy.IndexWriter) -> None:
            writer.delete_documents_by_query(self._ids_query(ids))

        self._write(work)

    def clear(self) -> None:
        """Remove every document."""
        self._write(lambda writer: writer.delete_all_documents())

    def _ids_query(self, document_ids: Iterable[int]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self._schema, "document_id", sorted(document_ids))

    @staticmethod
    def _to_tantivy(document: IndexedDocument) -> tuple[int, tantivy.Document]:
        doc = tantivy.Document()
        doc.add_unsigned("document_id", document.document_id)
        title = " ".join(part for part in (document.title, document.customer_name) if part)
        if title:
            doc.add_text("title", token_stream(title))
        doc.add_text("body", token_stream(document.text))
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
        return document.document_id, doc

    # -- reading -------------------------------------------------------------------------------

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult:
        """Return the visible documents matching the query, with totals and facets over them.

        Raises QuerySyntaxError for a malformed query.
        """
        parsed = parse_query(query.text)
        engine_query = self._build_query(query, parsed, visibility)
        index = self._get_index()
        index.reload()
        searcher = index.searcher()
        limit = max(query.limit, 1)  # tantivy needs a positive limit; hits are trimmed below
        sort_field, order = _sort(query.sort)
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
            facets = self._facets(searcher, engine_query)
        except ValueError as error:
            raise SearchError(f"search failed: {error}") from error
        hits = []
        for key, address in result.hits[: max(query.limit, 0)]:
            stored = searcher.doc(address)
            score = float(key) if sort_field is None else 0.0
            text = stored.get_first("text") or ""
            hits.append(
                SearchHit(int(stored.get_first("document_id")), score, make_snippet(text, parsed.terms))
            )
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
            by_hash = tantivy.Query.term_set_query(schema, "pii_hashes", list(query.pii_hashes))
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
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in must])

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
            return tantivy.Query.term_set_query(schema, "year", [int(v) for v in values])
        if key == "customer":
            ids = [int(v) for v in values if v.isdigit()]
            names = [v for v in values if not v.isdigit()]
            options = []
            if ids:
                options.append(tantivy.Query.term_set_query(schema, "customer_id", ids))
            if names:
                options.append(tantivy.Query.term_set_query(schema, "customer_name", names))
            return _any(options)
        return tantivy.Query.term_set_query(schema, FILTER_TO_FIELD[key], list(values))

    def _visibility_query(self, visibility: Visibility) -> tantivy.Query:
        schema = self._schema
        classifications = sorted(normalise_keyword(c) for c in visibility.classifications)
        allowed = [tantivy.Query.term_set_query(schema, "classification", classifications)]
        if visibility.departments is not None:
            departments = sorted(normalise_keyword(d) for d in visibility.departments)
            allowed.append(tantivy.Query.term_set_query(schema, "department", departments))
        ordinary = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in allowed])
        if not visibility.granted_document_ids:
            return ordinary
        granted = self._ids_query(visibility.granted_document_ids)
        return _any([ordinary, granted])


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
