"""OCR accuracy and speed: our pipeline against raw tesseract on the same generated pages.

The corpus (archive.demo.samples.sample_pages) is seeded: supply contracts with a red seal,
application forms in a ruled box and ID-card copies, Chinese with numbers and Latin, A4, in four
variants — clean (300 dpi), skewed 1–4° (300 dpi), noisy and blurred (300 dpi), and 150 dpi.
Each page is written once as a PNG with its resolution; both contestants read that file:

  * ours: a worker process opens the PNG and runs ocr.pipeline.OcrPipeline.recognize_page;
  * raw: a worker process runs `tesseract PAGE.png stdout -l LANGUAGES` with default settings.

Both run single-threaded tesseract (OMP_THREAD_LIMIT=1) in a pool of 1, then 2, worker processes.
CER is the edit distance over the ground truth's length, whitespace ignored (and, in the
"folded" columns, also after NFKC, which makes full- and half-width forms equal).

Each variant also comes in a second typeface (a Ming/Song face, Debian's fonts-arphic-uming, beside
the Hei face), and two more layouts are drawn clean at 300 dpi (benchmarks/ocr_layouts.py): a ruled
table read row by row, and clauses in two columns.

Targets: CER <= 1 % clean (and on the table and two-column pages) and <= 2 % on every other variant; ours never worse than raw on any
variant; ours with 1 worker >= 0.9x raw's pages/s; ours with 2 workers >= 1.7x ours with 1.

    .venv/bin/python benchmarks/ocr_bench.py                 # 12 pages per variant
    .venv/bin/python benchmarks/ocr_bench.py --pages 3       # a quick run
    .venv/bin/python benchmarks/ocr_bench.py --ablation      # CER and CPU with each step changed
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from archive.demo.samples import FONT_ENV_VAR, TURNED, VARIANTS, SamplePage, Variant, sample_pages  # noqa: E402
from benchmarks.ocr_layouts import layout_pages  # noqa: E402
from ocr.pipeline import OcrPipeline, PipelineSettings  # noqa: E402
from ocr.tesseract import TesseractRecognizer  # noqa: E402

TARGET_CER_CLEAN = 0.01
TARGET_CER_OTHER = 0.02
TARGET_ONE_WORKER = 0.9
TARGET_TWO_WORKERS = 1.7


# --- character error rate ------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")


def levenshtein(a: str, b: str) -> int:
    """Edit distance of a and b (Myers' bit-parallel algorithm, Hyyrö's formulation)."""
    if not a or not b:
        return len(a) or len(b)
    full = (1 << len(a)) - 1
    last = 1 << (len(a) - 1)
    peq: dict[str, int] = {}
    for index, char in enumerate(a):
        peq[char] = peq.get(char, 0) | (1 << index)
    pv, mv, score = full, 0, len(a)
    for char in b:
        eq = peq.get(char, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = (ph << 1) | 1
        mh <<= 1
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv & full
    return score


def cer(truth: str, text: str, *, fold: bool = False) -> float:
    """Edit distance over the truth's length, whitespace ignored; fold applies NFKC to both first."""
    if fold:
        truth, text = unicodedata.normalize("NFKC", truth), unicodedata.normalize("NFKC", text)
    truth, text = _WHITESPACE.sub("", truth), _WHITESPACE.sub("", text)
    return levenshtein(truth, text) / max(1, len(truth))


# --- workers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    path: str
    dpi: int


@dataclass(frozen=True)
class Outcome:
    text: str
    seconds: float
    cpu_seconds: float  # this worker's and its tesseract children's


_PIPELINE: OcrPipeline | None = None
_LANGUAGES = "chi_sim+eng"


def _start_worker(languages: str, settings: PipelineSettings | None, recognizer_options: dict[str, int]) -> None:
    global _PIPELINE, _LANGUAGES
    os.environ["OMP_THREAD_LIMIT"] = "1"
    _LANGUAGES = languages
    if settings is not None:
        _PIPELINE = OcrPipeline(TesseractRecognizer(languages, **recognizer_options), settings)  # type: ignore[arg-type]


def _cpu() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _ours(task: Task) -> Outcome:
    assert _PIPELINE is not None
    started, cpu = time.perf_counter(), _cpu()
    with Image.open(task.path) as image:
        image.load()
        dpi = image.info.get("dpi")
        result = _PIPELINE.recognize_page(image, round(dpi[0]) if dpi else None)
    return Outcome(result.text, time.perf_counter() - started, _cpu() - cpu)


