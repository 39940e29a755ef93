"""The pipeline on real pages nobody here generated (../shared/ocr-real/, never copied into the repo)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks.ocr_real_bench import REAL_PAGES, edits, found_words, real_pages
from ocr.inputs import iter_pages
from ocr.pipeline import OcrPipeline
from ocr.tesseract import TesseractRecognizer

pytestmark = [
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed"),
    pytest.mark.skipif(not REAL_PAGES.is_dir(), reason=f"the real dev pages are absent ({REAL_PAGES})"),
]


@pytest.fixture(scope="module")
def pipeline() -> OcrPipeline:
    return OcrPipeline(TesseractRecognizer("chi_sim+eng", timeout=300))


def _page(name: str):
    page = next((page for page in real_pages() if page.name == name), None)
    if page is None:
        pytest.skip(f"{name} is not among the real dev pages")
    return page


def _read(pipeline: OcrPipeline, path: Path):
    (source,) = list(iter_pages(path))
    return pipeline.recognize_page(source.image, source.dpi)


def _length(text: str) -> int:
    return len("".join(text.split()))


def test_a_multi_column_english_page_is_read_once_in_english_not_twice(pipeline: OcrPipeline) -> None:
    page = _page("multicol_03")

    result = _read(pipeline, page.image)

    assert result.languages == "eng"
    assert _length(result.text) <= 1.15 * _length(page.truth)
    found, total = found_words(page.truth, result.text)
    assert found / total >= 0.95


def test_a_clean_english_test_page_reads_as_well_as_raw_tesseract(pipeline: OcrPipeline) -> None:
    page = _page("phototest")

    result = _read(pipeline, page.image)

    assert edits(page.truth, result.text) / _length(page.truth) <= 0.01


def test_a_ruled_table_is_read_with_no_fewer_words_and_fewer_errors_than_raw_tesseract(pipeline: OcrPipeline) -> None:
    page = _page("table_11")
    raw = subprocess.run(["tesseract", str(page.image), "-", "-l", "eng", "--psm", "3"], capture_output=True,
                         text=True, check=True, env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout

    result = _read(pipeline, page.image)

    assert found_words(page.truth, result.text)[0] >= found_words(page.truth, raw)[0]
    assert edits(page.truth, result.text) < edits(page.truth, raw)
