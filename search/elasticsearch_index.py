"""Search index on an Elasticsearch cluster, for deployments that outgrow the embedded Tantivy index.

Text is analysed in Python with search.analysis and sent as a whitespace-joined token stream, which
the index splits with a plain whitespace analyzer: both backends match exactly the same way. The
index is reached through an alias so `rebuild` can fill a fresh index and swap atomically.

Snippets are cut in Python from the stored original text by analysis.make_snippet rather than by
Elasticsearch highlighting: the indexed field holds bigrams ("电费 费通 通知"), so the engine's
fragments would show tokens instead of the text the user reads.

The client's major version must match the cluster's (elasticsearch-py 9 talks to Elasticsearch 9).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

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

ANALYZER = "archive_tokens"
FACETS: Mapping[str, str] = {"document_type": "document_type", "department": "department", "year": "year"}
FILTER_TO_FIELD: Mapping[str, str] = {
    "type": "document_type",
    "department": "department",
    "classification": "classification",
    "dossier": "dossier",
    "status": "status",
    "year": "year",
}
KEYWORD_FIELDS = ("document_type", "department", "classification", "dossier", "status", "customer_name")
FACET_SIZE = 1000
TITLE_BOOST = 2.0
IDENTIFIER_BOOST = 4.0


def mapping() -> dict[str, Any]:
    """Return the body that creates a concrete index: settings and mappings."""
    token_field = {"type": "text", "analyzer": ANALYZER, "search_analyzer": ANALYZER}
    keyword = {"type": "keyword"}
    return {
        "settings": {
            "analysis": {"analyzer": {ANALYZER: {"type": "custom", "tokenizer": "whitespace", "filter": []}}},
        },
        "mappings": {
            "dynamic": "strict",
            "_source": {"excludes": ["title_tokens", "body_tokens"]},
            "properties": {
                "document_id": {"type": "long"},
                "title_tokens": dict(token_field),
                "body_tokens": dict(token_field),
                "body": {"type": "text", "index": False},
                "archive_code": dict(keyword),
                "keywords": dict(keyword),
                "pii_hashes": {"type": "keyword", "doc_values": False},
                **{name: dict(keyword) for name in KEYWORD_FIELDS},
                "customer_id": {"type": "long"},
                "year": {"type": "integer"},
                "document_date": {"type": "date", "format": "strict_date"},
            },
        },
    }


def to_source(document: IndexedDocument) -> dict[str, Any]:
    """Return the indexed source of a document."""
    title = " ".join(part for part in (document.title, document.customer_name) if part)
    source: dict[str, Any] = {
        "document_id": document.document_id,
        "title_tokens": token_stream(title),
        "body_tokens": token_stream(document.text),
        "body": document.text,
        "archive_code": normalise_identifier(document.archive_code) or None,
        "keywords": sorted(
            {normalise_identifier(k) for k in (*document.keywords, document.archive_code) if k}
        ),
        "pii_hashes": list(document.pii_hashes),
        "customer_id": document.customer_id,
    }
    for name in KEYWORD_FIELDS:
        source[name] = normalise_keyword(getattr(document, name)) or None
    if document.document_date is not None:
        source["year"] = document.document_date.year
        source["document_date"] = document.document_date.isoformat()
    return source


def _term_clause(term: Term) -> dict[str, Any]:
    fields = ["body_tokens", f"title_tokens^{TITLE_BOOST:g}"]
    options: list[dict[str, Any]] = []
    if term.single_cjk_char:
        char = term.tokens[0]
        for field in fields:
            name, _, boost = field.partition("^")
            options.append({"regexp": {name: {"value": f"{char}.?|.{char}", "boost": float(boost or 1)}}})
    else:
        options.append({"multi_match": {"query": " ".join(term.tokens), "type": "phrase", "fields": fields}})
    if not term.quoted:
        for field in ("archive_code", "keywords"):
            options.append({"term": {field: {"value": term.raw, "boost": IDENTIFIER_BOOST}}})
    return {"bool": {"should": options, "minimum_should_match": 1}}


def _text_clause(parsed: ParsedQuery) -> dict[str, Any] | None:
    if not parsed.groups:
        return None
    groups = [
        {"bool": {"should": [_term_clause(term) for term in group], "minimum_should_match": 1}}
        for group in parsed.groups
    ]
    return {"bool": {"must": groups}}


def _filter_clause(key: str, values: tuple[str, ...]) -> dict[str, Any]:
    if not values:
        return {"match_none": {}}
    if key == "year":
        return {"terms": {"year": [int(v) for v in values]}}
    if key == "customer":
        options: list[dict[str, Any]] = []
        ids = [int(v) for v in values if v.isdigit()]
        names = [v for v in values if not v.isdigit()]
        if ids:
            options.append({"terms": {"customer_id": ids}})
        if names:
            options.append({"terms": {"customer_name": names}})
        return {"bool": {"should": options, "minimum_should_match": 1}}
    return {"terms": {FILTER_TO_FIELD[key]: list(values)}}


def visibility_clause(visibility: Visibility) -> dict[str, Any]:
    """Return the filter admitting only what the visibility allows."""
    allowed: list[dict[str, Any]] = [
        {"terms": {"classification": sorted(normalise_keyword(c) for c in visibility.classifications)}}
    ]
    if visibility.departments is not None:
        allowed.append(
            {"terms": {"department": sorted(normalise_keyword(d) for d in visibility.departments)}}
        )
    ordinary = {"bool": {"filter": allowed}}
    if not visibility.granted_document_ids:
        return ordinary
    granted = {"terms": {"document_id": sorted(visibility.granted_document_ids)}}
    return {"bool": {"should": [ordinary, granted], "minimum_should_match": 1}}


def build_query(
    query: SearchQuery, visibility: Visibility, parsed: ParsedQuery | None = None
) -> dict[str, Any]:
    """Return the search request body for a query as seen by one user.

    Raises QuerySyntaxError for a malformed query and SearchError for an unknown sort.
    """
    parsed = parse_query(query.text) if parsed is None else parsed
    match = _text_clause(parsed)
    if query.pii_hashes:
        by_hash = {"terms": {"pii_hashes": list(query.pii_hashes)}}
        match = (
            by_hash if match is None else {"bool": {"should": [match, by_hash], "minimum_should_match": 1}}
        )
    filters = [
        _filter_clause(key, values) for key, values in merge_filters(parsed.filters, query.filters).items()
    ]
    if query.date_from is not None or query.date_to is not None:
        bounds = {}
        if query.date_from is not None:
            bounds["gte"] = query.date_from.isoformat()
        if query.date_to is not None:
            bounds["lte"] = query.date_to.isoformat()
        filters.append({"range": {"document_date": bounds}})
    filters.append(visibility_clause(visibility))
    body: dict[str, Any] = {
        "query": {"bool": {"must": [match if match is not None else {"match_all": {}}], "filter": filters}},
        "from": max(query.offset, 0),
        "size": max(query.limit, 0),
        "track_total_hits": True,
        "_source": ["document_id", "body"],
        "aggs": {name: {"terms": {"field": field, "size": FACET_SIZE}} for name, field in FACETS.items()},
    }
    if query.sort == "newest":
        body["sort"] = [{"document_date": {"order": "desc", "missing": "_last"}}, "_score"]
    elif query.sort == "oldest":
        body["sort"] = [{"document_date": {"order": "asc", "missing": "_last"}}, "_score"]
    elif query.sort != "relevance":
        raise SearchError(f"unknown sort {query.sort!r}; use relevance, newest or oldest")
    return body


def parse_response(response: Mapping[str, Any], parsed: ParsedQuery) -> SearchResult:
    """Turn a search response into a SearchResult, cutting snippets from the stored text."""
    hits = [
        SearchHit(
            document_id=int(hit["_source"]["document_id"]),
            score=float(hit.get("_score") or 0.0),
            snippet=make_snippet(hit["_source"].get("body", ""), parsed.terms),
        )
        for hit in response["hits"]["hits"]
    ]
    facets = {
        name: {
            str(b["key"]): int(b["doc_count"])
            for b in response.get("aggregations", {}).get(name, {}).get("buckets", [])
        }
        for name in FACETS
    }
    return SearchResult(total=int(response["hits"]["total"]["value"]), hits=hits, facets=facets)


class ElasticsearchIndex:
    """A SearchIndex on an Elasticsearch cluster, reached through the alias `index_name`."""

    def __init__(self, url: str, index_name: str = "archive-documents", **client_options: Any) -> None:
        self.alias = index_name
        self.client = Elasticsearch(url, **client_options)  # connects on the first request

    def _new_concrete_index(self) -> str:
        name = f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.monotonic_ns() % 1_000_000:06d}"
        self.client.indices.create(index=name, **mapping())
        return name

    def ensure_index(self) -> None:
        """Create the first concrete index behind the alias if there is none."""
        if self.client.indices.exists_alias(name=self.alias):
            return
        name = self._new_concrete_index()
        self.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias}}])

    def _bulk(self, actions: Iterable[dict[str, Any]], *, refresh: bool | str = "wait_for") -> None:
        _, errors = helpers.bulk(self.client, actions, raise_on_error=False, refresh=refresh)
        real = (
            [e for e in errors if next(iter(e.values())).get("status") != 404]
            if isinstance(errors, list)
            else []
        )
        if real:
            raise SearchError(f"{len(real)} bulk actions failed, first: {real[0]}")

    @staticmethod
    def _index_actions(documents: Iterable[IndexedDocument], index: str) -> Iterator[dict[str, Any]]:
        for document in documents:
            yield {
                "_op_type": "index",
                "_index": index,
                "_id": str(document.document_id),
                "_source": to_source(document),
            }

    def index(self, documents: Iterable[IndexedDocument]) -> None:
        """Add or replace documents by document_id; visible to search once this returns."""
        self.ensure_index()
        self._bulk(self._index_actions(documents, self.alias))

    def delete(self, document_ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored."""
        self.ensure_index()
        self._bulk({"_op_type": "delete", "_index": self.alias, "_id": str(i)} for i in document_ids)

    def clear(self) -> None:
        """Remove every document."""
        self.ensure_index()
        self.client.delete_by_query(
            index=self.alias, query={"match_all": {}}, refresh=True, conflicts="proceed"
        )

    def rebuild(self, documents: Iterable[IndexedDocument]) -> None:
        """Fill a fresh index (current mapping) and swap the alias to it atomically, then drop the old."""
        new = self._new_concrete_index()
        self._bulk(self._index_actions(documents, new), refresh=True)
        old = (
            list(self.client.indices.get_alias(name=self.alias))
            if self.client.indices.exists_alias(name=self.alias)
            else []
        )
        actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": new, "alias": self.alias}})
        self.client.indices.update_aliases(actions=actions)
        for name in old:
            self.client.indices.delete(index=name)

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResult:
        """Return the visible documents matching the query, with totals and facets over them.

        Raises QuerySyntaxError for a malformed query.
        """
        parsed = parse_query(query.text)
        body = build_query(query, visibility, parsed)
        try:
            response = self.client.search(index=self.alias, body=body)
        except NotFoundError:
            return SearchResult(total=0, hits=[], facets={name: {} for name in FACETS})
        except (ApiError, TransportError) as error:
            raise SearchError(f"search failed: {error}") from error
        return parse_response(response.body, parsed)
