"""From a stored page image to its text, word boxes and confidence: prepare, recognise, map back.

The steps, each kept because benchmarks/ocr_bench.py (generated pages, its --ablation table) or
benchmarks/ocr_real_bench.py (real pages) shows it pays — except the paper cleanup, which no
benchmark page needs and which keeps a sparse noisy page from stalling tesseract for minutes
(tests/integration/test_ocr_pipeline.py):

1. greyscale — from the red channel for colour pages, so red seals fade instead of hiding text;
2. resolution normalisation — low-resolution scans are enlarged to about 300 dpi, and pages with
   no trustworthy resolution (screenshots say 72 or 96 dpi) only when their text is small
   (ocr.prepare, ocr.layout.text_line_height);
3. cleanup — paper noise whitened where Otsu's threshold would split it, long solid rules (a
   table's grid, underlines) whitened, and a median filter on grainy pages only (ocr.prepare);
4. orientation — only for a page that looks sideways (a cheap profile test) or reads badly
   (low confidence) is tesseract's orientation detection (OSD, as slow as a reading) asked;
5. deskew — a projection-profile search on a small binarised copy finds the skew (up to 5°);
6. script — with a CJK primary language, a few line starts sampled from the page are read first
   (about a tenth of a reading): a page in Latin script is read with the Latin languages alone;
7. recognition — tesseract's automatic layout (PSM 3); on a Chinese page the primary language
   first, then Latin and misread lines again with all languages (OcrPipeline);
8. reading order — columns of running text one after the other, table cells row by row
   (ocr.layout.arrange_lines), and the layout so found reported with the text;
9. Chinese text tidying — spaces and punctuation widths (ocr.tesseract.normalize_cjk_text).

Word boxes come back in the coordinates of the image passed in (the stored page image), whatever
was scaled or turned on the way.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from PIL import Image, ImageFilter

from ocr.base import RecognizedText, WordBox
from ocr.deskew import Skew, measure_skew
from ocr.layout import TABLE, arrange_lines, sample_lines, stack, text_line_height
from ocr.prepare import UNTRUSTED_DPI, clean_background, find_rules, noise_level, upscale_factor
from ocr.tesseract import TesseractRecognizer, TextLine

# A line is re-read with every configured language when it has at least this many Latin letters
# and at least twice as many of them as Chinese characters.
MIN_LATIN_LETTERS = 8
# A code whose letters meet its digits and which has a hyphen further on ("HT2024-0107"): chi_sim
# drops the hyphen after a code's letters and keeps the later ones.
_LETTER_DIGIT = re.compile("[A-Za-z][0-9][0-9A-Za-z]*-")
# Lines read with a low confidence are re-read when they hold at least this many Latin letters.
MIN_GARBLED_LETTERS = 3
# A page is in Latin script when its sampled lines, read with the CJK language, hold this many
# times more Latin letters than CJK characters (a Chinese character is about two letters wide,
# and Chinese pages carry codes and numbers, rarely runs of Latin words).
LATIN_PAGE_RATIO = 3
# A Latin page's low-confidence lines are tried in the CJK language when its sample held this
# many CJK characters.
MIN_CJK_SEEN = 2
CJK_LANGUAGES = ("chi_sim", "chi_tra", "chi_sim_vert", "chi_tra_vert", "jpn", "jpn_vert", "kor", "kor_vert")
# A Latin page's doubtful line read again with every language takes that reading when it holds
# CJK characters read with at least this mean confidence.
CONFIDENT_CJK_READING = 70
AUTOMATIC_PSM = 3
RULED_PSM = 6
# Crops stacked one under the other are read as one column of lines (4), or as a uniform block
# (6), which reads a stack of CJK lines better.
STACK_PSM = 4
UNIFORM_BLOCK_PSM = 6
# Crops stacked for that second reading are padded by this share of their height.
CROP_PADDING = 0.4


@dataclass(frozen=True)
class PipelineSettings:
    """Which steps run; the defaults are the benchmark's choice."""

    drop_red: bool = True
    upscale: bool = True
    clean_background: bool = True
    # A 3 × 3 median filter on grainy pages (ocr.prepare.noise_level at least denoise_above): it
    # helps there and costs accuracy on clean pages, whose thin strokes it erodes.
    # Long solid rules (a table's grid, a form's underlines) whitened (ocr.prepare.remove_rules).
    remove_rules: bool = True
    denoise: bool = True
    denoise_above: int = 6
    orientation: bool = True
    deskew: bool = True
    primary_language_first: bool = True
    # With a CJK primary language and Latin ones after it, a few lines sampled from the page are
    # read first to tell its script: a page in Latin script is then read with the Latin languages
    # alone (as well as `-l eng` reads it), a Chinese one with the primary language first.
    detect_script: bool = True
    script_sample_lines: int = 6
    # Tesseract's page segmentation. None: its automatic layout (PSM 3), which reads text set in
    # columns column by column, with the small blocks it cuts tables and forms into put back
    # together row by row (ocr.layout.arrange_lines), so a label stays beside its value. A number
    # forces that PSM for the whole page as read (4: one column of lines, across any columns).
    psm: int | None = None
    # A line of the primary (CJK) reading with Latin letters in it and a mean word confidence
    # below this is taken for Latin text misread, and read again with every language.
    garbled_below: float = 60.0
    # Tesseract's global Otsu threshold reads our pages best (Sauvola loses the first character
    # of some lines and keeps seal remnants); clean_background makes it safe on noisy pages.
    thresholding_method: int = 0
    # Below this mean word confidence (or with no words read from a page with ink) a page is
    # checked for a wrong orientation: benchmark pages read at 85-92 upright, 20-30 upside down
    # and 0-12 on their side.
    orientation_check_below: float = 60.0
    # Skew smaller than this is left alone: turning the page costs more than it gains.
    min_skew_degrees: float = 0.2
    max_skew_degrees: float = 5.0


