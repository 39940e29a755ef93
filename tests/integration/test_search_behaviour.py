"""Search behaviour every backend shares: Tantivy always, Elasticsearch when a cluster is named.

Set ARCHIVE_TEST_ELASTICSEARCH_URL (e.g. http://localhost:9200, `docker compose up elasticsearch`)
to run the same tests against Elasticsearch; each test uses its own alias and removes its indices.
"""

from __future__ import annotations

import html
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from search.base import IndexedDocument, QuerySyntaxError, SearchError, SearchIndex, SearchQuery, Visibility

ELASTICSEARCH_URL = os.environ.get("ARCHIVE_TEST_ELASTICSEARCH_URL", "")
EVERYONE = Visibility(departments=None, classifications=frozenset({"公开", "内部", "秘密", "机密"}))
MARKETING_INTERNAL = Visibility(
    departments=frozenset({"营销部"}), classifications=frozenset({"公开", "内部"})
)

LONG_CONTRACT = (
    "供电人与用电人根据《中华人民共和国民法典》及国家有关规定，经过协商，就供用电事宜签订本供用电合同，"
    "以明确双方的权利和义务。一、用电地址：某市高新区创业路八号。二、用电性质：工业用电，"
    "受电容量为八百千伏安。三、计量方式为高供高计，计量装置安装在产权分界点。四、双方约定按月结算，"
    "用电人应在每月二十五日前交清当月款项，逾期按日加收违约金。五、本合同有效期五年。"
) * 3


def document(document_id: int, text: str, **fields: object) -> IndexedDocument:
    values: dict[str, object] = {
        "title": f"文件{document_id}",
        "department": "营销部",
        "classification": "内部",
        "document_type": "供用电合同",
        "document_date": date(2024, 3, 1),
    }
    values.update(fields)
    return IndexedDocument(document_id=document_id, text=text, **values)  # type: ignore[arg-type]


def ids(index: SearchIndex, text: str = "", visibility: Visibility = EVERYONE, **query: object) -> list[int]:
    result = index.search(SearchQuery(text=text, **query), visibility)  # type: ignore[arg-type]
    return sorted(hit.document_id for hit in result.hits)


@pytest.fixture(params=[
    "tantivy",
    pytest.param("elasticsearch", marks=pytest.mark.skipif(
        not ELASTICSEARCH_URL, reason="no cluster: set ARCHIVE_TEST_ELASTICSEARCH_URL (docker compose has one)")),
])
def open_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], SearchIndex]]:
    """Open (another handle on) one fresh index of the backend, as another process would."""
    if request.param == "tantivy":
        from search.tantivy_index import TantivyIndex

        yield lambda: TantivyIndex(tmp_path / "index")
        return
    from search.elasticsearch_index import ElasticsearchIndex

    alias = f"archive-test-{uuid.uuid4().hex[:12]}"
    yield lambda: ElasticsearchIndex(ELASTICSEARCH_URL, alias)
    ElasticsearchIndex(ELASTICSEARCH_URL, alias).client.indices.delete(
        index=f"{alias}*", ignore_unavailable=True, allow_no_indices=True, expand_wildcards="all"
    )


@pytest.fixture
def index(open_index: Callable[[], SearchIndex]) -> SearchIndex:
    return open_index()


@pytest.fixture
def filled(index: SearchIndex) -> SearchIndex:
    index.index(
        [
            document(1, LONG_CONTRACT, archive_code="Z109-HT·2024-Y-YX-0001", keywords=("HT-2024-0001",)),
            document(
                2,
                "客户信息变更单：联系电话变更，电费通知寄送地址变更。Invoice 2023 total 4500.",
                document_type="客户信息变更单",
                document_date=date(2023, 5, 6),
                pii_hashes=("hash-of-id-number",),
            ),
            document(
                3,
                "用电检查记录：现场检查发现计量装置封印完好。",
                department="运检部",
                document_type="用电检查记录",
                customer_id=42,
                customer_name="某某电子有限公司",
            ),
            document(4, "违章用电处罚记录，涉及窃电。", classification="机密", document_type="违章处罚记录"),
        ]
    )
    return index


def test_a_two_character_chinese_word_in_a_long_text_is_found(filled: SearchIndex) -> None:
    assert ids(filled, "合同") == [1]
    assert ids(filled, "违约金") == [1]
    assert ids(filled, "电费") == [2]


def test_a_chinese_word_not_in_the_text_is_not_found(filled: SearchIndex) -> None:
    assert ids(filled, "水费") == []
    assert ids(filled, "合约") == []


def test_a_longer_chinese_word_must_match_its_bigrams_consecutively(filled: SearchIndex) -> None:
    assert ids(filled, "高供高计") == [1]
    assert ids(filled, "高计高供") == []