def _raw(task: Task) -> Outcome:
    started, cpu = time.perf_counter(), _cpu()
    completed = subprocess.run(
        ["tesseract", task.path, "stdout", "-l", _LANGUAGES],
        capture_output=True, text=True, check=True, env=dict(os.environ, OMP_THREAD_LIMIT="1"),
    )
    return Outcome(completed.stdout, time.perf_counter() - started, _cpu() - cpu)


def _noop(_: int) -> None:
    return None


@dataclass
class Run:
    """One contestant over the whole corpus with a number of workers."""

    outcomes: list[Outcome]
    wall_seconds: float

    @property
    def pages_per_second(self) -> float:
        return len(self.outcomes) / self.wall_seconds


def run_pool(
    tasks: list[Task], workers: int, *, ours: bool, languages: str, settings: PipelineSettings | None = None,
    recognizer_options: dict[str, int] | None = None,
) -> Run:
    initargs = (languages, (settings or PipelineSettings()) if ours else None, recognizer_options or {})
    with ProcessPoolExecutor(max_workers=workers, initializer=_start_worker, initargs=initargs) as pool:
        list(pool.map(_noop, range(workers * 2)))  # start every worker before the clock does
        started = time.perf_counter()
        outcomes = list(pool.map(_ours if ours else _raw, tasks))
        return Run(outcomes, time.perf_counter() - started)


# --- corpus --------------------------------------------------------------------------------


@dataclass
class Corpus:
    pages: dict[str, list[SamplePage]] = field(default_factory=dict)
    tasks: dict[str, list[Task]] = field(default_factory=dict)

    def all_tasks(self) -> list[Task]:
        return [task for tasks in self.tasks.values() for task in tasks]


# The second typeface: a Ming (Song) face, the one most printed Chinese documents use, beside the
# sans-serif (Hei) face archive.demo.samples finds first.
TYPEFACES = {
    "hei": None,
    "ming": "/usr/share/fonts/truetype/arphic/uming.ttc",  # Debian fonts-arphic-uming
}
LAYOUTS = ("table", "two_column")


def build_corpus(folder: Path, variants: tuple[Variant, ...], count: int, seed: int,
                 typefaces: tuple[str, ...] = ("hei",), layouts: tuple[str, ...] = ()) -> Corpus:
    """count pages of each variant, and of each extra layout (clean, 300 dpi), in each typeface;
    a variant in another typeface than the first is named "variant/typeface"."""
    corpus = Corpus()
    saved = os.environ.get(FONT_ENV_VAR)
    try:
        for typeface in typefaces:
            font = TYPEFACES[typeface]
            if font:
                os.environ[FONT_ENV_VAR] = font
            elif saved is None:
                os.environ.pop(FONT_ENV_VAR, None)
            else:
                os.environ[FONT_ENV_VAR] = saved
            suffix = "" if typeface == typefaces[0] else f"/{typeface}"
            sets = [(variant.name, sample_pages(variant, count, seed=seed)) for variant in variants]
            sets += [(layout, layout_pages(layout, count, seed=seed)) for layout in layouts]
            for name, pages in sets:
                _add(corpus, folder, name + suffix, pages)
    finally:
        if saved is None:
            os.environ.pop(FONT_ENV_VAR, None)
        else:
            os.environ[FONT_ENV_VAR] = saved
    return corpus


def _add(corpus: Corpus, folder: Path, name: str, pages: list[SamplePage]) -> None:
    corpus.pages[name] = pages
    corpus.tasks[name] = []
    for number, page in enumerate(pages):
        path = folder / f"{name.replace('/', '-')}-{number:03d}-{page.kind}.png"
        page.image.save(path, "PNG", dpi=(page.dpi, page.dpi))
        corpus.tasks[name].append(Task(str(path), page.dpi))


def split(corpus: Corpus, run: Run) -> dict[str, list[Outcome]]:
    """The run's outcomes per variant, in corpus order."""
    result, offset = {}, 0
    for name, tasks in corpus.tasks.items():
        result[name] = run.outcomes[offset:offset + len(tasks)]
        offset += len(tasks)
    return result


def mean_cer(pages: list[SamplePage], outcomes: list[Outcome], *, fold: bool = False) -> float:
    return sum(cer(page.truth, outcome.text, fold=fold) for page, outcome in zip(pages, outcomes, strict=True)) / len(pages)


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) if i else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths, strict=True)))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def pct(value: float) -> str:
    return f"{value * 100:.2f} %"


