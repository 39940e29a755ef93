"""Synthesise scanned pages for tests and demonstrations.

Only Pillow and the standard library are used, so the samples can be built anywhere the
archive runs. Pages are A4 at the requested resolution, with black text on white, and can be
degraded (skew, noise, blur) to imitate a poor scanner.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path
from statistics import NormalDist

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

A4_MM = (210.0, 297.0)
MARGIN_MM = 25.0
MM_PER_INCH = 25.4

FONT_ENV_VAR = "ARCHIVE_CJK_FONT"
CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)

FORMATS = ("PNG", "JPEG", "TIFF", "PDF")
MULTI_PAGE_FORMATS = ("TIFF", "PDF")


def find_cjk_font() -> Path:
    """Return a font file able to draw Chinese; raise FileNotFoundError naming what to install."""
    override = os.environ.get(FONT_ENV_VAR)
    if override:
        path = Path(override)
        if not path.is_file():
            raise FileNotFoundError(f"{FONT_ENV_VAR} points to {path}, which is not a file")
        return path
    for candidate in CJK_FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    raise FileNotFoundError(
        "no CJK font found: install fonts-wqy-zenhei or fonts-noto-cjk, "
        f"or set {FONT_ENV_VAR} to a .ttf/.ttc/.otf file that covers Chinese"
    )


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
    if skew_degrees:
        page = page.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
    if blur > 0:
        page = page.filter(ImageFilter.GaussianBlur(radius=blur))
    if noise > 0:
        grain = _gaussian_noise(page.size, noise * 255, seed)
        page = ImageChops.add(page, grain, scale=1.0, offset=-128)
    page.info["dpi"] = (dpi, dpi)
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

    TIFF and PDF hold several pages; PNG and JPEG one. A PDF is image-only, like a scanner's.
    tiff_compression "group4" or "group3" stores bilevel fax pages. The other keywords are
    render_scan's; page n uses seed + n so noisy pages differ. Returns the path.
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
