"""Image preparation without tesseract: skew and side detection, paper cleanup, text tidying."""

from __future__ import annotations

import pytest
from PIL import Image

from archive.demo.samples import render_scan
from ocr.deskew import measure_skew, otsu_threshold
from ocr.prepare import clean_background
from ocr.tesseract import normalize_cjk_text

LINES = [
    "供用电合同",
    "合同编号 HT-2024-0001",
    "客户名称 国网测试供电公司",
    "用电地址 北京市海淀区中关村大街1号",
    "联系电话 13812345678",
    "用电人应于每月15日前交清上月电费，逾期按日加收违约金。",
]


@pytest.mark.parametrize("degrees", [-3.7, -1.2, 0.0, 0.8, 2.5, 4.5])
def test_the_skew_of_a_page_is_measured_to_a_tenth_of_a_degree(degrees: float) -> None:
    page = render_scan(LINES, dpi=300, skew_degrees=degrees)

    skew = measure_skew(page)

    # The page was turned counter-clockwise by degrees: turning it back levels it.
    assert skew.angle == pytest.approx(-degrees, abs=0.15)
    assert not skew.sideways


def test_the_skew_of_a_noisy_blurred_page_is_measured() -> None:
    page = render_scan(LINES, dpi=300, skew_degrees=2.2, noise=0.1, blur=1.0, seed=3)

    assert measure_skew(page).angle == pytest.approx(-2.2, abs=0.15)


@pytest.mark.parametrize("quarter_turns", [1, 3])
def test_a_page_lying_on_its_side_is_recognised_as_sideways(quarter_turns: int) -> None:
    page = render_scan(LINES * 3, dpi=150).rotate(90 * quarter_turns, expand=True)

    assert measure_skew(page).sideways


def test_an_upside_down_page_is_not_sideways() -> None:
    page = render_scan(LINES * 3, dpi=150).rotate(180)

    assert not measure_skew(page).sideways


def test_a_blank_page_is_level_and_upright() -> None:
    skew = measure_skew(Image.new("L", (1240, 1754), 255))

    assert (skew.angle, skew.sideways, skew.ink) == (0.0, False, False)


def test_otsu_splits_two_levels_between_them() -> None:
    histogram = [0] * 256
    histogram[30], histogram[220] = 1000, 9000

    assert 30 <= otsu_threshold(histogram) < 220


@pytest.mark.parametrize("lines", [LINES[:2], LINES * 4])
def test_a_clean_page_is_left_as_it_is(lines: list[str]) -> None:
    page = render_scan(lines, dpi=300, blur=1.0)

    assert clean_background(page) is page


def test_a_dense_noisy_page_is_left_as_it_is() -> None:
    page = render_scan(LINES * 4, dpi=300, noise=0.1, blur=1.0)

    assert clean_background(page) is page


@pytest.mark.parametrize("noise", [0.08, 0.16, 0.3])
def test_the_paper_noise_of_a_sparse_page_is_whitened_and_its_ink_kept(noise: float) -> None:
    clean = render_scan(LINES[:2], dpi=300)
    noisy = render_scan(LINES[:2], dpi=300, noise=noise, blur=1.0, seed=5)
    ink = [index for index, value in enumerate(clean.tobytes()) if value < 64]

    cleaned = clean_background(noisy)

    pixels = cleaned.tobytes()
    speckle = sum(1 for value in pixels if value < 255)
    assert speckle < 2 * len(ink)  # little is left but the ink and its blurred edges
    assert sum(1 for index in ink if pixels[index] < 200) > 0.9 * len(ink)
    assert cleaned.info.get("dpi") == noisy.info.get("dpi")


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("合 同 编 号 : HT-2024-8764", "合同编号：HT-2024-8764"),
        ("签 订 日 期 :2024 年 6 月 9 日", "签订日期：2024 年 6 月 9 日"),
        ("供 电 人 ( 盖 章 )", "供电人（盖章）"),
        ("张 伟 , 李 娜", "张伟，李娜"),
        ("容 量 315kVA, 电 压 10kV; 用 电", "容量 315kVA，电压 10kV；用电"),
        ("是 否 ? 是 ; 否 !", "是否？是；否！"),
        ("用 电 人 (Ge)", "用电人 (Ge)"),
        ("Contact: Li Na, phone 138", "Contact: Li Na, phone 138"),
        ("金 额 1,000.00 元", "金额 1,000.00 元"),
        ("f(x) = 1", "f(x) = 1"),
    ],
)
def test_punctuation_after_chinese_is_written_full_width_and_latin_punctuation_kept(raw: str, tidy: str) -> None:
    assert normalize_cjk_text(raw) == tidy
