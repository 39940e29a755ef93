"""Text recognition with the tesseract command-line program, through pytesseract."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable

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

_WORD_LEVEL = 5
_OSD_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)


def normalize_cjk_spacing(text: str) -> str:
    """Remove the spaces tesseract puts between Chinese characters and around full-width punctuation.

    Spaces between Latin words and numbers, and between them and Chinese, are kept.
    """
    text = _BETWEEN_CJK.sub("", text)
    text = _BEFORE_WIDE_PUNCT.sub("", text)
    return _AFTER_WIDE_PUNCT.sub("", text)


class TesseractRecognizer:
    """Recognise printed text in page images with tesseract.

    languages is tesseract's -l value; psm its page segmentation mode (3: automatic layout,
    6: one uniform block). thresholding_method is tesseract's: 0 global Otsu, 1 tiled Otsu,
    2 Sauvola; Sauvola is the default because global Otsu splits the background noise of a
    sparse page and tesseract then spends minutes on the speckle. Each call runs one single-threaded tesseract process, so parallelism
    belongs to the caller (one recognition per core). recognize raises RecognitionError when
    tesseract fails, for example when language data is missing, or exceeds timeout seconds.
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
    ) -> None:
        self.languages = languages
        self.psm = psm
        self.oem = oem
        self.thresholding_method = thresholding_method
        self.timeout = timeout
        self.threads = threads

    def recognize(self, image: Image.Image) -> RecognizedText:
        """Return the text, mean word confidence and word boxes found in image."""
        config = f"--psm {self.psm} --oem {self.oem} -c thresholding_method={self.thresholding_method}"
        dpi = _image_dpi(image)
        if dpi:
            config += f" --dpi {dpi}"
        tsv = self._run(pytesseract.image_to_data, image, lang=self.languages, config=config)
        return _parse_tsv(tsv)

    def detect_orientation(self, image: Image.Image) -> int:
        """Return the clockwise rotation in degrees (0, 90, 180, 270) that makes the page upright.

        Return 0 when tesseract finds too little text to decide.
        """
        try:
            osd = self._run(pytesseract.image_to_osd, image)
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
            return function(image, timeout=self.timeout, **kwargs)
        except pytesseract.TesseractNotFoundError as error:
            raise RecognitionError("tesseract is not installed or not on the PATH") from error
        except pytesseract.TesseractError as error:
            raise RecognitionError(f"tesseract failed: {error.message or error.status}") from error
        except RuntimeError as error:
            if "timeout" in str(error):
                raise RecognitionError(f"tesseract took longer than {self.timeout} seconds") from error
            raise


def _image_dpi(image: Image.Image) -> int | None:
    dpi = image.info.get("dpi")
    try:
        value = round(float(dpi[0]))  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None
    return value if 70 <= value <= 2400 else None


def _parse_tsv(tsv: str) -> RecognizedText:
    """Build the text (lines in paragraphs), mean confidence and word boxes from tesseract's TSV."""
    rows = tsv.splitlines()
    if not rows:
        return RecognizedText(text="", confidence=0.0, words=[])
    header = rows[0].split("\t")
    column = {name: index for index, name in enumerate(header)}
    words: list[WordBox] = []
    paragraphs: dict[tuple[int, int, int], dict[int, list[str]]] = {}
    for row in rows[1:]:
        cells = row.split("\t")
        if len(cells) < len(header):
            cells += [""] * (len(header) - len(cells))
        if int(cells[column["level"]]) != _WORD_LEVEL:
            continue
        text = cells[column["text"]].strip()
        if not text:
            continue
        confidence = float(cells[column["conf"]])
        words.append(
            WordBox(
                text=text,
                confidence=confidence,
                left=int(cells[column["left"]]),
                top=int(cells[column["top"]]),
                width=int(cells[column["width"]]),
                height=int(cells[column["height"]]),
            )
        )
        paragraph = (
            int(cells[column["page_num"]]),
            int(cells[column["block_num"]]),
            int(cells[column["par_num"]]),
        )
        line = int(cells[column["line_num"]])
        paragraphs.setdefault(paragraph, {}).setdefault(line, []).append(text)
    text = "\n\n".join(_paragraph_text(lines.values()) for lines in paragraphs.values())
    scored = [word.confidence for word in words if word.confidence >= 0]
    confidence = sum(scored) / len(scored) if scored else 0.0
    return RecognizedText(text=text, confidence=confidence, words=words)


def _paragraph_text(lines: Iterable[list[str]]) -> str:
    return "\n".join(normalize_cjk_spacing(" ".join(words)) for words in lines)
