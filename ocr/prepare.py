"""Make a page image easier for tesseract to read, cheaply: resolution and paper cleanup."""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter

from ocr.deskew import otsu_threshold

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
# Text whose lines (ascenders to descenders) are at least this many pixels high reads well as it
# is; smaller text is enlarged to about TARGET_LINE_HEIGHT (10 pt text at 200 dpi).
MIN_LINE_HEIGHT = 16
TARGET_LINE_HEIGHT = 24
# A table rule or an underline is at least this many line heights long; in a window of its row
# ink fills at least RULE_FILL of it (solid rules: a column of aligned letter stems fills less),
# and RULE_CLEAR at most of the rows
# a few pixels above and below.
RULE_LENGTH_LINES = 6
RULE_FILL = 0.8
RULE_CLEAR = 0.2
# Otsu's threshold is trusted when the pixels it calls ink are, on average, at least this dark.
INK_MEAN_LIMIT = 128


def upscale_factor(size: tuple[int, int], dpi: int | None, line_height: int | None = None) -> tuple[float, int | None]:
    """Return (scale, resulting dpi or None) that brings a page of size pixels scanned at dpi to
    about 300 dpi; the scale is 1.0 for pages already at 250 dpi or more.

    line_height, the page's measured height of a line of text in pixels (ocr.layout.text_line_height),
    decides instead when the resolution is missing or 96 dpi or less: screenshots and photos say
    72 or 96 dpi whatever their size, and are enlarged only when their text is small.
    """
    height = max(size)
    if line_height and (not dpi or dpi <= UNTRUSTED_DPI):
        # The stated resolution still goes to tesseract, as it would reading the file itself:
        # its layout analysis of tables does better with it than with its own estimate.
        scale = 1.0 if line_height >= MIN_LINE_HEIGHT else min(MAX_SCALE, TARGET_LINE_HEIGHT / line_height)
        return scale, round(dpi * scale) if dpi else None
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


def clean_background(grey: Image.Image) -> Image.Image:
    """Return grey with its paper noise made white if global Otsu thresholding would mistake it for ink.

    On a sparse, noisy page the paper's noise outweighs the little ink, and Otsu's threshold
    (tesseract's, which reads our pages best) splits the noise itself: tesseract then spends
    minutes on speckle. While the class below the threshold is not dark on average, the pixels
    above the threshold are whitened and the threshold found again; a 3 × 3 median then removes
    the specks left below it. Pages whose ink Otsu separates at once are returned unchanged.
    """
    histogram = grey.histogram()
    cut = 256
    for _ in range(64):
        clipped = histogram[:cut] + [0] * (256 - cut)
        clipped[255] += sum(histogram[cut:])
        threshold = otsu_threshold(clipped)
        dark = clipped[: threshold + 1]
        count = sum(dark)
        if not count or sum(level * n for level, n in enumerate(dark)) / count <= INK_MEAN_LIMIT:
            break
        cut = threshold
    if cut == 256:
        return grey
    cleaned = grey.point([value if value < cut else 255 for value in range(256)]).filter(ImageFilter.MedianFilter(3))
    cleaned.info.update(grey.info)
    return cleaned


def noise_level(grey: Image.Image) -> int:
    """Estimate the grain of grey: the median difference between horizontally adjacent pixels.

    Most of a page is paper, so the median falls on paper: 0 for a clean scan (JPEG artefacts
    included), about the noise's standard deviation for a grainy one. About 10 ms for an A4 page.
    """
    width, height = grey.size
    if width < 2:
        return 0
    difference = ImageChops.difference(grey.crop((0, 0, width - 1, height)), grey.crop((1, 0, width, height)))
    histogram = difference.histogram()
    half, seen = sum(histogram) / 2, 0
    for level, count in enumerate(histogram):
        seen += count
        if seen >= half:
            return level
    return 0


def remove_rules(grey: Image.Image, line_height: int | None) -> Image.Image:
    """grey with its long thin solid straight lines made white (find_rules)."""
    return find_rules(grey, line_height)[0]


def find_rules(grey: Image.Image, line_height: int | None) -> tuple[Image.Image, bool]:
    """Return grey with its long thin solid straight lines (table rules, form underlines) made white,
    and whether it has both horizontal and vertical ones (a ruled table or form); so tesseract neither reads them as "|" or "_" nor lets them cut its layout
    into pieces; grey itself when it has none.

    A rule is ink that fills most of a window RULE_LENGTH_LINES line heights long, with no ink a
    few pixels above and below it (across it, for vertical rules): text has ink on one side or
    the other of every row it occupies, and no character is that long.
    """
    if not line_height:
        return grey, False
    threshold = otsu_threshold(grey.histogram())
    ink = grey.point([255 if value <= threshold else 0 for value in range(256)])
    if ink.histogram()[255] > ink.width * ink.height / 2:  # light text on a dark page: no rules to find
        return grey, False
    horizontal = _rule_mask(ink, line_height)
    vertical = _rule_mask(ink.transpose(Image.Transpose.TRANSPOSE), line_height)
    if horizontal is None and vertical is None:
        return grey, False
    mask = Image.new("L", grey.size, 0)
    if horizontal is not None:
        mask = ImageChops.lighter(mask, horizontal)
    if vertical is not None:
        mask = ImageChops.lighter(mask, vertical.transpose(Image.Transpose.TRANSPOSE))
    cleaned = grey.copy()
    cleaned.paste(255, mask=mask)
    cleaned.info.update(grey.info)
    return cleaned, horizontal is not None and vertical is not None


def _rule_mask(ink: Image.Image, line_height: int) -> Image.Image | None:
    """The rows of horizontal rules in ink (255 ink), as a mask of ink's size, or None."""
    window = max(8, round(line_height * RULE_LENGTH_LINES / 3))
    columns = max(1, ink.width // window)
    # Each pixel of fill: the share of ink in a window of its row, a third of the rule length wide.
    fill = ink.resize((columns, ink.height), Image.Resampling.BOX)
    long = fill.point([255 if value >= RULE_FILL * 255 else 0 for value in range(256)])
    some = fill.point([255 if value >= RULE_CLEAR * 255 else 0 for value in range(256)])
    gap = max(2, line_height // 3)
    above = ImageChops.offset(some, 0, gap)
    below = ImageChops.offset(some, 0, -gap)
    rule = ImageChops.subtract(ImageChops.subtract(long, above), below)
    # A rule fills two windows side by side at least (it is three windows long): a glyph as long
    # as one window is left alone.
    pair = ImageChops.darker(rule, ImageChops.offset(rule, 1, 0))
    if not pair.getbbox():
        return None
    # The two windows, and one more on either side for the rule's ends, which fill theirs only
    # in part (no text lies on a rule's own rows, which are clear above and below).
    rule = ImageChops.lighter(pair, ImageChops.offset(pair, -1, 0))
    rule = ImageChops.lighter(rule, ImageChops.lighter(ImageChops.offset(rule, 1, 0), ImageChops.offset(rule, -1, 0)))
    # Widen a little across the rule, so its ragged edge goes too.
    thick = rule
    for shift in range(1, max(2, line_height // 10) + 1):
        thick = ImageChops.lighter(thick, ImageChops.lighter(ImageChops.offset(rule, 0, shift),
                                                             ImageChops.offset(rule, 0, -shift)))
    return thick.resize(ink.size, Image.Resampling.NEAREST)
