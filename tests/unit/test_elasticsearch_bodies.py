from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from search.analysis import parse_query
from search.base import IndexedDocument, SearchError, SearchQuery, Visibility
from search.elasticsearch_index import ANALYZER, build_query, mapping, parse_response, swap_actions, to_source

EVERYONE = Visibility(departments=None, classifications=frozenset({"公开", "内部"}))


def walk(node: Any) -> list[dict[str, Any]]:
    """Return every dict inside a JSON-like tree."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(walk(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(walk(value))
    return found


def test_the_mapping_indexes_text_with_a_plain_whitespace_analyzer() -> None:
    body = mapping()
    assert body["settings"]["analysis"]["analyzer"][ANALYZER] == {
        "type": "custom",
        "tokenizer": "whitespace",
        "filter": [],
    }
    properties = body["mappings"]["properties"]
    assert properties["body_tokens"]["analyzer"] == ANALYZER
    assert properties["body"]["index"] is False
    for name in ("archive_code", "keywords", "pii_hashes", "document_type", "department", "classification"):
        assert properties[name]["type"] == "keyword"
    assert body["mappings"]["dynamic"] == "strict"


def test_the_source_carries_the_same_tokens_as_the_analysis() -> None:
    source = to_source(
        IndexedDocument(
            document_id=5,
            title="合同",
            text="电费通知 HT-2024-0001",
            archive_code="Z109-HT·2024-Y-YX-0001",
            department=" 营销部 ",
            document_date=date(2024, 3, 1),
        )
    )
    assert source["body_tokens"] == "电费 费通 通知 ht 2024 0001"
    assert source["archive_code"] == "z109-ht·2024-y-yx-0001"
    assert source["department"] == "营销部"
    assert source["year"] == 2024
    assert set(source) <= set(mapping()["mappings"]["properties"])
    json.dumps(source)


def test_the_visibility_filter_sits_in_the_filter_clause() -> None:
    visibility = Visibility(frozenset({"营销部"}), frozenset({"内部", "公开"}), frozenset({9}))
    body = build_query(SearchQuery(text="合同"), visibility)
    [visible] = [f for f in body["query"]["bool"]["filter"] if "should" in f.get("bool", {})]
    ordinary, granted = visible["bool"]["should"]
    assert ordinary == {
        "bool": {
            "filter": [{"terms": {"classification": ["公开", "内部"]}}, {"terms": {"department": ["营销部"]}}]
        }
    }
    assert granted == {"terms": {"document_id": [9]}}
    assert visible["bool"]["minimum_should_match"] == 1


def test_all_departments_leave_out_the_department_filter() -> None:
    body = build_query(SearchQuery(), EVERYONE)
    terms = [d["terms"] for d in walk(body["query"]) if "terms" in d]
    assert not any("department" in t for t in terms)
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]


def test_a_chinese_word_becomes_a_phrase_over_its_bigrams_and_an_identifier_lookup() -> None:
    body = build_query(SearchQuery(text="电费通知"), EVERYONE)
    phrases = [d["multi_match"] for d in walk(body) if "multi_match" in d]
    assert phrases == [
        {"query": "电费 费通 通知", "type": "phrase", "fields": ["body_tokens", "title_tokens^2"]}
    ]
    identifiers = [d["term"] for d in walk(body) if "term" in d]
    assert {"keywords": {"value": "电费通知", "boost": 4.0}} in identifiers


def test_a_quoted_phrase_does_not_look_up_identifiers() -> None:
    body = build_query(SearchQuery(text='"invoice 2023"'), EVERYONE)
    assert not [d for d in walk(body) if "term" in d]


def test_or_groups_become_should_clauses() -> None:
    body = build_query(SearchQuery(text="电费 OR 水费"), EVERYONE)
    [group] = body["query"]["bool"]["must"][0]["bool"]["must"]
    assert len(group["bool"]["should"]) == 2
    assert group["bool"]["minimum_should_match"] == 1


def test_a_pii_hash_is_ored_with_the_text() -> None:
    body = build_query(SearchQuery(text="合同", pii_hashes=("h1",)), EVERYONE)
    [match] = body["query"]["bool"]["must"]
    assert match["bool"]["should"][1] == {"terms": {"pii_hashes": ["h1"]}}
    only_hash = build_query(SearchQuery(pii_hashes=("h1",)), EVERYONE)
    assert only_hash["query"]["bool"]["must"] == [{"terms": {"pii_hashes": ["h1"]}}]


def test_filters_become_exact_terms() -> None:
    body = build_query(
        SearchQuery(text="type:合同 year:2024 customer:42", filters={"department": "营销部"}), EVERYONE
    )
    filters = body["query"]["bool"]["filter"]
    assert {"terms": {"document_type": ["合同"]}} in filters
    assert {"terms": {"year": [2024]}} in filters
    assert {"terms": {"department": ["营销部"]}} in filters
    assert {"bool": {"should": [{"terms": {"customer_id": [42]}}], "minimum_should_match": 1}} in filters


def test_the_body_asks_for_facets_exact_totals_and_a_page() -> None:
    body = build_query(SearchQuery(limit=10, offset=20), EVERYONE)
    assert set(body["aggs"]) == {"document_type", "department", "year"}
    assert body["track_total_hits"] is True
    assert (body["from"], body["size"]) == (20, 10)


def test_sorting_by_date_and_an_unknown_sort() -> None:
    assert build_query(SearchQuery(sort="newest"), EVERYONE)["sort"][0] == {
        "document_date": {"order": "desc", "missing": "_last"}
    }
    with pytest.raises(SearchError):
        build_query(SearchQuery(sort="size"), EVERYONE)


def test_a_date_range_becomes_a_range_filter() -> None:
    body = build_query(SearchQuery(date_from=date(2024, 1, 1)), EVERYONE)
    assert {"range": {"document_date": {"gte": "2024-01-01"}}} in body["query"]["bool"]["filter"]


def test_a_response_becomes_a_result_with_marked_snippets_and_facets() -> None:
    response = {
        "hits": {
            "total": {"value": 1, "relation": "eq"},
            "hits": [{"_score": 1.5, "_source": {"document_id": 3, "body": "申请电费发票"}}],
        },
        "aggregations": {"year": {"buckets": [{"key": 2024, "doc_count": 1}]}},
    }
    result = parse_response(response, parse_query("电费"))
    assert result.total == 1
    assert result.hits[0].document_id == 3
    assert result.hits[0].snippet == "申请<mark>电费</mark>发票"
    assert result.facets == {"document_type": {}, "department": {}, "year": {"2024": 1}}


def test_excluded_documents_become_a_must_not_clause() -> None:
    body = build_query(SearchQuery(text="合同", exclude_ids=frozenset({7, 3})), EVERYONE)
    assert body["query"]["bool"]["must_not"] == [{"terms": {"document_id": [3, 7]}}]
    assert "must_not" not in build_query(SearchQuery(text="合同"), EVERYONE)["query"]["bool"]


def test_an_index_being_loaded_by_a_rebuild_does_not_refresh() -> None:
    assert mapping(loading=True)["settings"]["index"] == {"refresh_interval": "-1"}
    assert "index" not in mapping()["settings"]
    assert mapping(loading=True)["mappings"] == mapping()["mappings"]


def test_publishing_moves_the_alias_and_drops_the_building_mark_in_one_request() -> None:
    actions = swap_actions("docs", "docs-building", old=["docs-1", "docs-2"], new="docs-3")
    assert actions == [
        {"remove": {"index": "docs-1", "alias": "docs"}},
        {"remove": {"index": "docs-2", "alias": "docs"}},
        {"add": {"index": "docs-3", "alias": "docs"}},
        {"remove": {"index": "docs-3", "alias": "docs-building"}},
    ]
