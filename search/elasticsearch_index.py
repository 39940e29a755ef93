"""Search index on an Elasticsearch cluster, for deployments that outgrow the embedded Tantivy index.

Text is analysed in Python with search.analysis and sent as a whitespace-joined token stream, which
the index splits with a plain whitespace analyzer: both backends match exactly the same way. The
index is reached through an alias: a rebuild fills a fresh concrete index (marked by the alias
`<alias>-building`, refresh off while loading) and swaps both aliases in one `update_aliases` call.

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
from search.base import (
    IndexedDocument,
    IndexState,
    SearchError,
    SearchHit,
    SearchQuery,
    SearchResult,
    Visibility,
)

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


def mapping(*, loading: bool = False) -> dict[str, Any]:
    """Return the body that creates a concrete index: settings and mappings.

    An index a rebuild is loading has refreshes off; publishing turns them back on.
    """
    token_field = {"type": "text", "analyzer": ANALYZER, "search_analyzer": ANALYZER}
    keyword = {"type": "keyword"}
    settings: dict[str, Any] = {
        "analysis": {"analyzer": {ANALYZER: {"type": "custom", "tokenizer": "whitespace", "filter": []}}},
    }
    if loading:
        settings["index"] = {"refresh_interval": "-1"}
    return {
        "settings": settings,
        "mappings": {
            "dynamic": "strict",
            "_source": {"excludes": ["title_tokens", "body_tokens"]},
            "properties": {
                "document_id": {"type": "long"},
                "lent_to": {"type": "long"},
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
    if document.lent_to:
        source["lent_to"] = list(document.lent_to)
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
    if visibility.lent_to is None:
        granted: list[dict[str, Any]] = [{"terms": {"document_id": sorted(visibility.granted_document_ids)}}]
    else:  # one term for everything lent to the user, corrected by what the index has not caught up with
        lent: dict[str, Any] = {"bool": {"filter": [{"term": {"lent_to": visibility.lent_to}}]}}
        if visibility.withheld_document_ids:
            lent["bool"]["must_not"] = [{"terms": {"document_id": sorted(visibility.withheld_document_ids)}}]
        granted = [lent]
        if visibility.lent_pending:
            granted.append({"terms": {"document_id": sorted(visibility.lent_pending)}})
    return {"bool": {"should": [ordinary, *granted], "minimum_should_match": 1}}


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
    boolean: dict[str, Any] = {"must": [match if match is not None else {"match_all": {}}], "filter": filters}
    if query.exclude_ids:
        boolean["must_not"] = [{"terms": {"document_id": sorted(query.exclude_ids)}}]
    body: dict[str, Any] = {
        "query": {"bool": boolean},
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


def swap_actions(alias: str, building: str, *, old: list[str], new: str) -> list[dict[str, Any]]:
    """The one update_aliases request that publishes a build: readers see the old or the new, never none."""
    actions: list[dict[str, Any]] = [{"remove": {"index": name, "alias": alias}} for name in old]
    actions.append({"add": {"index": new, "alias": alias}})
    actions.append({"remove": {"index": new, "alias": building}})
    return actions


def _bulk(client: Elasticsearch, actions: Iterable[dict[str, Any]], *, refresh: bool | str) -> None:
    """Send bulk actions; a delete of a missing document is not an error."""
    _, errors = helpers.bulk(client, actions, raise_on_error=False, refresh=refresh)
    real = (
        [e for e in errors if next(iter(e.values())).get("status") != 404]
        if isinstance(errors, list)
        else []
    )
    if real:
        raise SearchError(f"{len(real)} bulk actions failed, first: {real[0]}")


def _index_actions(documents: Iterable[IndexedDocument], index: str) -> Iterator[dict[str, Any]]:
    for document in documents:
        yield {"_op_type": "index", "_index": index, "_id": str(document.document_id),
               "_source": to_source(document)}


def _delete_actions(document_ids: Iterable[int], index: str) -> Iterator[dict[str, Any]]:
    for document_id in dict.fromkeys(document_ids):
        yield {"_op_type": "delete", "_index": index, "_id": str(document_id)}


class ElasticsearchBuild:
    """A fresh concrete index filled beside the live one (see search.base.IndexBuild)."""

    def __init__(self, owner: ElasticsearchIndex, name: str) -> None:
        self._owner = owner
        self.name = name
        self._finished = False

    def _check(self) -> None:
        if self._finished:
            raise SearchError(f"the index build {self.name} is finished")

    def add(self, documents: Iterable[IndexedDocument]) -> None:
        self._check()
        _bulk(self._owner.client, _index_actions(documents, self.name), refresh=False)

    def index(self, documents: Iterable[IndexedDocument]) -> None:
        self.add(documents)  # indexing by _id replaces

    def delete(self, document_ids: Iterable[int]) -> None:
        self._check()
        _bulk(self._owner.client, _delete_actions(document_ids, self.name), refresh=False)

    def publish(self) -> None:
        """Refresh, then move the alias to this index and drop the building mark in one call."""
        self._check()
        client, alias, building = self._owner.client, self._owner.alias, self._owner.building_alias
        if self._owner._targets(building) != [self.name]:
            raise SearchError(f"the index build {self.name} was replaced by a newer rebuild")
        client.indices.put_settings(index=self.name, settings={"index": {"refresh_interval": None}})
        client.indices.refresh(index=self.name)
        old = self._owner._targets(alias)
        client.indices.update_aliases(actions=swap_actions(alias, building, old=old, new=self.name))
        self._finished = True
        for name in old:
            client.indices.delete(index=name, ignore_unavailable=True)

    def discard(self) -> None:
        """Delete the new index (and its building alias); the live index keeps serving."""
        self._finished = True
        self._owner.client.indices.delete(index=self.name, ignore_unavailable=True)


class ElasticsearchIndex:
    """A SearchIndex on an Elasticsearch cluster, reached through the alias `index_name`."""

    def __init__(self, url: str, index_name: str = "archive-documents", **client_options: Any) -> None:
        self.alias = index_name
        self.building_alias = f"{index_name}-building"
        self.client = Elasticsearch(url, **client_options)  # connects on the first request
        self._mapped = False

    def _new_concrete_index(self, *, loading: bool = False) -> str:
        name = f"{self.alias}-{time.strftime('%Y%m%d%H%M%S')}-{time.monotonic_ns() % 1_000_000:06d}"
        self.client.indices.create(index=name, **mapping(loading=loading))
        return name

    def _targets(self, alias: str) -> list[str]:
        """The concrete indices behind an alias (none if it does not exist)."""
        try:
            return sorted(self.client.indices.get_alias(name=alias).body)
        except NotFoundError:
            return []

    def ensure_index(self) -> None:
        """Create the first concrete index behind the alias if there is none."""
        if self.client.indices.exists_alias(name=self.alias):
            if not self._mapped:  # an index made before the borrowers field gains it, once per process
                self.client.indices.put_mapping(index=self.alias, properties={"lent_to": {"type": "long"}})
                self._mapped = True
            return
        name = self._new_concrete_index()
        self.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.alias}}])

    def state(self) -> IndexState:
        """The indices behind the alias and behind the building alias, as every client sees them."""
        building = self._targets(self.building_alias)
        return IndexState(live=",".join(self._targets(self.alias)), building=",".join(building) or None)

    def begin_rebuild(self) -> ElasticsearchBuild:
        """Create a fresh index marked by the building alias (dropping an unfinished earlier one)."""
        self.ensure_index()
        for stale in self._targets(self.building_alias):
            self.client.indices.delete(index=stale, ignore_unavailable=True)
        name = self._new_concrete_index(loading=True)
        self.client.indices.update_aliases(actions=[{"add": {"index": name, "alias": self.building_alias}}])
        return ElasticsearchBuild(self, name)

    def index(self, documents: Iterable[IndexedDocument]) -> None:
        """Add or replace documents by document_id; visible to search once this returns."""
        self.ensure_index()
        _bulk(self.client, _index_actions(documents, self.alias), refresh="wait_for")

    def delete(self, document_ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored."""
        self.ensure_index()
        _bulk(self.client, _delete_actions(document_ids, self.alias), refresh="wait_for")

    def clear(self) -> None:
        """Remove every document."""
        self.ensure_index()
        self.client.delete_by_query(
            index=self.alias, query={"match_all": {}}, refresh=True, conflicts="proceed"
        )

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
