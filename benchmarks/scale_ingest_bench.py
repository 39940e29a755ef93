"""Ingest throughput of the scale-out deployment with one worker process against two.

The environment is tests/scale_env.py: PostgreSQL, the S3 server (moto), Redis, one gunicorn web
instance, and N `archive worker` processes (one job thread each). For each N the same batch is
captured through the web API by `--clients` concurrent uploaders, and the clock stops when every page
is recognised and indexed (both outboxes empty). Two workloads:

  * text: PDFs with a text layer (no OCR: capture, then the workers render the pages and index them);
  * ocr: one scanned page each (tesseract on the workers).

    .venv/bin/python benchmarks/scale_ingest_bench.py                 # both, 24 text PDFs, 12 scans
    .venv/bin/python benchmarks/scale_ingest_bench.py --only ocr --documents 16
    .venv/bin/python benchmarks/scale_ingest_bench.py --only text --documents 48 --pairs 4   # median of 4

The machine's cores bound what a second worker can add: with 2 cores the web process, PostgreSQL and
the S3 server share them with the workers, so the ratio says how much of the work the workers carry.
Each run therefore also reports the CPU seconds of every process by role (of the processes alive when
the clock starts and stops) and how many cores were busy; with them the line for two workers gives the
ceiling the cores allow: one worker's time over the two-worker run's CPU seconds spread over every core.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from scale_checks import end_state, settled  # noqa: E402
from scale_env import ApiClient, resident_id, scan_png, standalone, text_pdf, wait_until  # noqa: E402


def documents(kind: str, count: int, run: str) -> list[tuple[str, bytes]]:
    if kind == "text":
        return [(f"{run}-{n}.pdf", text_pdf([f"Supply contract {run} number {n}", "electricity tariff schedule"] * 8,
                                            pages=2)) for n in range(count)]
    return [(f"{run}-{n}.png", scan_png([f"供用电合同 {run} 第{n}份", "用电人 张伟 电费结算方式 银行代扣"] * 4, seed=n))
            for n in range(count)]


ROLES = {"postgres": "postgres", "moto": "s3", "minio": "s3", "redis-server": "redis", "gunicorn": "web",
         "worker": "workers"}


def cpu_by_role(postgres_data: Path) -> collections.Counter[str]:
    """CPU seconds so far of this process (the uploaders), its descendants and PostgreSQL's, by role."""
    me = psutil.Process()
    postmaster = psutil.Process(int((postgres_data / "postmaster.pid").read_text().split()[0]))
    used: collections.Counter[str] = collections.Counter()
    for process in [me, *me.children(recursive=True), postmaster, *postmaster.children(recursive=True)]:
        try:
            line, times = " ".join(process.cmdline()), process.cpu_times()
        except psutil.Error:  # it ended meanwhile
            continue
        role = "uploaders" if process.pid == me.pid else next(
            (name for key, name in ROLES.items() if key in line), "other")
        # children_*: the finished children it waited for (a worker's tesseract runs)
        used[role] += times.user + times.system + times.children_user + times.children_system
    return used


def run_once(kind: str, workers: int, count: int, clients: int) -> dict[str, float]:
    with standalone(web=1, web_processes=2, workers=0) as deployment:
        for _ in range(workers):
            deployment.add_worker(1)
        probe = deployment.archive()
        batch = documents(kind, count, f"{kind}{workers}")
        users = [ApiClient(deployment.url(0), "clerk") for _ in range(clients)]
        time.sleep(3)  # the workers finish starting (their start-up tasks) before the clock runs
        cpu_before = cpu_by_role(deployment.postgres.data_dir)
        started = time.monotonic()

        def upload(index: int) -> int:
            answer = users[index % clients].capture([batch[index]], customer=resident_id(index), customer_name="张伟")
            if answer.status_code != 201:
                raise RuntimeError(answer.text)
            return answer.status_code

        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(upload, range(count)))
        captured = time.monotonic() - started
        wait_until(lambda: settled(probe), "the batch recognised and indexed", 1800, poll=0.2)
        elapsed = time.monotonic() - started
        cpu = cpu_by_role(deployment.postgres.data_dir)
        cpu.subtract(cpu_before)
        state = end_state(probe, fixity=False)
        probe.close()
    total = sum(cpu.values())
    return {"workers": workers, "documents": count, "seconds": round(elapsed, 2), "capture_seconds": round(captured, 2),
            "docs_per_minute": round(count / elapsed * 60, 1), "failed_pages": state.failed,
            "cpu_seconds": {role: round(seconds, 2) for role, seconds in sorted(cpu.items())},
            "cpu_seconds_total": round(total, 2), "cores_busy": round(total / elapsed, 2)}


def pair(kind: str, count: int, clients: int, order: tuple[int, int]) -> dict[str, Any]:
    """One run with one worker and one with two, in the given order; their ratio and the cores' ceiling."""
    runs = {workers: run_once(kind, workers, count, clients) for workers in order}
    one, two = runs[1], runs[2]
    ceiling = one["seconds"] / (two["cpu_seconds_total"] / (os.cpu_count() or 1))
    for run in (one, two):
        print(f"{kind}, {run['workers']} worker(s): {run['seconds']} s, {run['cores_busy']} cores busy; CPU s "
              + ", ".join(f"{role} {seconds}" for role, seconds in run["cpu_seconds"].items()), flush=True)
    result = {"one": one, "two": two, "ratio": round(one["seconds"] / two["seconds"], 2), "ceiling": round(ceiling, 2)}
    print(f"{kind}: 1 worker {one['seconds']} s, 2 workers {two['seconds']} s -> {result['ratio']}x "
          f"(capture alone {one['capture_seconds']} / {two['capture_seconds']} s; the cores allow at most "
          f"{result['ceiling']}x)", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["text", "ocr"])
    parser.add_argument("--documents", type=int, help="documents per run (default 24 text, 12 scans)")
    parser.add_argument("--clients", type=int, default=2, help="concurrent uploaders")
    parser.add_argument("--pairs", type=int, default=1,
                        help="pairs of runs, alternately one worker first and two workers first (the median counts)")
    args = parser.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    results: dict[str, Any] = {}
    for kind in [args.only] if args.only else ["text", "ocr"]:
        count = args.documents or (24 if kind == "text" else 12)
        pairs = [pair(kind, count, args.clients, (1, 2) if n % 2 == 0 else (2, 1)) for n in range(args.pairs)]
        results[kind] = {"pairs": pairs, "ratio": statistics.median(p["ratio"] for p in pairs),
                         "ceiling": statistics.median(p["ceiling"] for p in pairs)}
    print(json.dumps({"cores": os.cpu_count(), **results}, indent=2))
    for kind, result in results.items():
        print(f"{kind}: median ratio {result['ratio']}x over {args.pairs} pair(s); the cores allow at most "
              f"{result['ceiling']}x (median)")
    for kind, result in results.items():
        print(f"{kind}_ingest_ratio: {result['ratio']}")


if __name__ == "__main__":
    tempfile.tempdir = tempfile.gettempdir()
    main()
