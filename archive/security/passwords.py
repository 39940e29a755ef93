"""Password policy (ASVS 2.1): 12 to 128 characters, any characters, not a common password."""

from __future__ import annotations

import unicodedata
from functools import cache

from archive.errors import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's maintained frequency list, lower-cased."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password(password: str) -> None:
    """Raise ValidationError naming the rule a new password breaks."""
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) < MIN_LENGTH:
        raise ValidationError(f"密码至少需要{MIN_LENGTH}个字符 / a password needs at least {MIN_LENGTH} characters",
                              code="password_too_short", params={"min": MIN_LENGTH}, field="password")
    if len(normalised) > MAX_LENGTH:
        raise ValidationError(f"密码最多{MAX_LENGTH}个字符 / a password has at most {MAX_LENGTH} characters",
                              code="password_too_long", params={"max": MAX_LENGTH}, field="password")
    folded = normalised.lower()
    if folded in common_passwords() or folded.strip("0123456789!@#$%^&*.") in common_passwords():
        raise ValidationError("该密码过于常见 / this password is too common; choose another", code="password_common",
                              field="password")
    if len(set(folded)) < 4:
        raise ValidationError("密码字符过于单一 / a password needs more different characters", code="password_monotonous",
                              field="password")