class _Frame:
    """The affine map from the original page's coordinates to those of the image being read."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.original_size = size
        self.matrix = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)  # x' = a x + b y + c, y' = d x + e y + f

    def then(self, a: float, b: float, c: float, d: float, e: float, f: float) -> _Frame:
        """Return this map followed by (a, b, c, d, e, f)."""
        a0, b0, c0, d0, e0, f0 = self.matrix
        frame = _Frame(self.original_size)
        frame.matrix = (
            a * a0 + b * d0, a * b0 + b * e0, a * c0 + b * f0 + c,
            d * a0 + e * d0, d * b0 + e * e0, d * c0 + e * f0 + f,
        )
        return frame

    def to_original(self, box: WordBox) -> WordBox:
        """The box's bounding box in the original page, clipped to it."""
        a, b, c, d, e, f = self.matrix
        det = a * e - b * d
        xs, ys = [], []
        for x in (box.left, box.left + box.width):
            for y in (box.top, box.top + box.height):
                xs.append((e * (x - c) - b * (y - f)) / det)
                ys.append((a * (y - f) - d * (x - c)) / det)
        width, height = self.original_size
        left, top = min(max(0, math.floor(min(xs))), width - 1), min(max(0, math.floor(min(ys))), height - 1)
        right, bottom = min(width, math.ceil(max(xs))), min(height, math.ceil(max(ys)))
        return replace(box, left=left, top=top, width=max(1, right - left), height=max(1, bottom - top))


@dataclass
class _Page:
    """The image being prepared for tesseract, and how it maps to the original."""

    image: Image.Image
    frame: _Frame
    dpi: int | None
    ruled: bool = False  # it had horizontal and vertical rules: a ruled table or form

    def transformed(self, image: Image.Image, frame: _Frame) -> _Page:
        if self.dpi:
            image.info["dpi"] = (self.dpi, self.dpi)
        return _Page(image, frame, self.dpi, self.ruled)


@dataclass
class _Reading:
    """A page's lines in reading order, the layout they were read in and the languages used."""

    lines: list[TextLine]
    layout: str
    languages: str

    def recognized(self, recognizer: TesseractRecognizer) -> RecognizedText:
        return replace(recognizer.assemble(self.lines), layout=self.layout, languages=self.languages)


