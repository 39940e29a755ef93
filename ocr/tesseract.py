"""Text recognition with the tesseract command-line program, through pytesseract."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytesseract
from PIL import Image

from ocr.base import RecognitionError, RecognizedText, WordBox

_HAN = (
    "\u2e80-\u2fdf"  # radicals
    "\u3040-\u30ff"  # kana
    "\u3100-\u312f\u31a0-\u31bf"  # bopomofo
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ideographs
    "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"  # full-width digits and letters
    "\U00020000-\U0003134f"  # ideographs, extensions B onwards
)
# Punctuation that is full-width by design: it never takes a space on either side.
_WIDE_PUNCT = "\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
# Punctuation shared with Western text: spaces around it go only when its neighbour is CJK.
_SHARED_PUNCT = "\u00b7\u2014\u2018\u2019\u201c\u201d\u2026"
_GAP = "[ \t\u00a0\u3000]+"  # horizontal whitespace only; line breaks stay
_CJK = f"[{_HAN}{_WIDE_PUNCT}{_SHARED_PUNCT}]"
_BETWEEN_CJK = re.compile(f"(?<={_CJK}){_GAP}(?={_CJK})")
_BEFORE_WIDE_PUNCT = re.compile(f"{_GAP}(?=[{_WIDE_PUNCT}])")
_AFTER_WIDE_PUNCT = re.compile(f"(?<=[{_WIDE_PUNCT}]){_GAP}")

# ASCII punctuation tesseract emits for the full-width forms Chinese text uses (GB/T 15834).
_FULL_WIDTH = str.maketrans({":": "\uff1a", ";": "\uff1b", ",": "\uff0c", "!": "\uff01", "?": "\uff1f",
                             "(": "\uff08", ")": "\uff09"})
_ASCII_AFTER_HAN = re.compile(f"(?<=[{_HAN}])(?:{_GAP})?([:;,!?)])")
_ASCII_BEFORE_HAN = re.compile(f"([(,;])(?:{_GAP})?(?=[{_HAN}])")

_WORD_LEVEL = 5
_OSD_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)


def normalize_cjk_text(text: str) -> str:
    """Write punctuation that follows a Chinese character (and an opening bracket, comma or
    semicolon that precedes one) in its full-width form, then normalise spacing as
    normalize_cjk_spacing does.

    Tesseract reads "合同编号：" as "合同编号 :" and "10kV，供电" as "10kV, 供电"; Latin text
    ("Contact: Li") and numbers ("1,000") keep their ASCII punctuation.
    """
    text = _ASCII_AFTER_HAN.sub(lambda match: match.group(1).translate(_FULL_WIDTH), text)
    text = _ASCII_BEFORE_HAN.sub(lambda match: match.group(1).translate(_FULL_WIDTH), text)
    return normalize_cjk_spacing(text)


def normalize_cjk_spacing(text: str) -> str:
    """Remove the spaces tesseract puts between Chinese characters and around full-width punctuation.

    Spaces between Latin words and numbers, and between them and Chinese, are kept.
    """
    text = _BETWEEN_CJK.sub("", text)
    text = _BEFORE_WIDE_PUNCT.sub("", text)
    return _AFTER_WIDE_PUNCT.sub("", text)


@dataclass(frozen=True)
class TextLine:
    """One line as tesseract found it: its words, and the paragraph it belongs to."""

    paragraph: tuple[int, int, int]  # page, block, paragraph numbers
    words: list[WordBox]


class TesseractRecognizer:
    """Recognise printed text in page images with tesseract.

    languages is tesseract's -l value; psm its page segmentation mode (3: automatic layout,
    4: one column of lines of varying size, 6: one uniform block). thresholding_method is
    tesseract's: 0 global Otsu, 1 tiled Otsu, 2 Sauvola. Sauvola is the default because global
    Otsu splits the background noise of a sparse noisy page and tesseract then spends minutes on
    the speckle; ocr.pipeline cleans such pages first and reads with Otsu. Each call runs one
    single-threaded tesseract process, so parallelism belongs to the caller (one recognition per
    core). Calls raise RecognitionError when tesseract fails, for example when language data is
    missing, or exceeds timeout seconds.
    """

    def __init__(
        self,
        languages: str = "chi_sim+eng",
        psm: int = 3,
        *,
        oem: int = 1,
        thresholding_method: int = 2,
        timeout: float = 300,
        threads: int = 1,
        cjk_punctuation: bool = True,
    ) -> None:
        self.languages = languages
        self.psm = psm
        self.oem = oem
        self.thresholding_method = thresholding_method
        self.timeout = timeout
        self.threads = threads
        self.cjk_punctuation = cjk_punctuation

    def recognize(self, image: Image.Image, *, languages: str | None = None) -> RecognizedText:
        """Return the text, mean word confidence and word boxes found in image.

        languages overrides the recognizer's own for this call.
        """
        return self.assemble(self.read_lines(image, languages=languages))

    def read_lines(
        self,
        image: Image.Image,
        *,
        languages: str | None = None,
        psm: int | None = None,
        thresholding_method: int | None = None,
    ) -> list[TextLine]:
        """Return the lines of words found in image, in reading order; the keywords override the
        recognizer's own settings for this call."""
        method = self.thresholding_method if thresholding_method is None else thresholding_method
        config = f"--psm {psm or self.psm} --oem {self.oem} -c thresholding_method={method}"
        dpi = _image_dpi(image)
        if dpi:
            config += f" --dpi {dpi}"
        # hOCR rather than TSV: the same words, boxes and confidences, and tesseract writes it
        # faster (on a dense A4 page TSV costs half a reading more, hOCR a fifth).
        hocr = self._run(_image_to_hocr, image, lang=languages or self.languages, config=config)
        return parse_hocr(hocr)

    def assemble(self, lines: list[TextLine]) -> RecognizedText:
        """Join lines into text (a blank line between paragraphs) with the mean word confidence."""
        tidy = normalize_cjk_text if self.cjk_punctuation else normalize_cjk_spacing
        paragraphs: dict[tuple[int, int, int], list[str]] = {}
        for line in lines:
            if line.words:
                paragraphs.setdefault(line.paragraph, []).append(tidy(" ".join(w.text for w in line.words)))
        words = [word for line in lines for word in line.words]
        scored = [word.confidence for word in words if word.confidence >= 0]
        return RecognizedText(
            text="\n\n".join("\n".join(texts) for texts in paragraphs.values()),
            confidence=sum(scored) / len(scored) if scored else 0.0,
            words=words,
        )

    def detect_orientation(self, image: Image.Image) -> int:
        """Return the clockwise rotation in degrees (0, 90, 180, 270) that makes the page upright.

        Return 0 when tesseract finds too little text to decide.
        """
        config = f"--psm 0 -c thresholding_method={self.thresholding_method}"
        dpi = _image_dpi(image)
        if dpi:
            config += f" --dpi {dpi}"
        try:
            osd = self._run(pytesseract.image_to_osd, image, config=config)
        except RecognitionError as error:
            if "Too few characters" in str(error):
                return 0
            raise
        match = _OSD_ROTATE.search(osd)
        return int(match.group(1)) % 360 if match else 0

    def _run(self, function: Callable[..., str], image: Image.Image, **kwargs: str) -> str:
        # pytesseract starts tesseract with this process's environment and offers no other way
        # to set it; without the limit each process uses every core and parallel runs thrash.
        os.environ["OMP_THREAD_LIMIT"] = str(self.threads)
        try:
            with tempfile.TemporaryDirectory(prefix="archive-ocr-") as folder:
                # Uncompressed PNM (PBM, PGM or PPM by mode): pytesseract would write a PNG, whose
                # compression costs a tenth of tesseract's own time on an A4 page. PNM has no
                # resolution field, so the caller passes --dpi.
                path = Path(folder) / "page.pnm"
                _as_pnm_mode(image).save(path, format="PPM")
                return function(str(path), timeout=self.timeout, **kwargs)
        except pytesseract.TesseractNotFoundError as error:
            raise RecognitionError("tesseract is not installed or not on the PATH") from error
        except pytesseract.TesseractError as error:
            raise RecognitionError(f"tesseract failed: {error.message or error.status}") from error
        except RuntimeError as error:
            if "timeout" in str(error):
                raise RecognitionError(f"tesseract took longer than {self.timeout} seconds") from error
            raise


