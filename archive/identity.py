"""Chinese identity numbers: resident ID (GB 11643) and unified social credit code (GB 32100)."""

from __future__ import annotations

import re
from datetime import date

from archive.errors import ValidationError

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

RESIDENT_ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:19|20)\d{2}\d{2}\d{2}\d{3}[\dXx](?![0-9A-Za-z])")
USCC_PATTERN = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}(?![0-9A-Z])")
MOBILE_PATTERN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def resident_id_check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_resident_id(value: str) -> bool:
    value = value.strip().upper()
    if not re.fullmatch(r"[1-9]\d{16}[\dX]", value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return resident_id_check_digit(value[:17]) == value[17]


def validate_resident_id(value: str) -> str:
    """Return the normalised 18-character ID number or raise ValidationError."""
    normalised = value.strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", normalised):
        raise ValidationError("居民身份证号码必须为18位 / a resident ID number has 18 characters",
                              code="resident_id_format", field="identifier")
    if not is_resident_id(normalised):
        raise ValidationError("居民身份证号码校验失败 / resident ID number fails the GB 11643 check",
                              code="resident_id_check", field="identifier")
    return normalised


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def is_uscc(value: str) -> bool:
    value = value.strip().upper()
    if len(value) != 18 or any(c not in _USCC_ALPHABET for c in value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def validate_uscc(value: str) -> str:
    """Return the normalised unified social credit code or raise ValidationError."""
    normalised = value.strip().upper()
    if len(normalised) != 18 or any(c not in _USCC_ALPHABET for c in normalised):
        raise ValidationError("统一社会信用代码必须为18位数字或大写字母 / a credit code has 18 digits or capitals",
                              code="uscc_format", field="identifier")
    if not is_uscc(normalised):
        raise ValidationError("统一社会信用代码校验失败 / unified social credit code fails the GB 32100 check",
                              code="uscc_check", field="identifier")
    return normalised


def classify_identifier(value: str) -> tuple[str, str]:
    """Tell whether a customer key is a resident ID or a credit code; return (id_type, normalised)."""
    normalised = value.strip().upper()
    if re.fullmatch(r"\d{17}[\dX]", normalised):
        return "resident_id", validate_resident_id(normalised)
    if len(normalised) == 18:
        return "uscc", validate_uscc(normalised)
    raise ValidationError(
        f"{value!r} is neither an 18-digit resident ID number nor an 18-character unified social credit code",
        code="identifier_format", field="identifier",
    )


ID_TYPES = ("resident_id", "uscc")


def validate_identifier(id_type: str, value: str) -> str:
    """Check value as the chosen kind of key (resident_id or uscc); return it normalised or raise
    ValidationError (code and field set, for a form to show beside the field)."""
    if id_type == "resident_id":
        return validate_resident_id(value)
    if id_type == "uscc":
        return validate_uscc(value)
    raise ValidationError(f"unknown identifier kind {id_type!r}", code="identifier_kind", field="id_type")


def mask(value: str) -> str:
    """Mask an identifier: keep the first 6 and last 4 characters (phones: first 3, last 4)."""
    if len(value) == 11 and value.isdigit():
        return value[:3] + "****" + value[-4:]
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
