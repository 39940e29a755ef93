import pytest

from archive.errors import ValidationError
from archive.identity import (
    classify_identifier,
    is_resident_id,
    is_uscc,
    mask,
    resident_id_check_digit,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)
from archive.pii import find_identifiers, redact

# Published examples: GB 11643's sample number and a real company's credit code.
GB11643_SAMPLE = "11010519491231002X"
USCC_SAMPLE = "91350100M000100Y43"


def test_the_gb_11643_sample_number_is_valid_and_a_changed_digit_is_not():
    assert is_resident_id(GB11643_SAMPLE)
    assert validate_resident_id(GB11643_SAMPLE.lower()) == GB11643_SAMPLE
    assert not is_resident_id("110105194912310021")
    with pytest.raises(ValidationError, match="GB 11643"):
        validate_resident_id("110105194912310021")


def test_an_id_number_with_an_impossible_birth_date_is_invalid():
    first17 = "11010519490231002"
    assert not is_resident_id(first17 + resident_id_check_digit(first17))


def test_a_unified_social_credit_code_is_checked_per_gb_32100():
    assert is_uscc(USCC_SAMPLE)
    assert uscc_check_char(USCC_SAMPLE[:17]) == "3"
    with pytest.raises(ValidationError, match="GB 32100"):
        validate_uscc(USCC_SAMPLE[:17] + "4")
    with pytest.raises(ValidationError, match="18"):
        validate_uscc("91350100M000100Y4")


def test_a_customer_key_is_classified_as_resident_id_or_credit_code():
    assert classify_identifier(GB11643_SAMPLE) == ("resident_id", GB11643_SAMPLE)
    assert classify_identifier(USCC_SAMPLE) == ("uscc", USCC_SAMPLE)
    with pytest.raises(ValidationError, match="neither"):
        classify_identifier("12345")


def test_masking_keeps_only_the_ends():
    assert mask(GB11643_SAMPLE) == "110105********002X"
    assert mask("13812345678") == "138****5678"


def test_redaction_masks_id_and_mobile_numbers_in_free_text_even_with_a_bad_check_digit():
    text = f"身份证 {GB11643_SAMPLE} 电话13812345678 错号110105194912310021 合同HT-2024-0001"
    redacted = redact(text)
    assert GB11643_SAMPLE not in redacted and "13812345678" not in redacted
    assert "110105194912310021" not in redacted
    assert "HT-2024-0001" in redacted and "138****5678" in redacted
    assert set(find_identifiers(text)) == {GB11643_SAMPLE, "13812345678", "110105194912310021"}
