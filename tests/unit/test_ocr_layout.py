"""Reading order from tesseract's blocks, text size and table rules: no tesseract needed."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from archive.demo.samples import find_cjk_font, render_scan
from ocr.base import WordBox
from ocr.layout import COLUMNS, LINES, TABLE, arrange_lines, text_line_height
from ocr.prepare import remove_rules, upscale_factor
from ocr.tesseract import TextLine


def _line(block: int, top: int, left: int, *texts: str, width: int = 60) -> TextLine:
    words = [WordBox(text, 90.0, left + index * (width + 10), top, width, 20) for index, text in enumerate(texts)]
    return TextLine(paragraph=(1, block, 1), words=words)


def _text(lines: list[TextLine]) -> list[str]:
    return [" ".join(word.text for word in line.words) for line in lines]


def test_table_columns_read_as_blocks_are_put_back_together_row_by_row() -> None:
    labels = [_line(1, 100 + 40 * row, 50, label) for row, label in enumerate(["户名", "户号", "电量"])]
    values = [_line(2, 102 + 40 * row, 400, value) for row, value in enumerate(["张伟", "1038", "420"])]

    lines, layout = arrange_lines([*labels, *values])

    assert _text(lines) == ["户名 张伟", "户号 1038", "电量 420"]
    assert layout == TABLE


def test_text_in_two_columns_keeps_tesseracts_column_by_column_order() -> None:
    words = ("the", "meter", "was", "read", "on", "time")
    left = [_line(1, 100 + 30 * row, 50, *words, width=40) for row in range(4)]
    right = [_line(2, 100 + 30 * row, 600, *words, width=40) for row in range(4)]

    lines, layout = arrange_lines([*left, *right])

    assert lines == [*left, *right]
    assert layout == COLUMNS


def test_one_column_of_running_text_is_read_as_lines() -> None:
    text = [_line(1, 100 + 30 * row, 50, "this", "agreement", "is", "made", "here", width=50) for row in range(3)]

    lines, layout = arrange_lines(text)

    assert lines == text and layout == LINES


def test_the_line_height_of_a_page_is_measured_and_small_screenshots_are_enlarged() -> None:
    page = render_scan(["供用电合同 第一条", "用电人应于每月15日前交清上月电费", "供电人应按时供电"], dpi=300, font_pt=12)
    height = text_line_height(page.convert("L"))

    assert height is not None and 40 <= height <= 70
    assert upscale_factor((957, 307), 96, 11)[0] > 2
    assert upscale_factor((2000, 2500), 96, 24) == (1.0, 96)


def test_a_tables_solid_rules_are_whitened_and_its_text_kept() -> None:
    page = Image.new("L", (1600, 900), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(find_cjk_font()), 40)
    for row in range(5):
        draw.line([(100, 100 + row * 150), (1500, 100 + row * 150)], fill=0, width=4)
    for x in (100, 600, 1500):
        draw.line([(x, 100), (x, 700)], fill=0, width=4)
    for row in range(4):
        draw.text((130, 150 + row * 150), "一二三 HT-2024-0107", fill=0, font=font)

    cleaned = remove_rules(page, text_line_height(page))

    assert cleaned.getpixel((1000, 100)) == 255 and cleaned.getpixel((600, 400)) == 255
    for row in range(4):
        text = (110, 130 + row * 150, 590, 230 + row * 150)
        assert cleaned.crop(text).tobytes() == page.crop(text).tobytes()
