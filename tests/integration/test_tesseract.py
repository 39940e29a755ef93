"""Text recognition with the real tesseract program and its chi_sim + eng language data."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image

from archive.demo.samples import render_scan
from ocr.base import RecognitionError, RecognizedText
from ocr.tesseract import TesseractRecognizer, normalize_cjk_spacing

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")

CONTRACT = [
    "供用电合同",
    "合同编号 HT-2024-0001",
    "客户名称 国网测试供电公司",
    "用电地址 北京市海淀区中关村大街1号",
]


@pytest.fixture(scope="module")
def recognizer() -> TesseractRecognizer:
    # A timeout turns a pathological page into a failure instead of a stalled test run.
    return TesseractRecognizer("chi_sim+eng", timeout=120)


@pytest.fixture(scope="module")
def contract_page() -> Image.Image:
    return render_scan(CONTRACT, dpi=300)


@pytest.fixture(scope="module")
def contract_text(recognizer: TesseractRecognizer, contract_page: Image.Image) -> RecognizedText:
    return recognizer.recognize(contract_page)


def test_chinese_words_and_the_contract_number_are_recognised(contract_text: RecognizedText) -> None:
    for expected in ("供用电合同", "合同编号", "HT-2024-0001", "客户名称", "国网测试供电公司", "中关村大街"):
        assert expected in contract_text.text


def test_recognised_chinese_has_no_spaces_between_characters(contract_text: RecognizedText) -> None:
    assert "合同编号 HT-2024-0001" in contract_text.text
    assert "供 用" not in contract_text.text


def test_a_clean_scan_is_recognised_with_high_confidence(contract_text: RecognizedText) -> None:
    assert contract_text.confidence > 60


def test_each_recognised_word_has_a_box_on_the_page(
    contract_text: RecognizedText, contract_page: Image.Image
) -> None:
    width, height = contract_page.size

    assert len(contract_text.words) >= 8
    for word in contract_text.words:
        assert word.text.strip()
        assert 0 <= word.left < word.left + word.width <= width
        assert 0 <= word.top < word.top + word.height <= height
    number = next(word for word in contract_text.words if "HT-2024-0001" in word.text)
    assert number.confidence > 60


def test_a_degraded_scan_still_yields_the_title_and_contract_number(recognizer: TesseractRecognizer) -> None:
    page = render_scan(CONTRACT, dpi=300, skew_degrees=1.5, noise=0.08, blur=1.0, seed=7)

    result = recognizer.recognize(page)

    assert "供用电合同" in result.text
    assert "HT-2024-0001" in result.text


def test_a_sparse_noisy_page_does_not_stall_recognition(recognizer: TesseractRecognizer) -> None:
    # With tesseract's default global Otsu this page takes minutes: the threshold falls inside
    # the background noise and the whole page becomes speckle.
    page = render_scan(CONTRACT[:2], dpi=300, noise=0.08, blur=1.0)

    result = recognizer.recognize(page)

    assert "HT-2024-0001" in result.text


def test_a_blank_page_gives_no_text_and_zero_confidence(recognizer: TesseractRecognizer) -> None:
    result = recognizer.recognize(render_scan([], dpi=150))

    assert (result.text, result.confidence, result.words) == ("", 0.0, [])


def test_missing_language_data_raises_a_recognition_error_naming_the_language() -> None:
    with pytest.raises(RecognitionError, match="xyz"):
        TesseractRecognizer("xyz").recognize(Image.new("L", (200, 100), 255))


@pytest.mark.parametrize("quarter_turns", [0, 1, 2, 3])
def test_the_orientation_of_a_turned_page_is_detected(
    recognizer: TesseractRecognizer, quarter_turns: int
) -> None:
    page = render_scan(CONTRACT * 3, dpi=200)
    turned = page.rotate(90 * quarter_turns, expand=True)  # counter-clockwise

    rotation = recognizer.detect_orientation(turned)

    assert rotation == (90 * quarter_turns) % 360
    assert turned.rotate(-rotation, expand=True).size == page.size


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("供 用 电 合 同", "供用电合同"),
        ("合 同 编 号 HT-2024-0001", "合同编号 HT-2024-0001"),
        ("用 电 地 址 : 北 京 市", "用电地址 : 北京市"),
        ("地 址 ： 北 京 市 ， 海 淀 区 。", "地址：北京市，海淀区。"),
        ("编 号 ： HT-2024-0001 ， 金 额 100 元", "编号：HT-2024-0001，金额 100 元"),
        ("《 供 用 电 合 同 》 第 3 条", "《供用电合同》第 3 条"),
        ("“ 甲 方 ” 与 “ 乙 方 ”", "“甲方”与“乙方”"),
        ("He said “hello” to me", "He said “hello” to me"),
        ("Contract No. 42 of 2024", "Contract No. 42 of 2024"),
        ("第 一 行\n第 二 行", "第一行\n第二行"),
        ("𠀀 𠀁 字", "𠀀𠀁字"),
        ("", ""),
    ],
)
def test_spaces_between_chinese_characters_are_removed_and_latin_spaces_kept(
    raw: str, normalised: str
) -> None:
    assert normalize_cjk_spacing(raw) == normalised
