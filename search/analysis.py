"""Text analysis and the user-facing query syntax shared by every search backend.

Analysis
--------
Text is normalised with NFKC (fullwidth ``ＡＢＣ１２３`` becomes ``abc123``) and lowercased, then:

- a run of CJK characters becomes overlapping character bigrams (``电费通知`` → ``电费 费通 通知``);
  a CJK character standing alone becomes a unigram;
- Latin letters and digits form words, split on everything else;
- words joined by ``- _ . / @ ·`` (an archive code ``Z109-HT·2024-Y-YX-0001``, a contract number
  ``ht-2024-0001``) are emitted whole *and* as their parts, the whole at the position of the first
  part, so both the exact identifier and any run of its parts can be found.

Queries are analysed the same way, so a two-character word such as ``合同`` or ``电费`` matches, and a
longer run must match its bigrams consecutively.

Query syntax
------------
- ``电费 通知`` — bare words; every word must match (AND).
- ``"供用电合同 续签"`` — a quoted phrase: its tokens must appear consecutively. Chinese quotes
  ``“…”`` work too.
- ``电费 OR 水费`` — ``OR`` (upper case) between two words or phrases matches either.
- ``field:value`` or ``field:"a value"`` — an exact filter on a field. Fields (Chinese aliases in
  brackets): ``type`` (类型), ``department`` (部门), ``classification`` (密级), ``dossier`` (案卷),
  ``status`` (状态), ``customer`` (客户; a number is a customer id, anything else the exact customer
  name), ``year`` (年度, four digits). Repeating a field accepts any of its values
  (``type:合同 type:发票``); different fields must all match. A fullwidth colon ``：`` works.
- An unknown field name is plain text: ``http://example`` or ``a:b`` are searched as words.
- A bare word also matches an archive code or keyword (contract number, credit code) exactly,
  ignoring case.

``year:`` with something other than four digits, or a filter with no value, raises
``QuerySyntaxError``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from search.base import QuerySyntaxError

CONNECTORS = frozenset("-_./@·")
MAX_TOKEN_CHARS = 64
QUOTES = frozenset('"“”„「」『』')

FILTER_FIELDS: Mapping[str, str] = {
    "type": "type",
    "类型": "type",
    "类别": "type",
    "department": "department",
    "部门": "department",
    "classification": "classification",
    "密级": "classification",
    "dossier": "dossier",
    "案卷": "dossier",
    "卷宗": "dossier",
    "status": "status",
    "状态": "status",
    "customer": "customer",
    "客户": "customer",
    "year": "year",
    "年度": "year",
    "年份": "year",
}
"""Query-syntax field names (and aliases) to the canonical filter key used in SearchQuery.filters."""

FILTER_KEYS = frozenset(FILTER_FIELDS.values())


@dataclass(frozen=True)
class Token:
    text: str
    position: int
    start: int  # character offsets into the original (un-normalised) text
    end: int
    compound: bool = False  # a whole joined identifier, sharing its position with its first part


def is_cjk(char: str) -> bool:
    """Say whether a character is Han, kana or Hangul (analysed as bigrams)."""
    code = ord(char)
    if code == 0x30FB:  # katakana middle dot is punctuation
        return False
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
        or code in (0x3005, 0x3007)
    )


def _normalise(text: str) -> tuple[str, list[int]]:
    """NFKC-normalise and lowercase, keeping for each output character its source index."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for out in unicodedata.normalize("NFKC", char).lower():
            chars.append(out)
            origin.append(index)
    return "".join(chars), origin


def normalise_keyword(value: str) -> str:
    """Normalise an exact filter value (department, type, …) the same way at index and query time."""
    return unicodedata.normalize("NFKC", value).strip()


