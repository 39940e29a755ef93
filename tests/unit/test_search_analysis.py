from __future__ import annotations

import random
import unicodedata

import pytest

from search.analysis import (
    Term,
    _exact_finder,
    _exact_spans,
    _match_spans,
    _normalise,
    analyze,
    is_cjk,
    make_snippet,
    merge_filters,
    parse_query,
    phrase_tokens,
    token_stream,
    token_streams,
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


def _reference_tokens(text: str) -> list[str]:
    """The positional tokens spelled out one by one: NFKC and lowercase the whole text, then bigrams
    of each CJK run (a lone character alone), and words of at most 64 characters."""
    norm = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    index = 0
    while index < len(norm):
        char = norm[index]
        if is_cjk(char):
            end = index
            while end < len(norm) and is_cjk(norm[end]):
                end += 1
            run = norm[index:end]
            out.extend([run] if len(run) == 1 else [run[k:k + 2] for k in range(len(run) - 1)])
            index = end
        elif char.isalnum():
            end = index
            while end < len(norm) and norm[end].isalnum() and not is_cjk(norm[end]):
                end += 1
            if end - index <= 64:
                out.append(norm[index:end])
            index = end
        else:
            index += 1
    return out


MIXED = [
    "电费通知 Invoice-2024，ＨＴ－２０２４年3月！",
    "客户　张三（身份证号码110105********002X）申请增容。",
    "e\u0301té = \u0338 ①② ﬁle 〸 々〇 かタカナ 한국어 Ǆ",
    "x" * 64 + " " + "y" * 65 + " 电",
    "合同ht2024-0001/α·β_γ@δ.ε",
]


@pytest.mark.parametrize("text", MIXED)
def test_the_token_stream_is_the_bigrams_and_words_spelled_out_one_by_one(text: str) -> None:
    assert phrase_tokens(text) == _reference_tokens(text)
    assert token_stream(text) == " ".join(_reference_tokens(text))


def test_the_token_stream_matches_on_random_text_of_every_script() -> None:
    rng = random.Random(11)
    alphabet = "".join(MIXED) + "".join(chr(rng.randrange(0x20, 0x3100)) for _ in range(400))
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))
        assert phrase_tokens(text) == _reference_tokens(text), text


def test_a_batch_is_analysed_text_by_text_nothing_joins_across_two_texts() -> None:
    texts = ["电费", "通知单", "", "，", "abc", "def", "年", "x" * 64, "y" * 65, "\U00020000\U00020001", "Ǆ"]
    assert token_streams(texts) == [" ".join(_reference_tokens(text)) for text in texts]
    assert token_streams([]) == []
    assert token_streams(["", ""]) == ["", ""]


def test_a_batch_of_random_texts_matches_the_reference() -> None:
    rng = random.Random(12)
    alphabet = "".join(MIXED) + "".join(chr(rng.randrange(0x20, 0x3100)) for _ in range(400))
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 80))) for _ in range(2000)]
    assert token_streams(texts) == [" ".join(_reference_tokens(text)) for text in texts]


def test_fullwidth_punctuation_is_left_alone_but_fullwidth_letters_and_connectors_are_folded() -> None:
    assert tokens("电费，通知") == ["电费", "通知"]
    assert tokens("ＨＴ－２０２４") == ["ht-2024", "ht", "2024"]


def test_a_combining_mark_composes_with_the_letter_before_it() -> None:
    assert phrase_tokens("Cafe\u0301 电") == ["café", "电"]


SNIPPET_TEXTS = [
    "申请电费发票，电费已缴。HT-2024-0001 invoice 2023 total",
    "前言" * 90 + "供用电合同续签，ht 2024 与 ht-2024 均为合同号" + "结尾" * 90,
    "ＩＮＶＯＩＣＥ　２０２３：电费；htm html ht",
]


@pytest.mark.parametrize("query", ["电费", "合同续签", "费", '"invoice 2023"', "ht", "ht-2024", "html", "2023"])
@pytest.mark.parametrize("text", SNIPPET_TEXTS)
def test_the_quick_snippet_path_marks_exactly_what_the_analysis_matches(text: str, query: str) -> None:
    terms = list(parse_query(query).terms)
    norm, origin = _normalise(text)
    [finder] = [_exact_finder(term) for term in terms]
    assert finder is not None
    quick = _exact_spans(norm, origin, [finder], width=len(text))
    assert quick == _match_spans(analyze(text), terms)


def test_the_quick_path_finds_identifiers_exactly_where_the_analysis_does_on_random_text() -> None:
    rng = random.Random(5)
    pieces = ["ht", "2024", "0001", "z109", "y", "-", "·", "_", " ", "，", "a", "é", "合同", "电", "\u3000", "/"]
    queries = ["ht-2024-0001", "ht 2024", "z109·2024-y", "2024", "a_ht", "é-ht"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 25)))
        for query in queries:
            terms = list(parse_query(query).terms)
            norm, origin = _normalise(text)
            finders = [_exact_finder(term) for term in terms]
            quick = _exact_spans(norm, origin, finders, width=len(text))  # type: ignore[arg-type]
            assert quick == _match_spans(analyze(text), terms), (text, query)


def test_a_mixed_phrase_falls_back_to_analysing_a_window() -> None:
    [term] = parse_query('"合同 ht"').terms
    assert _exact_finder(term) is None
    assert make_snippet("供用电合同 HT-1", [term]) == "供用电<mark>合同 HT</mark>-1"
