"""OCR on real pages nobody here generated: our pipeline against raw tesseract, same pages, same run.

The pages and their ground truth live in `shared/ocr-real/` beside the repository (its README gives
the sources); they are never copied into the repository. Each page is decoded as capture decodes it
(ocr.inputs.iter_pages) and read by:

  * raw eng: `tesseract PAGE - -l eng --psm 3` (one thread);
  * raw chi_sim+eng: the same with `-l chi_sim+eng`;
  * ours: ocr.pipeline.OcrPipeline with the archive's settings (languages `chi_sim+eng` by default).

Figures, per page and overall:
  * CER: edit distance between output and truth, all whitespace removed, over the truth's length
    (overall: total edits over total truth length) — it shows scrambled columns and duplicated text;
  * recall: the share of the truth's words (Latin letters and digits, 3 or more characters,
    lower-cased) found anywhere in the output — what full-text search needs (overall: pooled words);
  * seconds per page (wall, one tesseract thread each, one page at a time).

Targets: overall CER <= 0.8x raw eng's; overall recall >= raw eng's; on no page recall more than
1 point below raw eng's; mean time per page <= 1.3x raw eng's.

    .venv/bin/python benchmarks/ocr_real_bench.py
    .venv/bin/python benchmarks/ocr_real_bench.py --pages table_02,phototest --show
"""

from __future__ import annotations

import argparse
import html
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ocr_bench import levenshtein, table, tesseract_version  # noqa: E402
from ocr.inputs import iter_pages  # noqa: E402
from ocr.pipeline import OcrPipeline  # noqa: E402
from ocr.tesseract import TesseractRecognizer  # noqa: E402

REAL_PAGES = ROOT.parent / "shared" / "ocr-real"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
TARGET_CER_RATIO = 0.8
TARGET_TIME_RATIO = 1.3
MAX_PAGE_RECALL_DROP = 0.01

