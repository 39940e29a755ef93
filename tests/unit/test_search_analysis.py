from __future__ import annotations

import pytest

from search.analysis import (
    Term,
    analyze,
    make_snippet,
    merge_filters,
    parse_query,
    phrase_tokens,
    token_stream,
    tokens,
)
from search.base import QuerySyntaxError


def test_a_chinese_run_becomes_overlapping_bigrams() -> None:
    assert tokens("电费通知") == ["电费", "费通", "通知"]


def test_a_lone_chinese_character_becomes_a_unigram() -> None:
    assert tokens("2024年3月") == ["2024", "年", "3", "月"]


def test_latin_words_are_lowercased_and_split_on_punctuation() -> None:
    assert tokens("Invoice, TOTAL: 4500!") == ["invoice", "total", "4500"]


def test_fullwidth_forms_are_normalised() -> None:
    assert tokens("ＨＴ２０２４　电费") == ["ht2024", "电费"]


def test_a_joined_identifier_is_kept_whole_and_split_into_parts() -> None:
    assert tokens("HT-2024-0001") == ["ht-2024-0001", "ht", "2024", "0001"]
    assert "z109-ht·2024-y-yx-0001" in tokens("档号 Z109-HT·2024-Y-YX-0001")


def test_the_whole_identifier_shares_the_position_of_its_first_part() -> None:
    whole, first, second = analyze("ht-2024")[:3]
    assert whole.compound and whole.position == first.position
    assert second.position == first.position + 1


def test_phrase_tokens_leave_out_the_whole_identifier() -> None:
    assert phrase_tokens("ht-2024-0001") == ["ht", "2024", "0001"]


def test_offsets_point_into_the_original_text() -> None:
    text = "客户ＡＢＣ申请"
    token = next(t for t in analyze(text) if t.text == "abc")
    assert text[token.start : token.end] == "ＡＢＣ"


def test_bare_words_are_separate_groups_that_must_all_match() -> None:
    parsed = parse_query("电费 通知")
    assert [[t.tokens for t in group] for group in parsed.groups] == [[("电费",)], [("通知",)]]


def test_or_joins_the_words_on_either_side() -> None:
    parsed = parse_query("合同 电费 OR 水费")
    assert [[t.raw for t in group] for group in parsed.groups] == [["合同"], ["电费", "水费"]]


def test_a_dangling_or_is_ignored_and_lowercase_or_is_a_word() -> None:
    assert [[t.raw for t in g] for g in parse_query("OR 电费 OR").groups] == [["电费"]]
    assert len(parse_query("a or b").groups) == 3


def test_a_quoted_phrase_is_one_term() -> None:
    [[term]] = parse_query('"供用电 合同"').groups
    assert term == Term(raw="供用电 合同", tokens=("供用", "用电", "合同"), quoted=True)


def test_chinese_quotes_and_an_unterminated_quote_make_phrases() -> None:
    assert parse_query("“高压新装”").groups[0][0].quoted
    assert parse_query('"高压新装').groups[0][0].tokens == ("高压", "压新", "新装")


def test_field_filters_are_collected_and_repeated_fields_accept_any_value() -> None:
    parsed = parse_query('type:合同 type:发票 部门：营销部 customer:"某某 公司" year:2024 电费')
    assert parsed.filters == {
        "type": ("合同", "发票"),
        "department": ("营销部",),
        "customer": ("某某 公司",),
        "year": ("2024",),
    }
    assert [t.raw for t in parsed.terms] == ["电费"]


def test_an_unknown_field_name_is_plain_text() -> None:
    parsed = parse_query("http://example.com total:4500")
    assert parsed.filters == {}
    assert [t.tokens for t in parsed.terms] == [("http", "example", "com"), ("total", "4500")]


def test_a_malformed_year_or_an_empty_filter_is_a_syntax_error() -> None:
    with pytest.raises(QuerySyntaxError):
        parse_query("year:24")
    with pytest.raises(QuerySyntaxError):
        parse_query("type:")


def test_filters_from_the_search_query_narrow_those_from_the_text() -> None:
    assert merge_filters({"type": ("合同", "发票")}, {"type": "合同"}) == {"type": ("合同",)}
    assert merge_filters({"type": ("合同",)}, {"type": "发票"}) == {"type": ()}
    with pytest.raises(QuerySyntaxError):
        merge_filters({}, {"colour": "red"})


def test_a_single_chinese_character_term_is_recognised() -> None:
    assert parse_query("费").terms[0].single_cjk_char
    assert not parse_query("电费").terms[0].single_cjk_char


def test_the_snippet_marks_whole_phrase_matches_only() -> None:
    snippet = make_snippet("电费单据，电力费用", parse_query("电费").terms)
    assert snippet == "<mark>电费</mark>单据，电力费用"
    assert make_snippet("电费通知", parse_query("电费通知").terms) == "<mark>电费通知</mark>"


def test_the_snippet_escapes_html_and_collapses_whitespace() -> None:
    assert make_snippet("<b>Invoice</b>\n\n 2023", parse_query("invoice").terms) == (
        "&lt;b&gt;<mark>Invoice</mark>&lt;/b&gt; 2023"
    )


def test_the_snippet_without_a_match_is_the_start_of_the_text() -> None:
    assert make_snippet("甲" * 200, parse_query("乙").terms) == "甲" * 120 + "…"


def test_the_snippet_finds_a_match_far_into_a_long_text() -> None:
    snippet = make_snippet("前言" * 500 + "申请电费发票" + "结尾" * 500, parse_query("电费").terms)
    assert "申请<mark>电费</mark>发票" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")


def test_a_word_inside_a_longer_word_is_not_marked() -> None:
    snippet = make_snippet("html " + "word " * 300 + "ht-1", parse_query("ht").terms)
    assert "<mark>ht</mark>-1" in snippet
    assert "<mark>ht</mark>ml" not in snippet


def test_the_token_stream_joins_positional_tokens_without_compounds() -> None:
    assert token_stream("合同号 HT-2024") == "合同 同号 ht 2024"