def test_a_latin_word_and_a_number_are_found_case_insensitively(filled: SearchIndex) -> None:
    assert ids(filled, "INVOICE") == [2]
    assert ids(filled, "4500") == [2]
    assert ids(filled, "４５００") == [2]


def test_bare_words_must_all_match_unless_joined_by_or(filled: SearchIndex) -> None:
    assert ids(filled, "电费 合同") == []
    assert ids(filled, "电费 OR 合同") == [1, 2]


def test_a_quoted_phrase_needs_consecutive_tokens(filled: SearchIndex) -> None:
    assert ids(filled, '"invoice 2023"') == [2]
    assert ids(filled, '"2023 invoice"') == []


def test_an_archive_code_matches_exactly_ignoring_case(filled: SearchIndex) -> None:
    assert ids(filled, "z109-ht·2024-y-yx-0001") == [1]
    assert ids(filled, "HT-2024-0001") == [1]
    assert ids(filled, "HT-2024-0002") == []


def test_a_pii_hash_alone_finds_its_document(filled: SearchIndex) -> None:
    assert ids(filled, pii_hashes=("hash-of-id-number",)) == [2]
    assert ids(filled, pii_hashes=("another-hash",)) == []


def test_a_pii_hash_is_ored_with_the_text(filled: SearchIndex) -> None:
    assert ids(filled, "合同", pii_hashes=("hash-of-id-number",)) == [1, 2]


def test_filters_from_the_query_text_and_from_the_query_narrow_the_result(filled: SearchIndex) -> None:
    assert ids(filled, "department:运检部") == [3]
    assert ids(filled, "类型：客户信息变更单") == [2]
    assert ids(filled, "year:2023") == [2]
    assert ids(filled, "customer:42") == [3]
    assert ids(filled, 'customer:"某某电子有限公司"') == [3]
    assert ids(filled, "计量", filters={"department": "营销部"}) == [1]
    assert ids(filled, "type:供用电合同 type:违章处罚记录") == [1, 4]
    assert ids(filled, "type:供用电合同", filters={"type": "用电检查记录"}) == []


def test_an_unknown_field_name_is_searched_as_text(filled: SearchIndex) -> None:
    assert ids(filled, "total:4500") == [2]


def test_a_malformed_year_is_a_syntax_error(filled: SearchIndex) -> None:
    with pytest.raises(QuerySyntaxError):
        filled.search(SearchQuery(text="year:24"), EVERYONE)


def test_documents_are_sorted_by_date_when_asked(filled: SearchIndex) -> None:
    result = filled.search(SearchQuery(text="department:营销部", sort="oldest"), EVERYONE)
    assert [hit.document_id for hit in result.hits][0] == 2


def test_a_date_range_narrows_the_result(filled: SearchIndex) -> None:
    assert ids(filled, date_from=date(2023, 1, 1), date_to=date(2023, 12, 31)) == [2]


def test_another_department_and_a_higher_classification_are_absent_from_hits_total_and_facets(
    filled: SearchIndex,
) -> None:
    result = filled.search(SearchQuery(text="记录"), MARKETING_INTERNAL)
    assert result.hits == []
    assert result.total == 0
    assert result.facets["department"] == {}
    everything = filled.search(SearchQuery(), MARKETING_INTERNAL)
    assert sorted(hit.document_id for hit in everything.hits) == [1, 2]
    assert everything.total == 2
    assert everything.facets["department"] == {"营销部": 2}
    assert everything.facets["document_type"] == {"供用电合同": 1, "客户信息变更单": 1}
    assert everything.facets["year"] == {"2023": 1, "2024": 1}


def test_a_granted_document_is_visible_despite_department_and_classification(filled: SearchIndex) -> None:
    granted = Visibility(
        MARKETING_INTERNAL.departments, MARKETING_INTERNAL.classifications, frozenset({3, 4})
    )
    result = filled.search(SearchQuery(text="记录"), granted)
    assert sorted(hit.document_id for hit in result.hits) == [3, 4]
    assert result.total == 2
    assert result.facets["department"] == {"运检部": 1, "营销部": 1}


def test_no_cleared_classification_shows_only_granted_documents(filled: SearchIndex) -> None:
    assert ids(filled, visibility=Visibility(None, frozenset())) == []
    assert ids(filled, visibility=Visibility(None, frozenset(), frozenset({2}))) == [2]


def test_indexing_a_document_again_replaces_it(filled: SearchIndex) -> None:
    filled.index([document(1, "已更新的内容：水费账单")])
    assert ids(filled, "合同") == []
    assert ids(filled, "水费") == [1]
    assert filled.search(SearchQuery(), EVERYONE).total == 4