class OcrPipeline:
    """Recognise one page image at a time.

    Tesseract's multi-language mode is sticky: once a word reads better in the second language,
    the next words are tried in that language first and kept if merely acceptable, so with
    chi_sim+eng the Chinese after a number or a Latin word comes out as Latin letters (申请人承诺
    → "Finis", 签发机关 → "SANA"). With primary_language_first the page is read with the first
    language alone — chi_sim reads Latin letters and digits too — and then, together in one small
    image, read again with all the configured languages: the lines that are mostly Latin letters
    (their new reading replaces the old), and codes like "HT2024-0107", of which only the hyphens
    the first reading dropped are taken ("HT-2024-0107").
    """

    def __init__(self, recognizer: TesseractRecognizer, settings: PipelineSettings | None = None) -> None:
        self.recognizer = recognizer
        self.settings = settings or PipelineSettings()

    def recognize_page(self, image: Image.Image, dpi: int | None) -> RecognizedText:
        """Return the page's text, mean word confidence and word boxes (in image's coordinates).

        dpi is the scan's resolution if known. Raise RecognitionError when tesseract fails.
        """
        settings = self.settings
        page = self._prepare(image, dpi)
        limit = settings.max_skew_degrees
        skew = measure_skew(page.image, limit=limit) if settings.deskew or settings.orientation else None
        checked_orientation = False
        as_given: tuple[_Page, Skew] | None = None
        if settings.orientation and skew is not None and skew.sideways:
            checked_orientation = True
            turn = self.recognizer.detect_orientation(page.image)
            if turn:
                as_given = (page, skew)
                page = _turn(page, turn)
                skew = measure_skew(page.image, limit=limit)
        if settings.deskew and skew is not None and abs(skew.angle) >= settings.min_skew_degrees:
            page = _rotate(page, skew.angle)
        reading = self._read(page.image, page.ruled)
        result = reading.recognized(self.recognizer)
        has_ink = skew is not None and skew.ink
        misread = has_ink and (not result.words or result.confidence < settings.orientation_check_below)
        if as_given is not None and misread:
            # The profile test also takes a table's columns for lines on their side, and OSD then
            # guesses: a page that reads badly turned is read as it was given, and the better kept.
            kept, kept_skew = as_given
            if settings.deskew and abs(kept_skew.angle) >= settings.min_skew_degrees:
                kept = _rotate(kept, kept_skew.angle)
            again = self._read(kept.image, kept.ruled).recognized(self.recognizer)
            if again.confidence > result.confidence:
                page, result = kept, again
        if settings.orientation and not checked_orientation and misread:
            turn = self.recognizer.detect_orientation(page.image)
            if turn:
                turned = _turn(page, turn)
                again = self._read(turned.image, turned.ruled).recognized(self.recognizer)
                if again.confidence > result.confidence:
                    page, result = turned, again
        return replace(result, words=[page.frame.to_original(word) for word in result.words])

    def _prepare(self, image: Image.Image, dpi: int | None) -> _Page:
        settings = self.settings
        # Seals are red; text is black or blue. In the red channel a seal is nearly white while
        # black and blue ink stay dark.
        grey = image.getchannel("R") if image.mode == "RGB" and settings.drop_red else image.convert("L")
        frame = _Frame(image.size)
        if settings.upscale:
            line_height = text_line_height(grey) if not dpi or dpi <= UNTRUSTED_DPI else None
            scale, dpi = upscale_factor(grey.size, dpi, line_height)
            if scale > 1.0:
                size = (round(grey.width * scale), round(grey.height * scale))
                frame = frame.then(size[0] / grey.width, 0, 0, 0, size[1] / grey.height, 0)
                grey = grey.resize(size, Image.Resampling.LANCZOS)
        if settings.clean_background:
            grey = clean_background(grey)
        ruled = False
        if settings.remove_rules:
            grey, ruled = find_rules(grey, text_line_height(grey))
        if settings.denoise and noise_level(grey) >= settings.denoise_above:
            grey = grey.filter(ImageFilter.MedianFilter(3))
        if dpi:
            grey.info["dpi"] = (dpi, dpi)
        return _Page(grey, frame, dpi, ruled)

    def _read(self, image: Image.Image, ruled: bool = False) -> _Reading:
        settings = self.settings
        # A ruled table, its rules whitened, is sparse: tesseract's automatic layout drops short
        # cells from it, and one column of lines (PSM 4) may still read it column by column; one
        # uniform block (PSM 6) reads it row by row, every cell.
        psm = RULED_PSM if ruled and settings.psm is None else None
        primary, _, others = self.recognizer.languages.partition("+")
        if not settings.primary_language_first or not others:
            return self._arranged(self._read_lines(image, psm=psm), self.recognizer.languages, psm)
        if settings.detect_script and primary in CJK_LANGUAGES:
            latin, cjk = self._sample_script(image, primary)
            if latin >= MIN_LATIN_LETTERS and latin >= LATIN_PAGE_RATIO * cjk:
                lines = self._read_latin_page(image, others, cjk_seen=cjk >= MIN_CJK_SEEN, psm=psm)
                return self._arranged(lines, others, psm)
        lines = self._read_lines(image, languages=primary, psm=psm)
        # What the primary language may have misread: lines of Latin text (mostly Latin letters, or
        # Latin letters read with low confidence), and in other lines the codes that may have lost
        # a hyphen (_LETTER_DIGIT).
        wanted: list[tuple[int, int | None]] = []
        for index, line in enumerate(lines):
            if _mostly_latin(line) or _garbled(line, settings.garbled_below):
                wanted.append((index, None))
            else:
                wanted += [(index, number) for number, word in enumerate(line.words) if _LETTER_DIGIT.search(word.text)]
        if wanted:
            boxes = [lines[i].words if n is None else [lines[i].words[n]] for i, n in wanted]
            for (index, number), words in zip(wanted, self._reread(image, boxes), strict=True):
                line = lines[index]
                if number is None and words and (_mostly_latin(line) or _mean_confidence(words) > _mean_confidence(line.words)):
                    # The new reading replaces the old one: the line's words are these now, once.
                    lines[index] = TextLine(paragraph=line.paragraph, words=words)
                elif number is not None and _only_hyphens_added(line.words[number].text, "".join(w.text for w in words)):
                    fixed = [*line.words]
                    fixed[number] = replace(fixed[number], text="".join(w.text for w in words).strip(_STRAY_MARKS))
                    lines[index] = TextLine(paragraph=line.paragraph, words=fixed)
        return self._arranged(lines, self.recognizer.languages, psm)

    def _read_latin_page(self, image: Image.Image, latin: str, *, cjk_seen: bool, psm: int | None) -> list[TextLine]:
        """Read a page in Latin script with the Latin languages; if the script sample saw CJK
        characters, the lines they read with low confidence (a Chinese title or address on an
        English page) are read again with the CJK language, and take that reading if it is
        confident and holds CJK characters. (A page with no CJK in its sample is spared that
        reading: on tables and charts many lines read with low confidence.)"""
        lines = self._read_lines(image, languages=latin, psm=psm)
        if not cjk_seen:
            return lines
        doubtful = [index for index, line in enumerate(lines)
                    if _mean_confidence(line.words) < self.settings.garbled_below]
        if not doubtful:
            return lines
        # The primary language alone: with all of them, Chinese after a number turns into Latin letters.
        primary = self.recognizer.languages.partition("+")[0]
        rereads = self._reread(image, [lines[i].words for i in doubtful], languages=primary)
        for index, words in zip(doubtful, rereads, strict=True):
            confidence = _mean_confidence(words)
            if (words and confidence >= CONFIDENT_CJK_READING and confidence > _mean_confidence(lines[index].words)
                    and any(_is_cjk(char) for word in words for char in word.text)):
                lines[index] = TextLine(paragraph=lines[index].paragraph, words=words)
        return lines

    def _arranged(self, lines: list[TextLine], languages: str, psm: int | None = None) -> _Reading:
        if psm == RULED_PSM and self.settings.psm is None:
            return _Reading(lines, TABLE, languages)
        if self.settings.psm is not None:
            return _Reading(lines, f"psm {self.settings.psm}", languages)
        arranged, layout = arrange_lines(lines)
        return _Reading(arranged, layout, languages)

    def _sample_script(self, image: Image.Image, primary: str) -> tuple[int, int]:
        """(Latin letters, CJK characters) in a few of the page's lines read with the primary (CJK)
        language: the page is in Latin script with LATIN_PAGE_RATIO times more of the first."""
        boxes = sample_lines(image, self.settings.script_sample_lines)
        if not boxes:
            return 0, 0
        sample, _ = stack(image, boxes)
        lines = self.recognizer.read_lines(sample, languages=primary, psm=STACK_PSM,
                                           thresholding_method=self.settings.thresholding_method)
        text = "".join(word.text for line in lines for word in line.words)
        latin = sum(1 for char in text if char.isascii() and char.isalpha())
        return latin, sum(1 for char in text if _is_cjk(char))

    def _read_lines(self, image: Image.Image, *, languages: str | None = None, psm: int | None = None) -> list[TextLine]:
        return self.recognizer.read_lines(
            image, languages=languages, psm=psm or self.settings.psm or AUTOMATIC_PSM,
            thresholding_method=self.settings.thresholding_method,
        )

    def _reread(self, image: Image.Image, groups: list[list[WordBox]], *, languages: str | None = None) -> list[list[WordBox]]:
        """Read each group of words again, all groups in one stack of crops: with languages if
        given, else with the secondary languages if the groups hold only Latin text, else with all."""
        boxes, spans = [], []
        for words in groups:
            left = min(w.left for w in words)
            top = min(w.top for w in words)
            right = max(w.left + w.width for w in words)
            bottom = max(w.top + w.height for w in words)
            pad = round((bottom - top) * CROP_PADDING) + 2
            spans.append((top, bottom))
            # Boxes a Latin model drew round CJK text may miss a character at either end.
            side = pad if languages is None else bottom - top + pad
            boxes.append((max(0, left - side), max(0, top - pad), min(image.width, right + side),
                          min(image.height, bottom + pad)))
        stack = Image.new("L", (max(b[2] - b[0] for b in boxes), sum(b[3] - b[1] for b in boxes)), 255)
        offsets, y = [], 0
        for box in boxes:
            stack.paste(image.crop(box), (0, y))
            offsets.append(y)
            y += box[3] - box[1]
        if "dpi" in image.info:
            stack.info["dpi"] = image.info["dpi"]
        # The secondary languages alone start faster, and read Latin text best, when there is no
        # Chinese to read.
        _, _, others = self.recognizer.languages.partition("+")
        latin_only = all(char.isascii() or not char.isalpha() for words in groups for w in words for char in w.text)
        found: list[list[WordBox]] = [[] for _ in groups]
        psm = STACK_PSM if languages is None else UNIFORM_BLOCK_PSM
        if languages is None and latin_only and others:
            languages = others
        for line in self._read_lines(stack, languages=languages, psm=psm):
            for word in line.words:
                middle = word.top + word.height / 2
                index = next((i for i in range(len(boxes) - 1, -1, -1) if offsets[i] <= middle), 0)
                left, top = boxes[index][0], boxes[index][1]
                moved = replace(word, left=word.left + left, top=word.top - offsets[index] + top)
                # The padding may show a sliver of the lines above and below: what is read there
                # belongs to them, and would come out twice.
                if spans[index][0] <= moved.top + moved.height / 2 <= spans[index][1]:
                    found[index].append(moved)
        return found