# --- the main comparison -------------------------------------------------------------------


def compare(corpus: Corpus, languages: str) -> dict[str, float]:
    tasks = corpus.all_tasks()
    ours_1 = run_pool(tasks, 1, ours=True, languages=languages)
    raw_1 = run_pool(tasks, 1, ours=False, languages=languages)
    ours_2 = run_pool(tasks, 2, ours=True, languages=languages)
    raw_2 = run_pool(tasks, 2, ours=False, languages=languages)
    ours, raw = split(corpus, ours_1), split(corpus, raw_1)
    rows, metrics, verdicts = [], {}, {}
    for name, pages in corpus.pages.items():
        cer_ours, cer_raw = mean_cer(pages, ours[name]), mean_cer(pages, raw[name])
        folded_ours, folded_raw = mean_cer(pages, ours[name], fold=True), mean_cer(pages, raw[name], fold=True)
        rows.append([
            name, str(len(pages)), pct(cer_ours), pct(cer_raw), pct(folded_ours), pct(folded_raw),
            f"{mean([o.seconds for o in ours[name]]):.2f}", f"{mean([o.seconds for o in raw[name]]):.2f}",
            f"{mean([o.cpu_seconds for o in ours[name]]):.2f}", f"{mean([o.cpu_seconds for o in raw[name]]):.2f}",
        ])
        metrics[f"ocr_cer_{name}_ours"] = cer_ours
        metrics[f"ocr_cer_{name}_raw"] = cer_raw
        target = TARGET_CER_CLEAN if name.split("/")[0] in ("clean", *LAYOUTS) else TARGET_CER_OTHER
        verdicts[f"{name}: CER {pct(cer_ours)} <= {pct(target)}"] = cer_ours <= target
        verdicts[f"{name}: CER ours {pct(cer_ours)} <= raw tesseract {pct(cer_raw)}"] = cer_ours <= cer_raw
    all_ours = [o for name in corpus.pages for o in ours[name]]
    all_raw = [o for name in corpus.pages for o in raw[name]]
    rows.append([
        "all", str(len(tasks)), "", "", "", "",
        f"{mean([o.seconds for o in all_ours]):.2f}", f"{mean([o.seconds for o in all_raw]):.2f}",
        f"{mean([o.cpu_seconds for o in all_ours]):.2f}", f"{mean([o.cpu_seconds for o in all_raw]):.2f}",
    ])
    print(table(
        ["variant", "pages", "CER ours", "CER raw", "folded ours", "folded raw", "s/page ours", "s/page raw",
         "CPU s ours", "CPU s raw"],
        rows,
    ))
    one = ours_1.pages_per_second / raw_1.pages_per_second
    two = ours_2.pages_per_second / ours_1.pages_per_second
    print()
    print(table(
        ["workers", "ours pages/s", "raw pages/s", "ours / raw", "ours / ours with 1"],
        [
            ["1", f"{ours_1.pages_per_second:.3f}", f"{raw_1.pages_per_second:.3f}", f"{one:.2f}", "1.00"],
            ["2", f"{ours_2.pages_per_second:.3f}", f"{raw_2.pages_per_second:.3f}",
             f"{ours_2.pages_per_second / raw_2.pages_per_second:.2f}", f"{two:.2f}"],
        ],
    ))
    cpu_ratio = mean([o.cpu_seconds for o in all_raw]) / mean([o.cpu_seconds for o in all_ours])
    print(f"CPU time per page, raw over ours: {cpu_ratio:.2f} (the throughput ratio a quiet machine would show)")
    verdicts[f"1 worker: ours {one:.2f}x raw tesseract's pages/s >= {TARGET_ONE_WORKER}x"] = one >= TARGET_ONE_WORKER
    verdicts[f"2 workers: {two:.2f}x ours with 1 >= {TARGET_TWO_WORKERS}x"] = two >= TARGET_TWO_WORKERS
    print()
    for what, ok in verdicts.items():
        print(f"{'PASS' if ok else 'FAIL'}  {what}")
    metrics |= {
        "ocr_pages_per_second_ours_1": ours_1.pages_per_second,
        "ocr_pages_per_second_raw_1": raw_1.pages_per_second,
        "ocr_pages_per_second_ours_2": ours_2.pages_per_second,
        "ocr_pages_per_second_raw_2": raw_2.pages_per_second,
        "ocr_two_worker_scaling": two,
        "ocr_cpu_per_page_raw_over_ours": cpu_ratio,
        "ocr_throughput_ours_over_raw": one,
    }
    return metrics


