"""Page layout from the page itself: where its text lines lie, and in which order to read them.

Two cheap questions the pipeline asks before and after tesseract reads a page:

* sample_lines: a few text lines spread over the page, found in the binarised page's row profile,
  so that one small reading can tell which script the page is written in;
* arrange_lines: the reading order of tesseract's automatic layout (PSM 3), kept for text set in
  columns, but with the little blocks it cuts a table or a form into read again row by row, so a
  label stays beside its value. The page's layout is named "lines" (one column of lines),
  "columns" (text columns side by side, each read top to bottom) or "table" (cells row by row).
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from PIL import Image

from ocr.base import WordBox
from ocr.deskew import otsu_threshold
from ocr.tesseract import TextLine

LINES = "lines"
COLUMNS = "columns"
TABLE = "table"

# A block of tesseract's layout is running text (prose) when it has at least this many lines, of
# at least this many words each (median), that fill most of the block's width (median), and this
# share of its words are words of letters, not all capitals (_is_text_word).
PROSE_MIN_LINES = 3
PROSE_MIN_WORDS = 4
PROSE_MIN_FILL = 0.6
PROSE_MIN_TEXT_WORDS = 0.6
# Two lines are on one row of a table when their vertical extents overlap by this share of the
# lower one's height.
ROW_OVERLAP = 0.5
# The row profile of the page is taken on a copy this many pixels high.
PROFILE_HEIGHT = 1200
MIN_BAND_ROWS = 6
STRIPS = 4
# A sampled line is this many times its height long (about 25 Chinese characters).
SAMPLE_LENGTH = 25.0


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def ink_mask(grey: Image.Image) -> tuple[Image.Image, int]:
    """A copy of grey at most about PROFILE_HEIGHT pixels high with ink 255 and paper 0 (Otsu's
    threshold; light text on a dark page counts as ink too), and the factor it was shrunk by."""
    factor = max(1, grey.height // PROFILE_HEIGHT)
    small = grey.reduce(factor) if factor > 1 else grey
    threshold = otsu_threshold(small.histogram())
    ink = small.point(lambda value: 255 if value <= threshold else 0)
    if ink.histogram()[255] > ink.width * ink.height / 2:
        ink = ink.point(lambda value: 255 - value)
    return ink, factor


def text_bands(grey: Image.Image) -> list[tuple[int, int]]:
    """Return (top, bottom) of each band of text rows in grey, in its pixels: the runs of rows of
    the binarised page that hold ink, of a height near the median run's (rules and pictures left out)."""
    ink, factor = ink_mask(grey)
    bands = _bands(ink.resize((1, ink.height), Image.Resampling.BOX).tobytes())
    if not bands:
        return []
    typical = median(bottom - top for top, bottom in bands)
    return [(top * factor, bottom * factor) for top, bottom in bands if 0.5 * typical <= bottom - top <= 3 * typical]


