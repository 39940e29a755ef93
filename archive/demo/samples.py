"""Synthesise scanned pages for tests, demonstrations and the OCR benchmark.

Only Pillow and the standard library are used, so the samples can be built anywhere the
archive runs. Pages are A4 at the requested resolution, with black text on white, and can be
degraded (skew, noise, blur) to imitate a poor scanner.

sample_pages draws whole documents with known text, as archive rooms hold them (domain.md):
supply contracts with a red company seal, application forms in a ruled box, and ID-card copies
(front and back of the card on one page, with a dark photo area and a "copy for ... only" note),
Chinese with numbers and Latin (contract numbers, kV and kVA, e-mail addresses, ID numbers).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

# The font finder lives in archive.fonts (borrowing watermarks use it too); kept importable from here.
from archive.fonts import CJK_FONT_CANDIDATES as CJK_FONT_CANDIDATES
from archive.fonts import FONT_ENV_VAR as FONT_ENV_VAR
from archive.fonts import find_cjk_font
from archive.identity import resident_id_check_digit, uscc_check_char

A4_MM = (210.0, 297.0)
MARGIN_MM = 25.0
MM_PER_INCH = 25.4

FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF", "PDF")
MULTI_PAGE_FORMATS = ("TIFF", "PDF")
INK = (20, 20, 20)
STAMP_RED = (215, 40, 40)


def _mm_to_px(mm: float, dpi: int) -> int:
    return round(mm / MM_PER_INCH * dpi)


def _gaussian_noise(size: tuple[int, int], sigma: float, seed: int) -> Image.Image:
    """Return a grey image of gaussian noise centred on 128, reproducible from seed."""
    # Uniform random bytes mapped through the inverse normal CDF: fast and deterministic,
    # where Image.effect_noise cannot be seeded.
    normal = NormalDist(mu=128.0, sigma=sigma)
    table = [max(0, min(255, round(normal.inv_cdf((level + 0.5) / 256)))) for level in range(256)]
    uniform = random.Random(seed).randbytes(size[0] * size[1])
    return Image.frombytes("L", size, uniform).point(table)


def render_scan(
    lines: Sequence[str],
    *,
    dpi: int = 300,
    font_pt: float = 12,
    skew_degrees: float = 0.0,
    noise: float = 0.0,
    blur: float = 0.0,
    seed: int = 0,
) -> Image.Image:
    """Draw lines of text on a white A4 page at dpi and return it as a greyscale image.

    skew_degrees rotates the page counter-clockwise, noise is the standard deviation of added
    gaussian noise as a fraction of full scale (0.1 is about 25 grey levels), blur is a
    gaussian blur radius in pixels.
    """
    if dpi <= 0 or font_pt <= 0:
        raise ValueError("dpi and font_pt must be positive")
    width, height = (_mm_to_px(mm, dpi) for mm in A4_MM)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(find_cjk_font()), size=max(1, round(font_pt / 72 * dpi)))
    margin = _mm_to_px(MARGIN_MM, dpi)
    line_height = round(font_pt / 72 * dpi * 1.6)
    for index, line in enumerate(lines):
        draw.text((margin, margin + index * line_height), line, fill=0, font=font)
    page = degrade(page, skew_degrees=skew_degrees, noise=noise, blur=blur, seed=seed)
    page.info["dpi"] = (dpi, dpi)
    return page


def degrade(
    page: Image.Image, *, skew_degrees: float = 0.0, noise: float = 0.0, blur: float = 0.0, seed: int = 0
) -> Image.Image:
    """Return page (mode L or RGB) rotated, blurred and grainy like a poor scan; see render_scan."""
    white = 255 if page.mode == "L" else (255,) * len(page.getbands())
    if skew_degrees:
        page = page.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, fillcolor=white)
    if blur > 0:
        page = page.filter(ImageFilter.GaussianBlur(radius=blur))
    if noise > 0:
        grain = _gaussian_noise(page.size, noise * 255, seed)
        if page.mode != "L":
            grain = Image.merge(page.mode, [grain] * len(page.getbands()))
        page = ImageChops.add(page, grain, scale=1.0, offset=-128)
    return page


def write_scan(
    path: Path | str,
    lines: Sequence[str],
    *,
    format: str = "PNG",
    pages: Sequence[Sequence[str]] | None = None,
    tiff_compression: str = "tiff_lzw",
    dpi: int = 300,
    font_pt: float = 12,
    skew_degrees: float = 0.0,
    noise: float = 0.0,
    blur: float = 0.0,
    seed: int = 0,
) -> Path:
    """Render one page (lines) or several (pages) and write them to path in format.

    TIFF and PDF hold several pages; PNG, JPEG, WebP (lossless, without a resolution) and BMP
    one. A PDF is image-only, like a scanner's. tiff_compression "group4" or "group3" stores
    bilevel fax pages. The other keywords are render_scan's; page n uses seed + n so noisy pages
    differ. Returns the path.
    """
    fmt = format.upper()
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {format!r}")
    page_lines = list(pages) if pages is not None else [lines]
    if not page_lines:
        raise ValueError("at least one page is needed")
    if len(page_lines) > 1 and fmt not in MULTI_PAGE_FORMATS:
        raise ValueError(f"{fmt} holds one page; use TIFF or PDF for {len(page_lines)} pages")
    images = [
        render_scan(
            text, dpi=dpi, font_pt=font_pt, skew_degrees=skew_degrees, noise=noise, blur=blur, seed=seed + n
        )
        for n, text in enumerate(page_lines)
    ]
    first, rest = images[0], images[1:]
    target = Path(path)
    if fmt == "PNG":
        first.save(target, "PNG", dpi=(dpi, dpi))
    elif fmt == "JPEG":
        first.save(target, "JPEG", dpi=(dpi, dpi), quality=90)
    elif fmt == "WEBP":
        first.save(target, "WEBP", lossless=True)
    elif fmt == "BMP":
        first.save(target, "BMP", dpi=(dpi, dpi))
    elif fmt == "TIFF":
        if tiff_compression in ("group3", "group4"):
            images = [image.convert("1", dither=Image.Dither.NONE) for image in images]
            first, rest = images[0], images[1:]
        first.save(
            target, "TIFF", save_all=True, append_images=rest, dpi=(dpi, dpi), compression=tiff_compression
        )
    else:
        first.save(target, "PDF", save_all=True, append_images=rest, resolution=dpi)
    return target


# --- whole documents with known text -------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    dpi: int
    skew: tuple[float, float] = (0.0, 0.0)  # range of |angle| in degrees; the sign is random
    noise: float = 0.0
    blur: float = 0.0
    turned: bool = False  # page n lies turned by (n % 3 + 1) quarter turns counter-clockwise


VARIANTS = (
    Variant("clean", 300),
    Variant("skewed", 300, skew=(1.0, 4.0)),
    Variant("noisy", 300, noise=0.10, blur=1.0),
    Variant("150dpi", 150),
)
# Not one of the benchmark's four: pages lying on their side or upside down.
TURNED = Variant("turned", 300, turned=True)


@dataclass(frozen=True)
class SamplePage:
    kind: str
    image: Image.Image
    dpi: int
    truth: str


# --- content -------------------------------------------------------------------------------

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅金凤文斌飞鹏辉宇浩然晨阳欣怡子涵"
_CITIES = [
    ("北京市", ["海淀区", "朝阳区", "丰台区", "通州区"]),
    ("上海市", ["浦东新区", "徐汇区", "闵行区", "嘉定区"]),
    ("江苏省南京市", ["鼓楼区", "江宁区", "玄武区"]),
    ("浙江省杭州市", ["西湖区", "余杭区", "滨江区"]),
    ("广东省广州市", ["天河区", "越秀区", "番禺区"]),
    ("四川省成都市", ["武侯区", "锦江区", "高新区"]),
]
_ROADS = ["中关村大街", "建设路", "人民路", "解放大道", "长江路", "科技园路", "文化路", "新华街", "和平路"]
_FIRM_WORDS = ["华电", "恒通", "东方", "新源", "宏达", "瑞丰", "金桥", "远航", "安泰", "立信", "鼎盛", "中科"]
_FIRM_TRADES = ["科技", "实业", "机械制造", "食品", "物流", "建材", "置业", "纺织"]
_NATIONS = ["汉", "汉", "汉", "回", "满", "蒙古", "壮"]
_USES = ["居民生活用电", "一般工商业用电", "大工业用电", "农业生产用电"]
_UTILITIES = ["国网北京市电力公司", "国网上海市电力公司", "国网江苏省电力有限公司南京供电分公司",
              "国网浙江省电力有限公司杭州供电公司", "广东电网有限责任公司广州供电局", "国网四川省电力公司成都供电公司"]
_PAYMENTS = ["银行代扣", "营业厅缴费", "网上缴费", "预付费"]


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def _address(rng: random.Random) -> str:
    city, districts = rng.choice(_CITIES)
    return f"{city}{rng.choice(districts)}{rng.choice(_ROADS)}{rng.randint(1, 399)}号"


def _firm(rng: random.Random) -> str:
    city = rng.choice(_CITIES)[0][-3:-1]
    return f"{city}{rng.choice(_FIRM_WORDS)}{rng.choice(_FIRM_TRADES)}有限公司"


def _date(rng: random.Random, first_year: int = 2015, last_year: int = 2024) -> tuple[int, int, int]:
    return rng.randint(first_year, last_year), rng.randint(1, 12), rng.randint(1, 28)


def _cn_date(ymd: tuple[int, int, int]) -> str:
    return f"{ymd[0]}年{ymd[1]}月{ymd[2]}日"


def _resident_id(rng: random.Random, birth: tuple[int, int, int]) -> str:
    first17 = f"{rng.choice(['110108', '310104', '320106', '330106', '440106', '510107'])}"
    first17 += f"{birth[0]:04d}{birth[1]:02d}{birth[2]:02d}{rng.randint(0, 999):03d}"
    return first17 + resident_id_check_digit(first17)


def _credit_code(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91" + f"{rng.randint(110000, 659999)}" + "".join(rng.choice(alphabet) for _ in range(9))
    return first17 + uscc_check_char(first17)


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}"


def _amount(rng: random.Random) -> str:
    return f"{rng.randint(1000, 99999):,}.{rng.randint(0, 99):02d}"


# --- layout --------------------------------------------------------------------------------


class _Page:
    """An A4 page at dpi that places text in millimetres and records it as ground truth."""

    def __init__(self, dpi: int) -> None:
        self.dpi = dpi
        width, height = (self.px(mm) for mm in A4_MM)
        self.image = Image.new("RGB", (width, height), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.image)
        self.font_path = str(find_cjk_font())
        self.lines: list[str] = []
        self._fonts: dict[float, ImageFont.FreeTypeFont] = {}

    def px(self, mm: float) -> int:
        return round(mm / MM_PER_INCH * self.dpi)

    def font(self, pt: float) -> ImageFont.FreeTypeFont:
        if pt not in self._fonts:
            self._fonts[pt] = ImageFont.truetype(self.font_path, size=max(1, round(pt / 72 * self.dpi)))
        return self._fonts[pt]

    def text(self, x_mm: float, y_mm: float, text: str, pt: float, *, centre: bool = False) -> None:
        font = self.font(pt)
        x = self.px(x_mm)
        if centre:
            x -= round(self.draw.textlength(text, font=font) / 2)
        self.draw.text((x, self.px(y_mm)), text, fill=INK, font=font)
        self.lines.append(text)

    def wrap(self, x_mm: float, y_mm: float, width_mm: float, text: str, pt: float, leading: float) -> float:
        """Draw text wrapped to width_mm; return the y below the last line."""
        font = self.font(pt)
        limit = self.px(width_mm)
        line = ""
        for char in text:
            if line and self.draw.textlength(line + char, font=font) > limit:
                self.text(x_mm, y_mm, line, pt)
                y_mm += pt * leading * MM_PER_INCH / 72
                line = ""
            line += char
        if line:
            self.text(x_mm, y_mm, line, pt)
            y_mm += pt * leading * MM_PER_INCH / 72
        return y_mm

    def rule(self, x0_mm: float, y0_mm: float, x1_mm: float, y1_mm: float, width_mm: float = 0.3) -> None:
        self.draw.line(
            [(self.px(x0_mm), self.px(y0_mm)), (self.px(x1_mm), self.px(y1_mm))],
            fill=INK,
            width=max(1, self.px(width_mm)),
        )

    def box(self, x0_mm: float, y0_mm: float, x1_mm: float, y1_mm: float, radius_mm: float = 0.0) -> None:
        self.draw.rounded_rectangle(
            [self.px(x0_mm), self.px(y0_mm), self.px(x1_mm), self.px(y1_mm)],
            radius=self.px(radius_mm),
            outline=INK,
            width=max(1, self.px(0.3)),
        )

    def stamp(self, cx_mm: float, cy_mm: float, radius_mm: float = 20.0) -> None:
        """A red company seal, a thick ring and a star, inked over the page: text under it stays dark."""
        cx, cy, r = self.px(cx_mm), self.px(cy_mm), self.px(radius_mm)
        seal = Image.new("RGB", self.image.size, (255, 255, 255))
        draw = ImageDraw.Draw(seal)
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=STAMP_RED, width=max(2, self.px(1.2)))
        outer, inner = r * 0.35, r * 0.35 * 0.38
        star = [
            (cx + radius * math.sin(math.pi * k / 5), cy - radius * math.cos(math.pi * k / 5))
            for k, radius in zip(range(10), [outer, inner] * 5, strict=True)
        ]
        draw.polygon(star, fill=STAMP_RED)
        self.image = ImageChops.multiply(self.image, seal)
        self.draw = ImageDraw.Draw(self.image)

    def photo(self, x0_mm: float, y0_mm: float, x1_mm: float, y1_mm: float) -> None:
        """The photo of a photocopied ID card: a dark, softly lit block."""
        self.draw.rectangle([self.px(x0_mm), self.px(y0_mm), self.px(x1_mm), self.px(y1_mm)], fill=(90, 90, 90))
        head = (x0_mm + x1_mm) / 2, y0_mm + (y1_mm - y0_mm) * 0.4, (x1_mm - x0_mm) * 0.25
        self.draw.ellipse(
            [self.px(head[0] - head[2]), self.px(head[1] - head[2]), self.px(head[0] + head[2]),
             self.px(head[1] + head[2])],
            fill=(150, 150, 150),
        )


_CLAUSES = [
    "供电人按照国家规定的电能质量标准向用电人供电，供电电压为{kv}kV，供电容量为{kva}kVA。",
    "用电人的用电类别为{use}，执行{year}年发布的电价标准，电费按月结算。",
    "用电人应于每月{day}日前交清上月电费，逾期按日加收万分之{fine}的违约金。",
    "电费结算方式为{pay}，开户银行账号为{account}。",
    "计量装置安装在产权分界点，电能表编号为{meter}，由供电人负责校验。",
    "本合同有效期自{start}起至{end}止，期满前一个月双方未提出异议的自动续签。",
    "用电人不得擅自改变用电类别或超过合同约定的容量用电，否则按违约用电处理。",
    "供电人计划检修需停电时，应提前{notice}天公告或书面通知用电人。",
    "发生供电事故时，双方按照《供电营业规则》第{article}条的规定处理。",
    "本合同一式{copies}份，供电人和用电人各执{half}份，具有同等法律效力。",
    "用电人联系人{contact}，联系电话{phone}，电子邮箱{email}。",
    "用电人新增用电设备总功率为{kw}kW，须经供电人同意后方可接入。",
]


def _supply_contract(rng: random.Random, dpi: int) -> _Page:
    page = _Page(dpi)
    customer = _firm(rng) if rng.random() < 0.6 else _name(rng)
    year = rng.randint(2018, 2024)
    start = _date(rng, year, year)
    page.text(105, 22, rng.choice(["高压供用电合同", "低压供用电合同", "供用电合同"]), 18, centre=True)
    page.text(25, 38, f"合同编号：HT-{year}-{rng.randint(1, 9999):04d}", 11)
    page.text(25, 46, f"供电人：{rng.choice(_UTILITIES)}", 11)
    page.text(25, 54, f"用电人：{customer}", 11)
    page.text(25, 62, f"用电地址：{_address(rng)}", 11)
    values = {
        "kv": rng.choice([0.4, 10, 35]), "kva": rng.choice([50, 160, 315, 630, 1250]), "use": rng.choice(_USES),
        "year": year, "day": rng.randint(10, 25), "fine": rng.choice([1, 2, 3]), "pay": rng.choice(_PAYMENTS),
        "account": f"6222{rng.randint(0, 10**12 - 1):012d}", "meter": f"DB{rng.randint(10**9, 10**10 - 1)}",
        "start": _cn_date(start), "end": _cn_date((start[0] + 5, start[1], start[2])),
        "notice": rng.choice([3, 7]), "article": rng.randint(30, 99), "copies": 4, "half": 2,
        "contact": _name(rng), "phone": _mobile(rng),
        "email": f"{rng.choice(['zhang', 'li', 'wang', 'office', 'power'])}{rng.randint(1, 99)}@example.com",
        "kw": rng.randint(20, 900),
    }
    clauses = rng.sample(_CLAUSES, k=rng.randint(6, 9))
    y = 74.0
    for number, clause in enumerate(clauses, start=1):
        y = page.wrap(25, y, 160, f"第{number}条 " + clause.format(**values), 11, 1.7) + 1.5
    y += 6
    page.text(25, y, "供电人（盖章）", 11)
    page.text(115, y, "用电人（盖章）", 11)
    page.text(25, y + 10, f"签订日期：{_cn_date(start)}", 11)
    page.text(115, y + 10, f"签订日期：{_cn_date(start)}", 11)
    page.stamp(rng.uniform(45, 60), y + rng.uniform(2, 8))
    return page


def _application_form(rng: random.Random, dpi: int) -> _Page:
    page = _Page(dpi)
    person = _name(rng)
    birth = _date(rng, 1955, 2000)
    applied = _date(rng, 2019, 2024)
    page.text(105, 22, rng.choice(["低压居民用电申请书", "高压用电申请书", "用电业务申请表"]), 18, centre=True)
    page.text(25, 36, f"工单编号：GD{applied[0]}{applied[1]:02d}{applied[2]:02d}-{rng.randint(1, 9999):04d}", 10.5)
    rows = [
        (f"申请人：{person}", f"联系电话：{_mobile(rng)}"),
        ("证件类型：居民身份证", f"证件号码：{_resident_id(rng, birth)}"),
        (f"用电地址：{_address(rng)}", ""),
        (f"用电类别：{rng.choice(_USES)}", f"申请容量：{rng.randint(5, 800)}kW"),
        (f"供电电压：{rng.choice(['220V', '380V', '10kV'])}", f"业务类型：{rng.choice(['新装', '增容', '变更用电'])}"),
        (f"单位名称：{_firm(rng)}", ""),
        (f"统一社会信用代码：{_credit_code(rng)}", ""),
        (f"电费缴纳方式：{rng.choice(_PAYMENTS)}", f"邮政编码：{rng.randint(100000, 850000)}"),
    ]
    top, row_mm = 44.0, 12.0
    page.box(20, top, 190, top + row_mm * len(rows))
    for index, (left, right) in enumerate(rows):
        y = top + index * row_mm
        if index:
            page.rule(20, y, 190, y)
        page.text(24, y + 3.5, left, 10.5)
        if right:
            page.text(112, y + 3.5, right, 10.5)
    y = top + row_mm * len(rows) + 10
    y = page.wrap(24, y, 160, "申请人承诺：以上填写内容及提供的资料真实有效，如有虚假愿承担相应责任。"
                  "本人同意供电企业按照国家有关规定办理用电业务。", 10.5, 1.7)
    page.text(24, y + 8, f"申请人签字：{person}", 10.5)
    page.text(112, y + 8, f"申请日期：{_cn_date(applied)}", 10.5)
    page.text(24, y + 18, f"受理人：{_name(rng)}", 10.5)
    page.text(112, y + 18, f"受理日期：{_cn_date(applied)}", 10.5)
    return page


def _id_card_copy(rng: random.Random, dpi: int) -> _Page:
    page = _Page(dpi)
    person = _name(rng)
    birth = _date(rng, 1955, 2000)
    issued = _date(rng, 2010, 2022)
    scale = 1.4  # copies are enlarged so they stay legible
    card_w, card_h = 85.6 * scale, 54.0 * scale
    x0 = (A4_MM[0] - card_w) / 2
    # Front: name, sex, nation, birth, address, number; photo on the right.
    y0 = 30.0
    page.box(x0, y0, x0 + card_w, y0 + card_h, radius_mm=4)
    page.photo(x0 + card_w * 0.66, y0 + 8, x0 + card_w - 6, y0 + card_h * 0.66)
    pt, left = 9.5, x0 + 6
    page.text(left, y0 + 7, f"姓名 {person}", pt)
    page.text(left, y0 + 15, f"性别 {rng.choice('男女')}  民族 {rng.choice(_NATIONS)}", pt)
    page.text(left, y0 + 23, f"出生 {birth[0]}年{birth[1]}月{birth[2]}日", pt)
    address = _address(rng)
    page.text(left, y0 + 31, f"住址 {address[:14]}", pt)
    if address[14:]:
        page.text(left + 8.5, y0 + 37.5, address[14:], pt)
    page.text(left, y0 + card_h - 12, f"公民身份号码 {_resident_id(rng, birth)}", pt + 1)
    # Back: country, title, issuing office, validity.
    y0 = 30.0 + card_h + 12
    page.box(x0, y0, x0 + card_w, y0 + card_h, radius_mm=4)
    page.text(A4_MM[0] / 2, y0 + 10, "中华人民共和国", 14, centre=True)
    page.text(A4_MM[0] / 2, y0 + 20, "居民身份证", 16, centre=True)
    city, districts = rng.choice(_CITIES)
    page.text(left + 6, y0 + card_h - 22, f"签发机关 {city[-3:]}公安局{rng.choice(districts)}分局", pt)
    end = (issued[0] + 20, issued[1], issued[2])
    page.text(
        left + 6, y0 + card_h - 13,
        f"有效期限 {issued[0]}.{issued[1]:02d}.{issued[2]:02d}-{end[0]}.{end[1]:02d}.{end[2]:02d}", pt,
    )
    y = 30.0 + 2 * card_h + 30
    page.text(A4_MM[0] / 2, y, "此复印件仅供办理用电业务使用，再复印无效", 12, centre=True)
    page.text(A4_MM[0] / 2, y + 10, f"经办人：{_name(rng)}  {_cn_date(_date(rng, 2020, 2024))}", 12, centre=True)
    return page


KINDS: dict[str, Callable[[random.Random, int], _Page]] = {
    "supply_contract": _supply_contract,
    "application_form": _application_form,
    "id_card_copy": _id_card_copy,
}


def sample_pages(variant: Variant, count: int, *, seed: int = 2024) -> list[SamplePage]:
    """Return count pages of the variant, cycling through the kinds; the same seed gives the same pages.

    The text of page n does not depend on the variant, so variants compare like with like.
    """
    kinds = list(KINDS)
    pages = []
    for number in range(count):
        kind = kinds[number % len(kinds)]
        rng = random.Random(f"{seed}-{number}")
        drawn = KINDS[kind](rng, variant.dpi)
        degrade_rng = random.Random(f"{seed}-{number}-{variant.name}")
        angle = degrade_rng.uniform(*variant.skew) * degrade_rng.choice((-1, 1)) if variant.skew[1] else 0.0
        image = degrade(
            drawn.image, skew_degrees=angle, noise=variant.noise, blur=variant.blur, seed=seed + number
        )
        if variant.turned:
            image = image.rotate(90 * (number % 3 + 1), expand=True)
        pages.append(SamplePage(kind=kind, image=image, dpi=variant.dpi, truth="\n".join(drawn.lines)))
    return pages
