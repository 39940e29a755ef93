"""Personal identifiers in free text (OCR output, search queries, audit details).

ID numbers and mobile numbers never rest in plaintext: text is redacted to masked forms and the
values found are kept only as keyed hashes (for exact lookup) or sealed (for authorised display).
"""

from __future__ import annotations

import re

from archive import redaction
from archive.identity import mask
from storage.envelope import Keyring, keyed_hash

# Loose on purpose: an OCR-garbled ID (bad check digit) must still never rest in plaintext.
_ID_LIKE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{15}(?!\d)")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def find_identifiers(text: str) -> list[str]:
    """Every ID-number-like or mobile-number value in the text, normalised, in order; split, prefixed
    and misread forms included (archive/redaction.py)."""
    found = [value for _, _, value in redaction.spans(text)]
    text = redaction.substitute(text, lambda _value: " ")
    found += [m.group(0).upper() for m in _ID_LIKE.finditer(text)]
    found += [m.group(0) for m in _MOBILE.finditer(text)]
    return found


def identifier_spans(text: str) -> list[tuple[int, int]]:
    """Where the identifiers find_identifiers finds lie in the text: (start, end) pairs."""
    found = [(start, end) for start, end, _ in redaction.spans(text)]
    blanked = list(text)
    for start, end in found:
        blanked[start:end] = " " * (end - start)
    rest = "".join(blanked)
    found += [m.span() for pattern in (_ID_LIKE, _MOBILE) for m in pattern.finditer(rest)]
    return sorted(found)


def redact(text: str) -> str:
    """Replace identifiers with their masked form."""
    text = redaction.substitute(text, mask)
    text = _ID_LIKE.sub(lambda m: mask(m.group(0).upper()), text)
    return _MOBILE.sub(lambda m: mask(m.group(0)), text)


def lookup_hash(value: str, keyring: Keyring) -> str:
    return keyed_hash(value.strip().upper(), keyring)


def identifier_hashes(text: str, keyring: Keyring) -> list[str]:
    return sorted({lookup_hash(value, keyring) for value in find_identifiers(text)})