def normalise_identifier(value: str) -> str:
    """Normalise an identifier (archive code, contract number) for case-insensitive exact lookup."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def analyze(text: str) -> list[Token]:
    """Split text into positioned tokens with offsets into the original text."""
    norm, origin = _normalise(text)
    result: list[Token] = []
    position = 0
    length = len(norm)

    def span(first: int, last: int) -> tuple[int, int]:
        return origin[first], origin[last] + 1

    i = 0
    while i < length:
        char = norm[i]
        if is_cjk(char):
            j = i
            while j < length and is_cjk(norm[j]):
                j += 1
            if j - i == 1:
                result.append(Token(char, position, *span(i, i)))
                position += 1
            else:
                for k in range(i, j - 1):
                    result.append(Token(norm[k : k + 2], position, *span(k, k + 1)))
                    position += 1
            i = j
        elif char.isalnum():
            parts: list[tuple[int, int]] = []
            j = i
            while True:
                k = j
                while k < length and norm[k].isalnum() and not is_cjk(norm[k]):
                    k += 1
                parts.append((j, k))
                if (
                    k + 1 < length
                    and norm[k] in CONNECTORS
                    and norm[k + 1].isalnum()
                    and not is_cjk(norm[k + 1])
                ):
                    j = k + 1
                    continue
                break
            end = parts[-1][1]
            if len(parts) > 1 and end - i <= MAX_TOKEN_CHARS:
                result.append(Token(norm[i:end], position, *span(i, end - 1), compound=True))
            for a, b in parts:
                if b - a <= MAX_TOKEN_CHARS:
                    result.append(Token(norm[a:b], position, *span(a, b - 1)))
                    position += 1
            i = end
        else:
            i += 1
    return result


def tokens(text: str) -> list[str]:
    """Return the index tokens of a text (compound identifiers and their parts)."""
    return [token.text for token in analyze(text)]


def phrase_tokens(text: str) -> list[str]:
    """Return the tokens that must appear consecutively for the text to match (no compounds)."""
    return [token.text for token in analyze(text) if not token.compound]


@dataclass(frozen=True)
class Term:
    """One bare word or quoted phrase: its tokens must occur consecutively."""

    raw: str  # the text as typed, normalised with normalise_identifier (for exact identifier lookup)
    tokens: tuple[str, ...]
    quoted: bool = False

    @property
    def single_cjk_char(self) -> bool:
        """Say whether the term is one lone CJK character (indexed only inside bigrams)."""
        return len(self.tokens) == 1 and len(self.tokens[0]) == 1 and is_cjk(self.tokens[0])


@dataclass(frozen=True)
class ParsedQuery:
    """Every group must match; a group matches when any of its terms does (OR)."""

    groups: tuple[tuple[Term, ...], ...] = ()
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(term for group in self.groups for term in group)


@dataclass(frozen=True)
class _Lexeme:
    text: str
    quoted: bool
    field: str | None = None


def _lex(text: str) -> list[_Lexeme]:
    text = unicodedata.normalize("NFKC", text)
    lexemes: list[_Lexeme] = []
    i, length = 0, len(text)
    while i < length:
        if text[i].isspace():
            i += 1
            continue
        if text[i] in QUOTES:
            j = i + 1
            while j < length and text[j] not in QUOTES:
                j += 1
            lexemes.append(_Lexeme(text[i + 1 : j], quoted=True))
            i = j + 1
            continue
        j = i
        while j < length and not text[j].isspace() and text[j] not in QUOTES:
            j += 1
        word = text[i:j]
        name, colon, value = word.partition(":")
        key = FILTER_FIELDS.get(name.lower()) if colon else None
        if key is None:
            lexemes.append(_Lexeme(word, quoted=False))
            i = j
            continue
        if not value and j < length and text[j] in QUOTES:
            k = j + 1
            while k < length and text[k] not in QUOTES:
                k += 1
            value = text[j + 1 : k]
            j = k + 1
        value = value.strip()
        if not value:
            raise QuerySyntaxError(f"the filter {name}: has no value")
        if key == "year" and not re.fullmatch(r"\d{4}", value):
            raise QuerySyntaxError(f"year must be four digits, not {value!r}")
        lexemes.append(_Lexeme(value, quoted=False, field=key))
        i = j
    return lexemes


def parse_query(text: str) -> ParsedQuery:
    """Parse the user-facing query syntax described in this module's docstring."""
    groups: list[list[Term]] = []
    filters: dict[str, list[str]] = {}
    join_next = False
    for lexeme in _lex(text):
        if lexeme.field is not None:
            values = filters.setdefault(lexeme.field, [])
            value = normalise_keyword(lexeme.text)
            if value not in values:
                values.append(value)
            join_next = False
            continue
        if not lexeme.quoted and lexeme.text == "OR":
            join_next = bool(groups)
            continue
        parts = phrase_tokens(lexeme.text)
        if not parts:
            join_next = False
            continue
        term = Term(normalise_identifier(lexeme.text), tuple(parts), lexeme.quoted)
        if join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    return ParsedQuery(
        groups=tuple(tuple(group) for group in groups),
        filters={key: tuple(values) for key, values in filters.items()},
    )


