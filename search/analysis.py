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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, partial
from typing import NamedTuple

import numpy as np

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


class Token(NamedTuple):
    text: str
    position: int
    start: int  # character offsets into the original (un-normalised) text
    end: int
    compound: bool = False  # a whole joined identifier, sharing its position with its first part


# Han (with extensions and compatibility forms), kana without the katakana middle dot, Hangul,
# and the iteration marks 々 〇.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f\u3040-\u30fa\u30fc-\u30ff\uac00-\ud7af\u3005\u3007"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_WORD_CHAR = f"[^\\W_{_CJK}]"
_WORD = _WORD_CHAR + "+"
_RUNS = re.compile(f"([{_CJK}]+)|({_WORD}(?:[{re.escape(''.join(sorted(CONNECTORS)))}]{_WORD})*)")
_PART = re.compile(_WORD)


def is_cjk(char: str) -> bool:
    """Say whether a character is Han, kana or Hangul (analysed as bigrams)."""
    return _CJK_CHAR.fullmatch(char) is not None


def _nfkc_stable_class() -> str:
    """Return a regex class of the characters text may hold and still skip NFKC normalisation.

    Han, ASCII and the usual CJK and fullwidth punctuation: NFKC leaves them alone, or turns them
    into other punctuation that is neither a word character nor an identifier connector, so no
    token changes; lowercasing keeps each of them one character.
    """
    candidates = [*range(0x00, 0x80), 0xB7, *range(0x2010, 0x2028), *range(0x3000, 0x3040),
                  *range(0x3400, 0x4DC0), *range(0x4E00, 0xA000), *range(0xFF01, 0xFF66)]
    stable: list[int] = []
    for code in candidates:
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char)
        harmless = not any(c.isalnum() or c in CONNECTORS for c in folded + char)
        if len(char.lower()) == 1 and not unicodedata.combining(char) and (folded == char or harmless):
            stable.append(code)
    ranges: list[str] = []
    for code in stable:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    return "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                   for a, b in ranges)


_UNSTABLE = re.compile(f"[^{_nfkc_stable_class()}]+")


def _nfkc_lower(text: str) -> str:
    """NFKC and lowercase, up to stable punctuation that only ever folds into other punctuation.

    Only runs of unstable characters are normalised, each with the character before it: that one
    may be the starter a following combining mark composes with (e + U+0301, = + U+0338). Stable
    characters are starters that never compose with what precedes them, so the result is the same
    as normalising the whole text.
    """
    parts: list[str] = []
    done = 0
    for match in _UNSTABLE.finditer(text):
        start = max(match.start() - 1, done)
        parts.append(text[done:start])
        parts.append(unicodedata.normalize("NFKC", text[start : match.end()]))
        done = match.end()
    if not parts:
        return text.lower()
    parts.append(text[done:])
    return "".join(parts).lower()


def _normalise(text: str) -> tuple[str, list[int] | None]:
    """NFKC-normalise and lowercase, mapping output characters to source indexes (None: identity).

    When the whole text keeps its length (the usual case: fullwidth forms, case) the mapping is taken
    as the identity; otherwise each character is normalised alone to keep an exact mapping.
    """
    whole = _nfkc_lower(text)
    if len(whole) == len(text):
        return whole, None
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        out = unicodedata.normalize("NFKC", char).lower()
        origin.extend([index] * len(out))
        chars.append(out)
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
    append = result.append
    position = 0
    for match in _RUNS.finditer(norm):
        run_start, run_end = match.span()
        if match.group(1) is not None:
            if run_end - run_start == 1:
                append(Token(match.group(1), position, run_start, run_end))
                position += 1
            else:
                shift = position - run_start
                result.extend(
                    Token(norm[k : k + 2], k + shift, k, k + 2) for k in range(run_start, run_end - 1)
                )
                position += run_end - run_start - 1
            continue
        parts = list(_PART.finditer(norm, run_start, run_end))
        if len(parts) > 1 and run_end - run_start <= MAX_TOKEN_CHARS:
            append(Token(match.group(2), position, run_start, run_end, True))
        for part in parts:
            a, b = part.span()
            if b - a <= MAX_TOKEN_CHARS:
                append(Token(part.group(), position, a, b))
                position += 1
    if origin is not None:
        result = [t._replace(start=origin[t.start], end=origin[t.end - 1] + 1) for t in result]
    return result