def _as_pnm_mode(image: Image.Image) -> Image.Image:
    if image.mode in ("1", "L", "RGB"):
        return image
    if "A" in image.getbands():
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")


def _image_dpi(image: Image.Image) -> int | None:
    dpi = image.info.get("dpi")
    try:
        value = round(float(dpi[0]))  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None
    return value if 70 <= value <= 2400 else None


def _image_to_hocr(path: str, **kwargs: object) -> str:
    data = pytesseract.image_to_pdf_or_hocr(path, extension="hocr", **kwargs)  # type: ignore[arg-type]
    return data.decode("utf-8") if isinstance(data, bytes) else str(data)


_LINE_CLASSES = {"ocr_line", "ocr_caption", "ocr_textfloat", "ocr_header"}
_BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
_WCONF = re.compile(r"x_wconf (-?[\d.]+)")


class _HocrLines(HTMLParser):
    """Collects the lines of words of tesseract's hOCR, numbering blocks and paragraphs as TSV does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[TextLine] = []
        self.page = self.block = self.paragraph = 0
        self.word: dict[str, object] | None = None
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        kind, title = values.get("class") or "", values.get("title") or ""
        if self.word is not None:
            self.depth += 1
        elif kind == "ocr_page":
            self.page += 1
            self.block = self.paragraph = 0
        elif kind == "ocr_carea":
            self.block += 1
            self.paragraph = 0
        elif kind == "ocr_par":
            self.paragraph += 1
        elif kind in _LINE_CLASSES:
            self.lines.append(TextLine(paragraph=(self.page, self.block, self.paragraph), words=[]))
        elif kind == "ocrx_word" and self.lines:
            box, confidence = _BBOX.search(title), _WCONF.search(title)
            if box:
                self.word = {"box": [int(v) for v in box.groups()], "text": [],
                             "confidence": float(confidence.group(1)) if confidence else -1.0}
                self.depth = 0

    def handle_data(self, data: str) -> None:
        if self.word is not None:
            self.word["text"].append(data)  # type: ignore[union-attr]

    def handle_endtag(self, tag: str) -> None:
        if self.word is None:
            return
        if self.depth:
            self.depth -= 1
            return
        text = "".join(self.word["text"]).strip()  # type: ignore[arg-type]
        left, top, right, bottom = self.word["box"]  # type: ignore[misc]
        if text:
            self.lines[-1].words.append(WordBox(text=text, confidence=self.word["confidence"],  # type: ignore[arg-type]
                                                left=left, top=top, width=right - left, height=bottom - top))
        self.word = None


def parse_hocr(hocr: str) -> list[TextLine]:
    """The lines of words in tesseract's hOCR output, in its reading order (empty lines left out)."""
    parser = _HocrLines()
    parser.feed(hocr)
    parser.close()
    return [line for line in parser.lines if line.words]


def _parse_tsv(tsv: str) -> list[TextLine]:
    """The lines of words in tesseract's TSV output, in its reading order."""
    rows = tsv.splitlines()
    if not rows:
        return []
    header = rows[0].split("\t")
    column = {name: index for index, name in enumerate(header)}
    lines: dict[tuple[int, int, int, int], TextLine] = {}
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) < len(header):
            cells += [""] * (len(header) - len(cells))
        if int(cells[column["level"]]) != _WORD_LEVEL:
            continue
        text = cells[column["text"]].strip()
        if not text:
            continue
        paragraph = (
            int(cells[column["page_num"]]),
            int(cells[column["block_num"]]),
            int(cells[column["par_num"]]),
        )
        key = (*paragraph, int(cells[column["line_num"]]))
        if key not in lines:
            lines[key] = TextLine(paragraph=paragraph, words=[])
        lines[key].words.append(
            WordBox(
                text=text,
                confidence=float(cells[column["conf"]]),
                left=int(cells[column["left"]]),
                top=int(cells[column["top"]]),
                width=int(cells[column["width"]]),
                height=int(cells[column["height"]]),
            )
        )
    return list(lines.values())
