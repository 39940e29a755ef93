"""Read a file's pages with the pipeline and store nothing: what `archive ocr read` prints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ocr.inputs import iter_pages
from ocr.pipeline import OcrPipeline
from ocr.tesseract import TesseractRecognizer


@dataclass(frozen=True)
class PageReading:
    """One page's text as the pipeline reads it, and how it was read."""

    number: int  # 1-based
    text: str
    confidence: float
    layout: str  # "lines", "columns" or "table" (ocr.layout)
    languages: str  # the tesseract languages the page was read with
    seconds: float


def pipeline_for(languages: str) -> OcrPipeline:
    """The pipeline with its default settings, reading with languages (tesseract's -l value)."""
    return OcrPipeline(TesseractRecognizer(languages=languages))


def read_pages(path: Path, pipeline: OcrPipeline) -> Iterator[PageReading]:
    """Yield each page of the image or PDF at path as pipeline reads it, one page at a time.

    PDF pages are rendered and read like scans, whatever text layer they carry. Raise an
    ocr.base.InputRejectedError when the file cannot be used, RecognitionError when tesseract fails.
    """
    for page in iter_pages(path):
        started = time.perf_counter()
        result = pipeline.recognize_page(page.image, page.dpi)
        yield PageReading(number=page.number, text=result.text, confidence=round(result.confidence, 1),
                          layout=result.layout, languages=result.languages,
                          seconds=round(time.perf_counter() - started, 2))
