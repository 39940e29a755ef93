"""Make a page image easier for tesseract to read, cheaply."""

from __future__ import annotations

from PIL import Image, ImageFilter

TARGET_DPI = 300
# Scans at or above this resolution are left at their size; tesseract reads them well.
MIN_GOOD_DPI = 250
# Without a trustworthy resolution, a page this many pixels high is treated as an A4 scan
# at about 200 dpi, below which it is enlarged.
MIN_GOOD_HEIGHT = 2339  # A4 at 200 dpi
A4_HEIGHT_INCHES = 11.69
MAX_SCALE = 4.0
# Many files say 72 or 96 dpi only because the software that wrote them had no better idea;
# a large image claiming so is a photo or a screenshot, not a low-resolution scan.
UNTRUSTED_DPI = 96


def prepare_for_ocr(image: Image.Image, dpi: int | None, *, denoise: bool = False) -> Image.Image:
    """Return a greyscale copy of image, enlarged to about 300 dpi when it is a low-resolution scan.

    denoise applies a 3 × 3 median filter, which removes speckle from poor scans at the cost of
    about a tenth of a second per A4 page. The result's info["dpi"] holds its effective resolution
    when known.
    """
    grey = image.convert("L")
    scale, effective_dpi = upscale_factor(grey.size, dpi)
    if scale > 1.0:
        width, height = grey.size
        grey = grey.resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)
    if denoise:
        grey = grey.filter(ImageFilter.MedianFilter(3))
    if effective_dpi:
        grey.info["dpi"] = (effective_dpi, effective_dpi)
    return grey


def upscale_factor(size: tuple[int, int], dpi: int | None) -> tuple[float, int | None]:
    """Return (scale, resulting dpi or None) for a page of size pixels scanned at dpi."""
    height = max(size)
    trusted = dpi if dpi and not (dpi <= UNTRUSTED_DPI and height >= MIN_GOOD_HEIGHT) else None
    if trusted:
        if trusted >= MIN_GOOD_DPI:
            return 1.0, trusted
        scale = min(MAX_SCALE, TARGET_DPI / trusted)
        return scale, round(trusted * scale)
    if height >= MIN_GOOD_HEIGHT:
        return 1.0, None
    scale = min(MAX_SCALE, TARGET_DPI * A4_HEIGHT_INCHES / height)
    return scale, None
