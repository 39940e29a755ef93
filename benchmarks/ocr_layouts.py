"""Generated pages in the layouts archive.demo.samples does not draw: a ruled table and two text columns.

Both are A4 at 300 dpi in the CJK font archive.demo.samples uses (ARCHIVE_CJK_FONT picks another, as
benchmarks/ocr_bench.py does for its second typeface). The truth is the reading order a person
uses: a table row by row (the cells of a row separated by spaces), the left column before the right.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageFont

from archive.demo.samples import SamplePage, find_cjk_font

DPI = 300
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志红玉梅金凤文斌飞鹏辉宇浩然晨阳欣怡"
_USES = ["居民生活", "一般工商业", "大工业", "农业生产"]
_CLAUSES = [
    "供电人应按照国家规定的电能质量标准向用电人供电",
    "用电人应于每月十五日前交清上月电费",
    "逾期未交的按日加收电费滞纳金",
    "双方应共同维护供用电设施的安全运行",
    "计量装置由供电人统一安装并定期校验",
    "用电人变更用电性质应提前向供电人申请",
    "因不可抗力造成的停电双方互不承担责任",
    "本合同一式两份双方各执一份具有同等效力",
    "合同期满前一个月双方可协商续签事宜",
    "用电人不得擅自改变用电类别或转供电",
    "供电设施的产权分界点以双方协议为准",
    "发生争议时双方应本着诚信原则协商解决",
]


def _px(mm: float) -> int:
    return round(mm / 25.4 * DPI)


def _font(pt: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(find_cjk_font()), size=round(pt / 72 * DPI))


def _blank() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (_px(210), _px(297)), 255)
    return image, ImageDraw.Draw(image)


def table_page(rng: random.Random) -> SamplePage:
    """A meter-reading list: a ruled grid of a header row and ten rows of Chinese, codes and numbers."""
    image, draw = _blank()
    font, title = _font(11), _font(16)
    draw.text((_px(70), _px(25)), "抄表电费清单", fill=0, font=title)
    header = ["序号", "户名", "户号", "合同编号", "用电类别", "电量", "金额"]
    widths = [14, 24, 30, 36, 28, 20, 24]
    rows = [header]
    for number in range(1, 11):
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))
        rows.append([
            str(number), name, f"{rng.randint(10**9, 10**10 - 1)}", f"HT-2024-{rng.randint(1, 9999):04d}",
            rng.choice(_USES), str(rng.randint(50, 9999)), f"{rng.randint(20, 9999)}.{rng.randint(0, 99):02d}",
        ])
    left, top, row_mm = 18.0, 40.0, 10.0
    right = left + sum(widths)
    for index in range(len(rows) + 1):
        y = _px(top + index * row_mm)
        draw.line([(_px(left), y), (_px(right), y)], fill=0, width=3)
    x = left
    for width in [0, *widths]:
        x += width
        draw.line([(_px(x), _px(top)), (_px(x), _px(top + len(rows) * row_mm))], fill=0, width=3)
    for index, row in enumerate(rows):
        x = left
        for cell, width in zip(row, widths, strict=True):
            draw.text((_px(x + 2), _px(top + index * row_mm + 2.5)), cell, fill=0, font=font)
            x += width
    truth = "\n".join(["抄表电费清单", *(" ".join(row) for row in rows)])
    return SamplePage("table", image, DPI, truth)


def two_column_page(rng: random.Random) -> SamplePage:
    """A page of numbered clauses set in two columns, each clause wrapped to its column's width."""
    image, draw = _blank()
    font, title = _font(11), _font(16)
    draw.text((_px(75), _px(25)), "供用电合同条款", fill=0, font=title)
    clauses = rng.sample(_CLAUSES, len(_CLAUSES))
    per_line = 14  # characters of 11 pt in a column of 72 mm
    columns: list[list[str]] = [[], []]
    for number, clause in enumerate(clauses, start=1):
        text = f"第{number}条 {clause}。"
        columns[0 if number <= len(clauses) // 2 else 1] += [text[i:i + per_line] for i in range(0, len(text), per_line)]
    for column, x_mm in zip(columns, (20.0, 112.0), strict=True):
        for index, line in enumerate(column):
            draw.text((_px(x_mm), _px(42 + index * 7.5)), line, fill=0, font=font)
    truth = "\n".join(["供用电合同条款", *columns[0], *columns[1]])
    return SamplePage("two_column", image, DPI, truth)


def layout_pages(kind: str, count: int, *, seed: int = 2024) -> list[SamplePage]:
    """count pages of kind "table" or "two_column", the same for the same seed."""
    make = table_page if kind == "table" else two_column_page
    return [make(random.Random(f"{seed}-{kind}-{number}")) for number in range(count)]