def merge_filters(
    parsed: Mapping[str, tuple[str, ...]], extra: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """Combine filters from the query text with SearchQuery.filters (both must hold).

    Raises QuerySyntaxError for an unknown filter key or a malformed year.
    """
    merged = dict(parsed)
    for key, raw in extra.items():
        canonical = FILTER_FIELDS.get(key.lower())
        if canonical is None:
            raise QuerySyntaxError(f"unknown filter {key!r}")
        value = normalise_keyword(str(raw))
        if canonical == "year" and not re.fullmatch(r"\d{4}", value):
            raise QuerySyntaxError(f"year must be four digits, not {value!r}")
        existing = merged.get(canonical)
        if existing is None or value in existing:
            merged[canonical] = (value,)
        else:
            merged[canonical] = ()  # two different exact values for one field: nothing matches
    return merged


def _match_spans(doc_tokens: list[Token], terms: Iterable[Term]) -> list[tuple[int, int]]:
    by_position: dict[int, dict[str, Token]] = {}
    for token in doc_tokens:
        by_position.setdefault(token.position, {})[token.text] = token
    spans: list[tuple[int, int]] = []
    for term in terms:
        if term.single_cjk_char:
            char = term.tokens[0]
            for token in doc_tokens:
                index = token.text.find(char)
                if index >= 0 and token.end - token.start == len(token.text):
                    spans.append((token.start + index, token.start + index + 1))
            continue
        first, rest = term.tokens[0], term.tokens[1:]
        for position, at in by_position.items():
            start_token = at.get(first)
            if start_token is None:
                continue
            last = start_token
            for offset, text in enumerate(rest, start=1):
                nxt = by_position.get(position + offset, {}).get(text)
                if nxt is None:
                    break
                last = nxt
            else:
                spans.append((start_token.start, last.end))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _clean(segment: str) -> str:
    return html.escape(re.sub(r"\s+", " ", segment), quote=False)


def make_snippet(text: str, terms: Iterable[Term], width: int = 120) -> str:
    """Cut about `width` characters around the first match, escaped, with matches in <mark>."""
    spans = _match_spans(analyze(text), list(terms))
    if not spans:
        cut = text[:width]
        return _clean(cut) + ("…" if len(text) > width else "")
    first_start = spans[0][0]
    start = max(0, first_start - width // 4)
    end = min(len(text), start + width)
    start = max(0, end - width)
    pieces: list[str] = ["…"] if start > 0 else []
    cursor = start
    for span_start, span_end in spans:
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start >= span_end or span_start < cursor:
            continue
        pieces.append(_clean(text[cursor:span_start]))
        pieces.append("<mark>" + _clean(text[span_start:span_end]) + "</mark>")
        cursor = span_end
    pieces.append(_clean(text[cursor:end]))
    if end < len(text):
        pieces.append("…")
    return "".join(pieces)