# --- ablation ------------------------------------------------------------------------------


def ablation(corpus: Corpus, languages: str, workers: int) -> None:
    """CER and CPU per page of the pipeline as chosen, and with each step changed in turn."""
    chosen = PipelineSettings()
    trials: list[tuple[str, PipelineSettings, dict[str, int]]] = [("pipeline as chosen", chosen, {})]
    for option in fields(PipelineSettings):
        value = getattr(chosen, option.name)
        if isinstance(value, bool):
            trials.append((f"{option.name}={not value}", replace(chosen, **{option.name: not value}), {}))
    trials += [
        ("denoise_above=0 (every page)", replace(chosen, denoise_above=0), {}),
        ("cjk_punctuation=False", chosen, {"cjk_punctuation": False}),
        ("thresholding_method=2 (Sauvola)", replace(chosen, thresholding_method=2), {}),
        ("psm=3 (automatic layout)", replace(chosen, psm=3), {}),
    ]
    tasks = corpus.all_tasks()
    benchmark = [name for name in corpus.pages if name != TURNED.name]
    extra = [name for name in corpus.pages if name == TURNED.name]
    header = ["trial", *[f"CER {name}" for name in corpus.pages], "CPU s/page", *[f"CPU s {n}" for n in extra]]

    def row(label: str, run: dict[str, list[Outcome]]) -> list[str]:
        return [
            label,
            *[pct(mean_cer(corpus.pages[name], run[name])) for name in corpus.pages],
            f"{mean([o.cpu_seconds for name in benchmark for o in run[name]]):.2f}",
            *[f"{mean([o.cpu_seconds for o in run[name]]):.2f}" for name in extra],
        ]

    rows = [row("raw tesseract", split(corpus, run_pool(tasks, workers, ours=False, languages=languages)))]
    for label, settings, options in trials:
        run = split(corpus, run_pool(tasks, workers, ours=True, languages=languages, settings=settings,
                                     recognizer_options=options))
        rows.append(row(label, run))
        print(f"  done: {label}", file=sys.stderr, flush=True)
    print(table(header, rows))
    print(f"CPU s/page: mean over the pages of {', '.join(benchmark)} (this process and its tesseract "
          f"children, {workers} workers)" + (f"; CPU s {extra[0]}: over the turned pages" if extra else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=12, help="pages per variant (default 12)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--languages", default="chi_sim+eng")
    parser.add_argument("--typefaces", default=",".join(TYPEFACES),
                        help="comma-separated subset of " + ", ".join(TYPEFACES) + " (default: both)")
    parser.add_argument("--layouts", default=",".join(LAYOUTS),
                        help="extra page layouts, clean at 300 dpi: " + ", ".join(LAYOUTS) + " (default: both; '' none)")
    parser.add_argument("--ablation", action="store_true", help="compare the pipeline with each step changed")
    parser.add_argument("--ablation-workers", type=int, default=2)
    parser.add_argument("--variants", default=",".join(v.name for v in VARIANTS),
                        help="comma-separated subset of " + ", ".join(v.name for v in (*VARIANTS, TURNED))
                        + " (turned: pages on their side or upside down; with --ablation by default)")
    args = parser.parse_args()
    chosen = tuple(v for v in (*VARIANTS, TURNED) if v.name in args.variants.split(","))
    if args.ablation and "--variants" not in sys.argv:
        chosen = (*VARIANTS, TURNED)
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as folder:
        started = time.perf_counter()
        typefaces = tuple(name for name in args.typefaces.split(",") if name)
        layouts = tuple(name for name in args.layouts.split(",") if name)
        corpus = build_corpus(Path(folder), chosen, args.pages, args.seed, typefaces, layouts)
        print(f"corpus: {args.pages} pages per variant, typefaces {', '.join(typefaces)}, extra layouts "
              f"{', '.join(layouts) or 'none'}, seed {args.seed}, generated in "
              f"{time.perf_counter() - started:.1f} s; languages {args.languages}; tesseract "
              f"{tesseract_version()}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        if args.ablation:
            ablation(corpus, args.languages, args.ablation_workers)
            return 0
        metrics = compare(corpus, args.languages)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}")
    return 0


def tesseract_version() -> str:
    output = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout
    return output.split("\n", 1)[0].removeprefix("tesseract ").strip()


if __name__ == "__main__":
    sys.exit(main())