def tokens(text: str) -> list[str]:
    """Return the index tokens of a text (compound identifiers and their parts)."""
    return [token.text for token in analyze(text)]


_OTHER, _WORD_CLASS, _CJK_CLASS = 0, 1, 2
_SEPARATOR = "\n"  # stands between the texts of a batch: neither a word character nor CJK


@cache
def _char_classes() -> np.ndarray:
    """Every code point's class (other, word or CJK), indexed by code point; made once a process."""
    chars = "".join(map(chr, range(0x110000)))
    classes = np.full(0x110000, _OTHER, np.uint8)
    for value, pattern in ((_WORD_CLASS, _WORD_CHAR), (_CJK_CLASS, f"[{_CJK}]")):
        found = "".join(re.findall(pattern, chars)).encode("utf-32-le")
        classes[np.frombuffer(found, np.uint32)] = value
    return classes


def _shifted(mask: np.ndarray, step: int) -> np.ndarray:
    """mask[i + step] at i, False beyond either end."""
    out = np.zeros_like(mask)
    if step > 0:
        out[:-step] = mask[step:]
    else:
        out[-step:] = mask[:step]
    return out


def token_streams(texts: Sequence[str]) -> list[str]:
    """Return each text's positional tokens joined by single spaces, for a whitespace tokenizer.

    At each character: a CJK bigram starting there, a lone CJK character, or a whole word (at most
    MAX_TOKEN_CHARS) starting there. Compound identifiers are left out: a phrase of their parts
    finds them, and exact identifiers are indexed as keywords.

    The batch is analysed as one array of code points (numpy), a third of the time a regex scan
    takes per text: indexing spends most of its Python time here.
    """
    norms = [_nfkc_lower(text) for text in texts]
    points = np.frombuffer(_SEPARATOR.join(norms).encode("utf-32-le", "surrogatepass"), np.uint32)
    classes = _char_classes()[points]
    cjk, word = classes == _CJK_CLASS, classes == _WORD_CLASS
    bigram = cjk & _shifted(cjk, 1)
    lone = cjk & ~_shifted(cjk, -1) & ~_shifted(cjk, 1)
    starts = np.flatnonzero(word & ~_shifted(word, -1))
    ends = np.flatnonzero(word & ~_shifted(word, 1))
    lengths = ends - starts + 1
    short = lengths <= MAX_TOKEN_CHARS
    kept = word.copy()
    kept[word] = np.repeat(short, lengths)
    # Characters written per input character: a bigram's two and a space, a lone character and a
    # space, a kept word's characters and a space after its last.
    counts = bigram * 3 + lone * 2 + kept
    counts[ends[short]] += 1
    after = np.cumsum(counts)
    at = after - counts
    out = np.full(int(after[-1]) if len(after) else 0, ord(" "), np.uint32)
    first = bigram | lone | kept
    out[at[first]] = points[first]
    pairs = np.flatnonzero(bigram)
    out[at[pairs] + 1] = points[pairs + 1]
    joined = out.tobytes().decode("utf-32-le")
    streams: list[str] = []
    start = 0
    for norm in norms:
        end = start + len(norm)
        begin, finish = (int(at[start]), int(after[end - 1])) if end > start else (0, 0)
        streams.append(joined[begin : finish - 1] if finish > begin else "")
        start = end + 1
    return streams


def token_stream(text: str) -> str:
    """Return the positional tokens of one text joined by single spaces (see token_streams)."""
    return token_streams([text])[0]