def test_delete_removes_at_once_and_is_idempotent(filled: SearchIndex) -> None:
    filled.delete([2, 999])
    assert ids(filled, "电费") == []
    filled.delete([2])
    assert filled.search(SearchQuery(), EVERYONE).total == 3


def test_clear_removes_everything(filled: SearchIndex) -> None:
    filled.clear()
    assert filled.search(SearchQuery(), EVERYONE).total == 0


def test_the_snippet_marks_the_match_and_escapes_the_rest(index: SearchIndex) -> None:
    index.index([document(7, "前言" * 80 + "<b>客户</b>申请电费发票。" + "结尾" * 80)])
    [hit] = index.search(SearchQuery(text="电费"), EVERYONE).hits
    assert "<mark>电费</mark>" in hit.snippet
    assert "&lt;b&gt;" in hit.snippet
    assert len(html.unescape(hit.snippet.replace("<mark>", "").replace("</mark>", ""))) <= 122


def test_pagination_keeps_the_total(filled: SearchIndex) -> None:
    result = filled.search(SearchQuery(limit=1, offset=1), EVERYONE)
    assert len(result.hits) == 1
    assert result.total == 4


def test_documents_are_sorted_newest_first_and_a_date_sort_keeps_the_total(filled: SearchIndex) -> None:
    result = filled.search(SearchQuery(sort="newest", limit=2), EVERYONE)
    assert result.total == 4
    assert result.hits[-1].document_id != 2  # 2023-05-06 is the oldest of the four
    assert filled.search(SearchQuery(sort="oldest", limit=1), EVERYONE).hits[0].document_id == 2


def test_excluded_documents_are_absent_from_hits_total_and_facets(filled: SearchIndex) -> None:
    result = filled.search(SearchQuery(exclude_ids=frozenset({1, 3})), EVERYONE)
    assert sorted(hit.document_id for hit in result.hits) == [2, 4]
    assert result.total == 2
    assert result.facets["department"] == {"营销部": 2}
    assert ids(filled, "合同", exclude_ids=frozenset({1})) == []


def test_a_filter_and_a_date_range_also_narrow_the_facets(filled: SearchIndex) -> None:
    result = filled.search(SearchQuery(text="year:2024", date_to=date(2024, 12, 31)), EVERYONE)
    assert result.total == 3
    assert result.facets["year"] == {"2024": 3}
    assert result.facets["document_type"] == {"供用电合同": 1, "用电检查记录": 1, "违章处罚记录": 1}


def test_a_second_handle_sees_what_the_first_wrote(open_index: Callable[[], SearchIndex]) -> None:
    first, second = open_index(), open_index()
    first.index([document(1, "合同一")])
    second.index([document(2, "合同二")])
    first.delete([1])
    assert ids(second, "合同") == [2]
    assert ids(first, "合同") == [2]


def test_a_rebuild_is_invisible_until_published_then_replaces_the_live_index(
    open_index: Callable[[], SearchIndex],
) -> None:
    live, reader = open_index(), open_index()
    live.index([document(1, "旧的合同"), document(2, "旧的发票")])
    assert live.state().building is None
    build = live.begin_rebuild()
    assert reader.state().building is not None  # every handle sees a rebuild running
    build.add([document(1, "新的合同"), document(3, "新的发票")])
    build.index([document(3, "新的收据")])  # a change made while the build runs replaces the loaded one
    build.delete([1])
    assert ids(reader, "旧的") == [1, 2]  # searches are served by the old index meanwhile
    before = reader.state()
    build.publish()
    after = reader.state()
    assert after.building is None and after.live != before.live
    assert ids(reader, "旧的") == []
    assert ids(reader, "新的") == [3]
    assert ids(reader, "收据") == [3]
    reader.index([document(4, "发布后的合同")])  # the old handle writes to the new index
    assert ids(live, "合同") == [4]


def test_a_discarded_rebuild_leaves_the_live_index_serving(open_index: Callable[[], SearchIndex]) -> None:
    index = open_index()
    index.index([document(1, "旧的合同")])
    build = index.begin_rebuild()
    build.add([document(2, "新的合同")])
    build.discard()
    assert index.state().building is None
    assert ids(index, "合同") == [1]


def test_an_unfinished_rebuild_is_dropped_by_the_next_one(open_index: Callable[[], SearchIndex]) -> None:
    index = open_index()
    index.index([document(1, "旧的合同")])
    abandoned = index.begin_rebuild()  # as if the process rebuilding had crashed here
    abandoned.add([document(2, "半途的合同")])
    assert ids(open_index(), "合同") == [1]
    build = open_index().begin_rebuild()
    build.add([document(3, "新的合同")])
    build.publish()
    assert ids(index, "合同") == [3]
    with pytest.raises(SearchError):
        abandoned.publish()  # the dropped build can no longer replace the live index
    assert ids(index, "合同") == [3]