def text_line_height(grey: Image.Image) -> int | None:
    """The median height in pixels of a line of text in grey (ascenders to descenders), or None.

    Measured in the bands of STRIPS vertical strips of the page, pooled: across a whole page,
    lines of neighbouring columns that do not line up, and a slight skew, merge into taller bands.
    """
    ink, factor = ink_mask(grey)
    heights = []
    for index in range(STRIPS):
        strip = ink.crop((ink.width * index // STRIPS, 0, ink.width * (index + 1) // STRIPS, ink.height))
        bands = _bands(strip.resize((1, strip.height), Image.Resampling.BOX).tobytes())
        # A band a tenth of the page high is a picture or a rule running down the strip, not a line.
        heights += [bottom - top for top, bottom in bands if bottom - top < ink.height / 10]
    return round(median(heights) * factor) if len(heights) >= 2 else None


def _bands(profile: bytes) -> list[tuple[int, int]]:
    # A row belongs to a band of text when at least 2 % of it is ink (paper specks rarely reach
    # that; a full-width rule does, and is dropped below for being thin), and an eighth of the
    # ink of a typical inked row: the vertical rules of a table alone do not make a band.
    inked = sorted(value for value in profile if value)
    if not inked:
        return []
    least = max(5, inked[len(inked) * 3 // 4] // 8)
    bands, start = [], None
    for y, value in enumerate([*profile, 0]):
        if value >= least and start is None:
            start = y
        elif value < least and start is not None:
            bands.append((start, y))
            start = None
    # Rules, underlines and specks are a few rows high at most.
    return [(top, bottom) for top, bottom in bands if bottom - top >= MIN_BAND_ROWS]


def sample_lines(grey: Image.Image, count: int, *, length: float = SAMPLE_LENGTH) -> list[Box]:
    """Return up to count boxes, each around the start of one band of text (from its first ink,
    length times the band's height long: reading costs in proportion to it), spread evenly over
    the page's text."""
    line = text_line_height(grey)
    bands = text_bands(grey)
    if line:
        # Bands of one line each, where there are some: a band of several is costlier to read.
        bands = [band for band in bands if band[1] - band[0] <= 2 * line] or bands
    if not bands:
        return []
    ink, factor = ink_mask(grey)
    step = len(bands) / min(count, len(bands))
    boxes = []
    for top, bottom in (bands[int(index * step)] for index in range(min(count, len(bands)))):
        found = ink.crop((0, top // factor, ink.width, max(top // factor + 1, bottom // factor))).getbbox()
        left = found[0] * factor if found else 0
        pad = max(2, (bottom - top) // 3)
        long = round(length * (line or bottom - top))
        boxes.append(Box(max(0, left - pad), max(0, top - pad), min(grey.width, left + long),
                         min(grey.height, bottom + pad)))
    return boxes


def stack(image: Image.Image, boxes: list[Box]) -> tuple[Image.Image, list[int]]:
    """Paste the crops of image at boxes one under the other; return the stack and each crop's top in it."""
    result = Image.new("L", (max(b.width for b in boxes), sum(b.height for b in boxes)), 255)
    offsets, y = [], 0
    for box in boxes:
        result.paste(image.crop((box.left, box.top, box.right, box.bottom)), (0, y))
        offsets.append(y)
        y += box.height
    if "dpi" in image.info:
        result.info["dpi"] = image.info["dpi"]
    return result, offsets


def arrange_lines(lines: list[TextLine]) -> tuple[list[TextLine], str]:
    """Return lines in reading order and the layout found ("lines", "columns" or "table").

    Tesseract's blocks of running text keep its order; each run of consecutive blocks that are not
    running text (table cells, form fields, labels beside values) is read row by row, left to
    right, one output line per row.
    """
    blocks: list[list[TextLine]] = []
    for line in lines:
        if not line.words:
            continue
        if blocks and blocks[-1][0].paragraph[:2] == line.paragraph[:2]:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    units: list[list[TextLine]] = []  # prose blocks, and the rows of the other blocks
    prose_units: list[list[TextLine]] = []
    cells: list[TextLine] = []
    table = False
    prose_boxes: list[Box] = []
    for block in blocks:
        if _is_prose(block):
            table |= _flush(cells, units)
            cells = []
            prose_boxes.append(_bounds([w for line in block for w in line.words]))
            units.append(block)
            prose_units.append(block)
        else:
            cells += block
    table |= _flush(cells, units)
    prose = {id(unit) for unit in prose_units}
    arranged = [line for unit in _above_first(units, [id(unit) in prose for unit in units]) for line in unit]
    if table:
        return arranged, TABLE
    if _side_by_side(prose_boxes):
        return arranged, COLUMNS
    return arranged, LINES


def _above_first(units: list[list[TextLine]], prose: list[bool]) -> list[list[TextLine]]:
    """units in their order, except that a row goes before the first earlier row it lies wholly
    above and overlaps in width, and a heading over columns before the first of them (tesseract
    puts a title centred over two columns after the first): a one-line unit that lies wholly
    above an earlier block of running text and crosses the gutter between it and one beside it."""
    boxes = [_bounds([word for line in unit for word in line.words]) for unit in units]
    columns = [box for box, is_prose in zip(boxes, prose, strict=True) if is_prose]

    def heads(box: Box, column: Box) -> bool:
        if box.bottom > column.top:
            return False
        beside = [other for other in columns if other.left >= column.right
                  and min(other.bottom, column.bottom) > max(other.top, column.top)]
        return any(box.right > column.right and box.left < other.left for other in beside)

    def above(box: Box, other: Box) -> bool:
        return box.bottom <= other.top and min(box.right, other.right) > max(box.left, other.left)

    placed: list[tuple[Box, bool, list[TextLine]]] = []
    for box, is_prose, unit in zip(boxes, prose, units, strict=True):
        position = len(placed)
        if not is_prose:
            # A row goes before the first earlier row it lies above (the rows of a table whose
            # blocks tesseract read in two runs), or running text it heads.
            position = next((index for index, (other, other_prose, _) in enumerate(placed)
                             if (not other_prose and above(box, other))
                             or (other_prose and len(unit) == 1 and heads(box, other))), position)
        placed.insert(position, (box, is_prose, unit))
    return [unit for _, _, unit in placed]


def _flush(cells: list[TextLine], units: list[list[TextLine]]) -> bool:
    """Append cells to units row by row, a row a unit; return whether some row joined lines of several blocks."""
    if not cells:
        return False
    rows: list[list[TextLine]] = []
    bands: list[tuple[int, int]] = []
    for line in sorted(cells, key=lambda line: _bounds(line.words).top):
        box = _bounds(line.words)
        for index, (top, bottom) in enumerate(bands):
            overlap = min(bottom, box.bottom) - max(top, box.top)
            if overlap >= ROW_OVERLAP * min(box.height, bottom - top):
                rows[index].append(line)
                bands[index] = (min(top, box.top), max(bottom, box.bottom))
                break
        else:
            rows.append([line])
            bands.append((box.top, box.bottom))
    joined = False
    for row in sorted(rows, key=lambda row: min(_bounds(line.words).top for line in row)):
        ordered = sorted(row, key=lambda line: _bounds(line.words).left)
        joined |= len({line.paragraph[:2] for line in ordered}) > 1
        units.append([TextLine(paragraph=ordered[0].paragraph, words=[w for line in ordered for w in line.words])])
    return joined


def _is_prose(block: list[TextLine]) -> bool:
    """Running text: several lines of several words, filling the block's width, most of them
    words of letters that are not capitals only (a table's cells are numbers, codes, headings)."""
    if len(block) < PROSE_MIN_LINES:
        return False
    words = [word for line in block for word in line.words]
    bounds = _bounds(words)
    fill = median(_bounds(line.words).width for line in block) / max(1, bounds.width)
    if median(sum(_size(word.text) for word in line.words) for line in block) < PROSE_MIN_WORDS or fill < PROSE_MIN_FILL:
        return False
    text = sum(_size(word.text) for word in words if _is_text_word(word.text))
    return text >= PROSE_MIN_TEXT_WORDS * sum(_size(word.text) for word in words)


def _size(text: str) -> int:
    """How many words text counts for: a Chinese character is a word (tesseract's words of
    Chinese text are runs of characters)."""
    return max(1, sum(1 for char in text if _is_cjk(char)))


def _is_cjk(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char >= "\U00020000"


def _is_text_word(text: str) -> bool:
    letters = [char for char in text if char.isalpha()]
    return len(letters) >= max(1, len(text) // 2) and not (len(letters) > 1 and all(c.isupper() for c in letters))


def _side_by_side(boxes: list[Box]) -> bool:
    """Whether two of the boxes share some height and no width: text set in columns."""
    for index, first in enumerate(boxes):
        for second in boxes[index + 1:]:
            shares_height = min(first.bottom, second.bottom) - max(first.top, second.top) > 0
            shares_width = min(first.right, second.right) - max(first.left, second.left) > 0
            if shares_height and not shares_width:
                return True
    return False


def _bounds(words: list[WordBox]) -> Box:
    return Box(min(w.left for w in words), min(w.top for w in words),
               max(w.left + w.width for w in words), max(w.top + w.height for w in words))
