"""Find how far a page is skewed, and whether it lies on its side, cheaply, with Pillow alone.

Text lines make the ink's row profile sharp (dense rows, then empty gaps) only when they run
level. So the page is shrunk to about WORK_SIZE pixels, binarised, turned through candidate
angles, and the angle whose row profile changes most from row to row wins: a coarse pass over
the whole range, then a fine one around the best. About 50 ms for an A4 page. A page whose
column profile is sharper than its best row profile has its lines running up and down: it lies
on its side.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

WORK_SIZE = 800  # pixels on the longer side of the copy that is searched
COARSE_STEP = 0.5
FINE_STEP = 0.1
# Less ink than this fraction of the page and there is nothing to level.
MIN_INK_FRACTION = 0.002


@dataclass(frozen=True)
class Skew:
    angle: float  # counter-clockwise degrees that level the text
    sideways: bool  # the lines run up and down: the page is turned by a quarter
    ink: bool = True  # False for a (nearly) blank page


def measure_skew(grey: Image.Image, *, limit: float = 5.0) -> Skew:
    """Return the counter-clockwise rotation in degrees (within ±limit) that levels the text of grey,
    and whether the page lies on its side.

    grey is a mode L page, dark ink on a light background; angle 0.0 when there is too little ink.
    """
    ink = _ink_mask(grey)
    if ink.histogram()[255] < MIN_INK_FRACTION * ink.width * ink.height:
        return Skew(0.0, False, ink=False)
    steps = int(limit / COARSE_STEP)
    centre = _best(ink, [step * COARSE_STEP for step in range(-steps, steps + 1)])
    span = int(COARSE_STEP / FINE_STEP)
    fine = [centre + step * FINE_STEP for step in range(-span + 1, span)]
    angle = _best(ink, [angle for angle in fine if abs(angle) <= limit])
    sideways = _sharpness(ink.transpose(Image.Transpose.ROTATE_90), 0) > _sharpness(ink, angle)
    return Skew(round(angle, 2), sideways)


def _best(ink: Image.Image, angles: list[float]) -> float:
    """The angle with the sharpest profile; of equals, the smallest turn (a blank page stays put)."""
    return max(angles, key=lambda angle: (_sharpness(ink, angle), -abs(angle)))


def _ink_mask(grey: Image.Image) -> Image.Image:
    """A small copy of grey with ink 255 and background 0, thresholded by Otsu's method."""
    factor = max(1, round(max(grey.size) / WORK_SIZE))
    small = grey.reduce(factor) if factor > 1 else grey
    threshold = otsu_threshold(small.histogram())
    return small.point(lambda value: 255 if value <= threshold else 0)


def otsu_threshold(histogram: list[int]) -> int:
    """The grey level that best splits a 256-bin histogram into two classes (Otsu's method)."""
    total = sum(histogram)
    weighted_total = sum(level * count for level, count in enumerate(histogram))
    below = weighted_below = 0
    best, threshold = -1.0, 127
    for level, count in enumerate(histogram):
        below += count
        if below == 0:
            continue
        above = total - below
        if above == 0:
            break
        weighted_below += level * count
        mean_below = weighted_below / below
        mean_above = (weighted_total - weighted_below) / above
        between = below * above * (mean_below - mean_above) ** 2
        if between > best:
            best, threshold = between, level
    return threshold


def _sharpness(ink: Image.Image, angle: float) -> float:
    turned = ink.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0) if angle else ink
    # Resizing to one column with a box filter averages each row: the row profile, in C.
    profile = turned.resize((1, turned.height), Image.Resampling.BOX).tobytes()
    return float(sum((after - before) ** 2 for before, after in zip(profile, profile[1:], strict=False)))