def phrase_tokens(text: str) -> list[str]:
    """Return the tokens that must appear consecutively for the text to match (no compounds)."""
    stream = token_stream(text)
    return stream.split(" ") if stream else []


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


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort spans and join those that overlap."""
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
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
    return _merge(spans)


def _clean(segment: str) -> str:
    return html.escape(re.sub(r"\s+", " ", segment), quote=False)


def _needle(term: Term) -> str:
    """Return a string every match of the term contains: its first token, extended along a bigram chain."""
    needle = term.tokens[0]
    for token in term.tokens[1:]:
        if not (len(token) == 2 and len(needle) >= 2 and is_cjk(token[0]) and token[0] == needle[-1]):
            break
        needle += token[1]
    return needle


def _candidates(norm: str, terms: list[Term], limit: int) -> list[int]:
    found: list[int] = []
    for term in terms:
        needle, index = _needle(term), -1
        for _ in range(limit):
            index = norm.find(needle, index + 1)
            if index < 0:
                break
            found.append(index)
    return sorted(found)[:limit]


def _widen(text: str, index: int, step: int) -> int:
    """Move a window edge off the middle of a Latin word (at most MAX_TOKEN_CHARS)."""
    for _ in range(MAX_TOKEN_CHARS):
        if not 0 < index < len(text):
            break
        inside = text[index - 1] if step < 0 else text[index]
        if not inside.isalnum() or is_cjk(inside):
            break
        index += step
    return index


_SEPARATORS = re.compile(f"(?:[^\\w{_CJK}]|_)+")  # what may stand between two consecutive Latin words
_WORD_CHAR_AT = re.compile(_WORD_CHAR)

Finder = Callable[[str, int], "tuple[int, int] | None"]


def _exact_finder(term: Term) -> Finder | None:
    """Return a finder whose matches in normalised text are exactly the term's matches, if simple.

    A Chinese word (a chain of bigrams, or one character) matches wherever its characters occur; a
    run of Latin words matches as whole words with only separators between them. Mixed phrases
    return None and are matched by analysing a window of the text. The finders use only patterns
    compiled once: a per-query pattern holding the CJK classes costs about 17 ms to compile, more
    than the rest of an identifier lookup.
    """
    if all(_CJK_CHAR.fullmatch(char) for token in term.tokens for char in token):
        needle = _needle(term)
        if len(needle) == len(term.tokens) + 1 or term.single_cjk_char:
            return partial(_find_literal, needle)
        return None
    if any(_CJK_CHAR.search(token) for token in term.tokens):
        return None
    return partial(_find_words, term.tokens)


def _find_literal(needle: str, norm: str, pos: int) -> tuple[int, int] | None:
    index = norm.find(needle, pos)
    return None if index < 0 else (index, index + len(needle))


def _find_words(words: tuple[str, ...], norm: str, pos: int) -> tuple[int, int] | None:
    """Find the words as whole words, one after the other with only separators between them."""
    first, rest = words[0], words[1:]
    index = norm.find(first, pos)
    while index >= 0:
        end: int | None = index + len(first)
        if index > 0 and _WORD_CHAR_AT.match(norm, index - 1):
            end = None
        for word in rest if end is not None else ():
            gap = _SEPARATORS.match(norm, end)
            if gap is None or not norm.startswith(word, gap.end()):
                end = None
                break
            end = gap.end() + len(word)
        if end is not None and not _WORD_CHAR_AT.match(norm, end):
            return index, end
        index = norm.find(first, index + 1)
    return None


def _exact_spans(
    norm: str, origin: list[int] | None, finders: list[Finder], width: int
) -> list[tuple[int, int]]:
    """Spans of every match from the first one to `width` characters past it (original offsets)."""
    firsts = [found[0] for finder in finders if (found := finder(norm, 0)) is not None]
    if not firsts:
        return []
    first = min(firsts)
    spans: list[tuple[int, int]] = []
    for finder in finders:
        found = finder(norm, first)
        while found is not None and found[0] <= first + width:
            a, b = found
            spans.append((a, b) if origin is None else (origin[a], origin[b - 1] + 1))
            found = finder(norm, b)
    return _merge(spans)


def _find_spans(text: str, terms: list[Term], width: int) -> list[tuple[int, int]]:
    norm, origin = _normalise(text)
    finders = [_exact_finder(term) for term in terms]
    if all(finder is not None for finder in finders):
        return _exact_spans(norm, origin, finders, width)  # type: ignore[arg-type]
    # Analyse only windows around the first places a term could match; analysing a whole long
    # text for every hit would dominate search latency.
    candidates = _candidates(norm, terms, limit=5)
    if not candidates:
        return []
    covered = -1
    for candidate in candidates:
        if origin is not None:
            candidate = origin[candidate]
        if candidate < covered:
            continue
        start = _widen(text, max(0, candidate - MAX_TOKEN_CHARS), -1)
        end = _widen(text, min(len(text), candidate + 2 * width), 1)
        covered = end - MAX_TOKEN_CHARS
        spans = [(a + start, b + start) for a, b in _match_spans(analyze(text[start:end]), terms)]
        if spans:
            return spans
    return _match_spans(analyze(text), terms)


def make_snippet(text: str, terms: Iterable[Term], width: int = 120) -> str:
    """Cut about `width` characters around the first match, escaped, with matches in <mark>."""
    term_list = [term for term in terms if term.tokens]
    spans = _find_spans(text, term_list, width) if term_list else []
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