def _mean_confidence(words: list[WordBox]) -> float:
    scored = [word.confidence for word in words if word.confidence >= 0]
    return sum(scored) / len(scored) if scored else 0.0


def _garbled(line: TextLine, below: float) -> bool:
    """Latin letters read with a mean word confidence below `below`: Latin text the CJK model misread."""
    latin = sum(1 for word in line.words for char in word.text if char.isascii() and char.isalpha())
    return latin >= MIN_GARBLED_LETTERS and _mean_confidence(line.words) < below


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF \
        or 0xF900 <= code <= 0xFAFF or code >= 0x20000


# What a trace of a rule or a speck next to a code reads as.
_STRAY_MARKS = "\"'`|\u2018\u2019\u201c\u201d"


def _only_hyphens_added(old: str, new: str) -> bool:
    """The new reading is the old one with hyphens added (and stray marks at its ends dropped)."""
    old, new = old.strip(_STRAY_MARKS), new.strip(_STRAY_MARKS)
    return new.count("-") > old.count("-") and new.replace("-", "") == old.replace("-", "")


def _mostly_latin(line: TextLine) -> bool:
    """At least MIN_LATIN_LETTERS Latin letters, and twice as many as other letters (Chinese)."""
    text = "".join(word.text for word in line.words)
    latin = sum(1 for char in text if char.isascii() and char.isalpha())
    han = sum(1 for char in text if not char.isascii() and char.isalpha())
    return latin >= MIN_LATIN_LETTERS and latin >= 2 * han


def _rotate(page: _Page, angle: float) -> _Page:
    """Turn the page counter-clockwise by angle degrees about its centre, keeping its size."""
    image = page.image
    rotated = image.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
    cx, cy = image.width / 2, image.height / 2
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return page.transformed(rotated, page.frame.then(cos, sin, cx - cos * cx - sin * cy,
                                                     -sin, cos, cy + sin * cx - cos * cy))


def _turn(page: _Page, clockwise: int) -> _Page:
    """Turn the page clockwise by a multiple of 90 degrees."""
    width, height = page.image.size
    if clockwise == 90:
        return page.transformed(page.image.transpose(Image.Transpose.ROTATE_270),
                                page.frame.then(0, -1, height, 1, 0, 0))
    if clockwise == 180:
        return page.transformed(page.image.transpose(Image.Transpose.ROTATE_180),
                                page.frame.then(-1, 0, width, 0, -1, height))
    return page.transformed(page.image.transpose(Image.Transpose.ROTATE_90),
                            page.frame.then(0, 1, 0, -1, 0, width))
