"""The OCR pipeline with the real tesseract: skew, orientation, seals, languages and word boxes."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from archive.demo.samples import VARIANTS, render_scan, sample_pages, write_scan
from ocr.base import RecognizedText, WordBox
from ocr.inputs import iter_pages
from ocr.pipeline import OcrPipeline
from ocr.tesseract import TesseractRecognizer

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")

CONTRACT = [
    "供用电合同",
    "客户名称 国网测试供电公司",
    "用电地址 北京市海淀区中关村大街1号",
    "联系电话 13812345678",
    "用电人应于每月15日前交清上月电费，逾期按日加收违约金。",
]
EXPECTED = ("供用电合同", "国网测试供电公司", "中关村大街", "13812345678", "交清上月电费")


@pytest.fixture(scope="module")
def pipeline() -> OcrPipeline:
    # A timeout turns a pathological page into a failure instead of a stalled test run.
    return OcrPipeline(TesseractRecognizer("chi_sim+eng", timeout=120))


@pytest.fixture(scope="module")
def upright(pipeline: OcrPipeline) -> tuple[Image.Image, RecognizedText]:
    page = render_scan(CONTRACT, dpi=300)
    return page, pipeline.recognize_page(page, 300)


def _word(result: RecognizedText, text: str) -> WordBox:
    return next(word for word in result.words if text in word.text)


def test_an_upright_page_is_read_with_confident_words_on_the_page(
    upright: tuple[Image.Image, RecognizedText],
) -> None:
    page, result = upright

    for expected in EXPECTED:
        assert expected in result.text
    assert result.confidence > 80
    for word in result.words:
        assert 0 <= word.left < word.left + word.width <= page.width
        assert 0 <= word.top < word.top + word.height <= page.height


@pytest.mark.parametrize("degrees", [-3.5, 2.0])
def test_a_skewed_page_is_deskewed_and_read(pipeline: OcrPipeline, degrees: float) -> None:
    page = render_scan(CONTRACT, dpi=300, skew_degrees=degrees)

    result = pipeline.recognize_page(page, 300)

    for expected in EXPECTED:
        assert expected in result.text


@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_a_page_turned_on_its_side_or_upside_down_is_read(pipeline: OcrPipeline, quarter_turns: int) -> None:
    page = render_scan(CONTRACT * 2, dpi=250).rotate(90 * quarter_turns, expand=True)

    result = pipeline.recognize_page(page, 250)

    for expected in EXPECTED:
        assert expected in result.text


def test_word_boxes_of_a_turned_low_resolution_page_are_in_its_own_coordinates(
    pipeline: OcrPipeline, upright: tuple[Image.Image, RecognizedText]
) -> None:
    page, result = upright
    half = page.resize((page.width // 2, page.height // 2), Image.Resampling.LANCZOS)
    turned = half.rotate(90, expand=True)  # counter-clockwise: (x, y) goes to (y, width - x)

    turned_result = pipeline.recognize_page(turned, 150)

    original, found = _word(result, "13812345678"), _word(turned_result, "13812345678")
    expected = (
        original.top / 2,
        half.width - (original.left + original.width) / 2,
        original.height / 2,
        original.width / 2,
    )
    assert (found.left, found.top, found.width, found.height) == pytest.approx(expected, abs=8)


def test_word_boxes_of_a_skewed_page_lie_on_its_ink(pipeline: OcrPipeline) -> None:
    page = render_scan(CONTRACT, dpi=300, skew_degrees=3.0)

    result = pipeline.recognize_page(page, 300)

    number = _word(result, "13812345678")
    crop = page.crop((number.left, number.top, number.left + number.width, number.top + number.height))
    assert crop.getextrema()[0] < 64  # dark ink inside the box
    assert number.width > 5 * number.height  # the box follows the (nearly level) line


def test_text_under_a_red_seal_is_read(pipeline: OcrPipeline) -> None:
    contract = sample_pages(VARIANTS[0], 1)[0]  # a supply contract, sealed over its signature block
    assert contract.kind == "supply_contract" and contract.image.mode == "RGB"

    result = pipeline.recognize_page(contract.image, contract.dpi)

    assert "供电人（盖章）" in result.text
    assert result.text.count("签订日期：") == 2


def test_chinese_after_numbers_is_not_read_as_latin_letters(pipeline: OcrPipeline) -> None:
    form = sample_pages(VARIANTS[0], 2)[1]  # an application form; its digits precede Chinese fields
    assert form.kind == "application_form"

    result = pipeline.recognize_page(form.image, form.dpi)

    # chi_sim+eng alone reads 申请人承诺 as "Finis" and 叶建宇 as "HES" on this page.
    latin = set(re.findall("[A-Za-z]+", result.text))
    assert latin and latin <= set(re.findall("[A-Za-z]+", form.truth))
    assert "叶建宇" in result.text


def test_contract_and_work_order_numbers_keep_their_hyphens(pipeline: OcrPipeline) -> None:
    # chi_sim alone reads "HT-2024-0107" as "HT2024-0107"; search matches the number exactly.
    lines = ["合同编号 HT-2024-0107", "合同编号：HT-2021-5321", "工单编号：GD20241113-0537", "容量 315kVA 电压 10kV"]
    page = render_scan(lines, dpi=300)

    result = pipeline.recognize_page(page, 300)

    for number in ("HT-2024-0107", "HT-2021-5321", "GD20241113-0537", "315kVA", "10kV"):
        assert number in result.text


def test_english_lines_are_read_with_every_configured_language(pipeline: OcrPipeline) -> None:
    lines = [
        "供用电合同 英文译本",
        "POWER SUPPLY AGREEMENT",
        "This agreement is made between State Grid Beijing Electric Power Company",
        "(the Supplier) and Beijing Huadian Technology Co., Ltd. (the Customer).",
        "用电人应于每月15日前交清上月电费。",
    ]
    page = render_scan(lines, dpi=300)

    result = pipeline.recognize_page(page, 300)

    for line in lines[1:4]:
        assert line in result.text
    assert "供用电合同英文译本" in result.text
    assert "交清上月电费" in result.text


def test_a_150_dpi_scan_is_read(pipeline: OcrPipeline) -> None:
    page = render_scan(CONTRACT, dpi=150)

    result = pipeline.recognize_page(page, 150)

    for expected in EXPECTED:
        assert expected in result.text
    assert max(word.left + word.width for word in result.words) <= page.width


def test_a_sparse_very_noisy_page_is_read_without_stalling(pipeline: OcrPipeline) -> None:
    page = render_scan(CONTRACT[:2], dpi=300, noise=0.3, blur=1.0, seed=11)

    result = pipeline.recognize_page(page, 300)

    assert "供用电合同" in result.text
    assert "国网测试供电公司" in result.text


def test_a_group4_fax_page_is_read(pipeline: OcrPipeline, tmp_path: Path) -> None:
    path = write_scan(tmp_path / "fax.tif", CONTRACT, format="TIFF", dpi=200, tiff_compression="group4")
    (page,) = iter_pages(path)

    result = pipeline.recognize_page(page.image, page.dpi)

    assert page.image.mode == "1"
    for expected in EXPECTED:
        assert expected in result.text


def test_a_blank_page_gives_no_text_and_zero_confidence(pipeline: OcrPipeline) -> None:
    result = pipeline.recognize_page(Image.new("L", (1240, 1754), 255), 150)

    assert (result.text, result.confidence, result.words) == ("", 0.0, [])


def test_a_page_in_english_is_read_with_the_latin_language_alone_as_raw_tesseract_reads_it(
    pipeline: OcrPipeline,
) -> None:
    lines = ["POWER SUPPLY AGREEMENT", "This agreement is made between the Supplier and the Customer.",
             "The Customer pays each invoice within fifteen days of receiving it.",
             "Meter readings are taken on the first working day of every month."]
    page = render_scan(lines, dpi=300)

    result = pipeline.recognize_page(page, 300)

    assert result.languages == "eng"
    for line in lines:
        assert line in result.text
    assert len(result.text.split()) == len(" ".join(lines).split())


def test_text_in_two_columns_is_read_column_by_column() -> None:
    from benchmarks.ocr_layouts import two_column_page

    page = two_column_page(random.Random(7))
    result = OcrPipeline(TesseractRecognizer("chi_sim+eng", timeout=120)).recognize_page(page.image, page.dpi)

    assert result.layout == "columns"
    text = result.text.replace(" ", "")
    assert text.index("供用电合同条款") < text.index("第1条") < text.index("第6条") < text.index("第7条")


def test_a_ruled_table_is_read_row_by_row_with_its_codes_intact(pipeline: OcrPipeline) -> None:
    from benchmarks.ocr_layouts import table_page

    page = table_page(random.Random(3))
    result = pipeline.recognize_page(page.image, page.dpi)

    rows = page.truth.splitlines()[2:]
    read = [line.replace(" ", "") for line in result.text.splitlines()]
    whole = [row for row in rows if any(row.split()[2] in line and row.split()[3] in line
                                        and line.index(row.split()[2]) < line.index(row.split()[3]) for line in read)]
    # A row's account number and contract number come out on one line, in order. Not yet every
    # row: chi_sim reads a stray quote into the wide gap before a contract number now and then,
    # which keeps the hyphen rule from applying.
    assert len(whole) >= 8, result.text
    assert result.layout == "table" and "|" not in result.text


def test_a_mixed_form_keeps_codes_and_an_id_number_ending_in_x(pipeline: OcrPipeline) -> None:
    lines = ["用电申请书", "申请人 张伟 身份证号码 11010519491231002X", "合同编号 HT-2024-0107 户号 1038204455",
             "Contact: Zhang Wei, Beijing Huadian Technology Co., Ltd."]
    result = pipeline.recognize_page(render_scan(lines, dpi=300), 300)

    text = result.text.replace(" ", "")
    assert "11010519491231002X" in text and "HT-2024-0107" in text and "1038204455" in text
    assert "用电申请书" in text and "BeijingHuadianTechnology" in text