_WORD_SPAN = re.compile(r'<span class=["\']ocrx_word["\'][^>]*>(.*?)</span>', re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_WHITESPACE = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class RealPage:
    name: str
    image: Path
    truth: str


def real_pages(folder: Path = REAL_PAGES) -> list[RealPage]:
    """The pages in folder that have a ground truth (`NAME.hocr` or `NAME.txt` beside the image)."""
    pages = []
    for image in sorted(folder.iterdir()):
        if image.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        hocr, txt = image.with_suffix(".hocr"), image.with_suffix(".txt")
        if hocr.exists():
            truth = read_hocr_words(hocr.read_text(encoding="utf-8"))
        elif txt.exists():
            truth = txt.read_text(encoding="utf-8")
        else:
            continue
        pages.append(RealPage(image.stem, image, truth))
    return pages


def read_hocr_words(hocr: str) -> str:
    """The words of an hOCR file, in its order, separated by spaces."""
    return " ".join(html.unescape(_TAG.sub("", word)).strip() for word in _WORD_SPAN.findall(hocr))


def edits(truth: str, text: str) -> int:
    return levenshtein(_WHITESPACE.sub("", truth), _WHITESPACE.sub("", text))


def truth_words(text: str) -> list[str]:
    """Words that count for recall: runs of Latin letters and digits, 3 or more, lower-cased."""
    return [word for word in _TOKEN.findall(text.lower()) if len(word) >= 3]


def found_words(truth: str, text: str) -> tuple[int, int]:
    """(found, total): how many of the truth's words appear anywhere in text."""
    words = truth_words(truth)
    seen = set(_TOKEN.findall(text.lower()))
    return sum(1 for word in words if word in seen), len(words)


@dataclass
class Score:
    edits: int = 0
    length: int = 0
    found: int = 0
    words: int = 0
    seconds: float = 0.0
    pages: int = 0

    def add(self, truth: str, text: str, seconds: float) -> Score:
        found, words = found_words(truth, text)
        self.edits += edits(truth, text)
        self.length += len(_WHITESPACE.sub("", truth))
        self.found += found
        self.words += words
        self.seconds += seconds
        self.pages += 1
        return self

    @property
    def cer(self) -> float:
        return self.edits / max(1, self.length)

    @property
    def recall(self) -> float:
        return self.found / max(1, self.words)

    @property
    def seconds_per_page(self) -> float:
        return self.seconds / max(1, self.pages)


def read_raw(path: Path, languages: str) -> tuple[str, float]:
    started = time.perf_counter()
    completed = subprocess.run(
        ["tesseract", str(path), "-", "-l", languages, "--psm", "3"],
        capture_output=True, text=True, check=True, env=dict(os.environ, OMP_THREAD_LIMIT="1"),
    )
    return completed.stdout, time.perf_counter() - started


def read_raw_cached(path: Path, languages: str, cache: Path | None) -> tuple[str, float]:
    if cache is None:
        return read_raw(path, languages)
    kept = cache / f"{path.stem}.{languages}.txt"
    if kept.exists():
        seconds, _, text = kept.read_text(encoding="utf-8").partition("\n")
        return text, float(seconds)
    text, seconds = read_raw(path, languages)
    cache.mkdir(parents=True, exist_ok=True)
    kept.write_text(f"{seconds}\n{text}", encoding="utf-8")
    return text, seconds


def read_ours(pipeline: OcrPipeline, path: Path) -> tuple[str, float, str]:
    started = time.perf_counter()
    texts, layouts = [], []
    for page in iter_pages(path):
        result = pipeline.recognize_page(page.image, page.dpi)
        texts.append(result.text)
        layouts.append(getattr(result, "layout", "") or "")
    return "\n\n".join(texts), time.perf_counter() - started, ",".join(layouts)


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=REAL_PAGES)
    parser.add_argument("--languages", default="chi_sim+eng", help="the pipeline's languages")
    parser.add_argument("--pages", help="comma-separated page names (default: all)")
    parser.add_argument("--show", action="store_true", help="print each page's text from our pipeline")
    parser.add_argument("--raw-cache", type=Path, help="a folder keeping raw tesseract's outputs between runs "
                        "(for development: its times are those of the first run)")
    args = parser.parse_args()
    if not args.folder.is_dir():
        print(f"skipped: {args.folder} is absent (the real pages are not in the repository)")
        return 0
    os.environ["OMP_THREAD_LIMIT"] = "1"
    pages = real_pages(args.folder)
    if args.pages:
        pages = [page for page in pages if page.name in args.pages.split(",")]
    pipeline = OcrPipeline(TesseractRecognizer(languages=args.languages))
    print(f"{len(pages)} real pages from {args.folder}; pipeline languages {args.languages}; tesseract "
          f"{tesseract_version()}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    totals = {"eng": Score(), "chi_sim+eng": Score(), "ours": Score()}
    rows, worst_drop, worst_page = [], 0.0, ""
    for page in pages:
        scores = {}
        for languages in ("eng", "chi_sim+eng"):
            text, seconds = read_raw_cached(page.image, languages, args.raw_cache)
            scores[languages] = Score().add(page.truth, text, seconds)
            totals[languages].add(page.truth, text, seconds)
        text, seconds, layout = read_ours(pipeline, page.image)
        scores["ours"] = Score().add(page.truth, text, seconds)
        totals["ours"].add(page.truth, text, seconds)
        if args.show:
            print(f"--- {page.name} ({layout})\n{text}\n")
        drop = scores["eng"].recall - scores["ours"].recall
        if drop > worst_drop:
            worst_drop, worst_page = drop, page.name
        rows.append([
            page.name, layout,
            pct(scores["ours"].cer), pct(scores["eng"].cer), pct(scores["chi_sim+eng"].cer),
            pct(scores["ours"].recall), pct(scores["eng"].recall), pct(scores["chi_sim+eng"].recall),
            f"{scores['ours'].seconds:.2f}", f"{scores['eng'].seconds:.2f}", f"{scores['chi_sim+eng'].seconds:.2f}",
        ])
    ours, eng, mixed = totals["ours"], totals["eng"], totals["chi_sim+eng"]
    rows.append([
        "all", "", pct(ours.cer), pct(eng.cer), pct(mixed.cer), pct(ours.recall), pct(eng.recall),
        pct(mixed.recall), f"{ours.seconds_per_page:.2f}", f"{eng.seconds_per_page:.2f}",
        f"{mixed.seconds_per_page:.2f}",
    ])
    print(table(["page", "layout", "CER ours", "CER eng", "CER chi+eng", "recall ours", "recall eng",
                 "recall chi+eng", "s ours", "s eng", "s chi+eng"], rows))
    print("(the 'all' row: pooled CER and recall; mean seconds per page)")
    ratio = ours.cer / max(eng.cer, 1e-9)
    time_ratio = ours.seconds_per_page / max(eng.seconds_per_page, 1e-9)
    verdicts = {
        f"CER ours/raw eng {ratio:.2f} <= {TARGET_CER_RATIO}": ratio <= TARGET_CER_RATIO,
        f"recall ours {pct(ours.recall)} >= raw eng {pct(eng.recall)}": ours.recall >= eng.recall,
        f"worst page recall drop below raw eng {worst_drop * 100:.1f} points ({worst_page or '-'}) <= 1":
            worst_drop <= MAX_PAGE_RECALL_DROP,
        f"time per page ours/raw eng {time_ratio:.2f} <= {TARGET_TIME_RATIO}": time_ratio <= TARGET_TIME_RATIO,
    }
    print()
    for what, ok in verdicts.items():
        print(f"{'PASS' if ok else 'FAIL'}  {what}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(f"ocr_real: pipeline/raw CER ratio {ratio:.2f}, recall {ours.recall * 100:.1f}% (raw {eng.recall * 100:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
