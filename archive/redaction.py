"""One redaction for everything a user types or OCR reads (titles, names, notes, file names, queries,
filters, OCR text): ID numbers and mobile numbers in every way people and OCR write them.

Found, besides the plain 18/15-digit and 11-digit forms (archive/pii.py keeps those loose on purpose):
- numbers split by spaces, hyphens, dots or no-break spaces (`320102 19800101 1238`, `139-1234-5678`),
  mobiles after a country code (`+86-158-0000-1111`, `0086 158…`, `(+86)158…`);
- an ID number with one character misread by OCR (`O` for 0, `l` for 1, `B` for 8, …) when the
  corrected number has a valid birth date and check digit (GB 11643).
A split form counts only with evidence: an ID number's birth date must be valid (its check digit may
be misread), a mobile must start 13–19 and be split in at most three groups; so a row of figures in a
table is left alone. Each found value is returned normalised (digits, upper-case X) for keyed hashing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

from archive.identity import is_resident_id, mask

_SEP = "[ \\-.\u00a0\u3000]"
# Digit groups joined by single separators, with an optional country code and a final X.
_RUN = re.compile(
    rf"(?<![0-9A-Za-z+])(?P<cc>(?:\+|00|\(\+?)86\)?{_SEP}*)?(?P<body>\d+(?:{_SEP}\d+)*(?:{_SEP}?[Xx])?)(?![0-9A-Za-z])"
)
_TOKEN = re.compile(r"(?<![0-9A-Za-z|])[0-9A-Za-z|]{18}(?![0-9A-Za-z|])")
_PLAIN_ID = re.compile(r"\d{17}[\dXx]|\d{15}")
_PLAIN_MOBILE = re.compile(r"1[3-9]\d{9}")
_CONFUSABLE = {
    "O": "0", "o": "0", "D": "0", "Q": "0", "U": "0",
    "I": "1", "l": "1", "i": "1", "|": "1", "L": "1", "J": "1",
    "Z": "2", "z": "2", "E": "3", "A": "4", "S": "5", "s": "5",
    "G": "6", "b": "6", "T": "7", "B": "8", "g": "9", "q": "9",
}


def _valid_birth(digits: str) -> bool:
    try:
        born = date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= date.today().year


def _kind(digits: str, groups: int, country_code: bool) -> str | None:
    """What a split run of digits is, when the evidence is good enough: 'id', 'mobile' or None."""
    if not country_code and len(digits) == 18 and digits[:17].isdigit() and _valid_birth(digits):
        return "id"
    if len(digits) == 11 and _PLAIN_MOBILE.fullmatch(digits) and (groups <= 3 or country_code):
        return "mobile"
    return None


def _split_runs(text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, normalised value, kind) of separated numbers and country-code mobiles."""
    for match in _RUN.finditer(text):
        body, cc = match.group("body"), match.group("cc")
        if cc is None and not re.search(_SEP, body):
            continue  # an unseparated number: the plain patterns handle it
        groups = [(m.start() + match.start("body"), m.end() + match.start("body"), m.group(0))
                  for m in re.finditer(r"\d+|[Xx]", body)]
        i = 0
        while i < len(groups):
            found = None
            for j in range(len(groups), i, -1):  # the longest segment of groups that is a number
                digits = "".join(g[2] for g in groups[i:j]).upper()
                kind = _kind(digits, j - i, cc is not None and i == 0)
                if kind:
                    found = (j, digits, kind)
                    break
            if found is None:
                i += 1
                continue
            j, digits, kind = found
            start = match.start() if (cc is not None and i == 0) else groups[i][0]
            if j - i > 1 or (cc is not None and i == 0):
                yield start, groups[j - 1][1], digits, kind
            i = j


def _misread_ids(text: str) -> Iterator[tuple[int, int, str]]:
    """18-character tokens that are an ID number once one misread character is corrected."""
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        wrong = [k for k, c in enumerate(token[:17]) if not c.isdigit()]
        last = token[17].upper()
        if last not in "0123456789X":
            if len(wrong) == 0 and last in _CONFUSABLE:
                wrong, last = [17], last
            else:
                continue
        if len(wrong) != 1 or token[wrong[0]] not in _CONFUSABLE:
            continue
        k = wrong[0]
        # The usual confusion first (O for 0, l for 1, …), then any digit: the date and check digit decide.
        for digit in dict.fromkeys(_CONFUSABLE[token[k]] + "0123456789"):
            fixed = token[:k] + digit + token[k + 1:]
            fixed = fixed[:17] + fixed[17].upper()
            if is_resident_id(fixed):
                yield match.start(), match.end(), fixed
                break


def spans(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, normalised value) of every identifier found beyond the plain forms."""
    found: list[tuple[int, int, str]] = [(s, e, v) for s, e, v, _ in _split_runs(text)]
    found += list(_misread_ids(text))
    found.sort()
    kept: list[tuple[int, int, str]] = []
    for span in found:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


def substitute(text: str, replace: Callable[[str], str]) -> str:
    """Replace each found identifier by replace(normalised value)."""
    out, last = [], 0
    for start, end, value in spans(text):
        out += [text[last:start], replace(value)]
        last = end
    out.append(text[last:])
    return "".join(out)


def masked(value: str) -> str:
    return mask(value)
