"""Capture of a many-page scanned PDF: wall time and peak memory against the work it cannot avoid.

One run, on one generated PDF of --pages A4 scans at 300 dpi (greyscale, as an archive room's
scanner writes them):
  * the floor: render every page once and write it as PNG, and stream the original through
    AES-256-GCM with its SHA-256 — what any capture must do at least;
  * ours: `capture_document` into a fresh embedded archive (SQLite, filesystem store), then the
    workers' share of it: each page rendered from the stored original and stored as its PNG by
    `recognition.render_page`, the first step of the page job (OCR, the rest of that job, is left out
    as it is from the floor). Capture alone, what the clerk's request waits for, is reported beside it.
Each is measured in a child process of its own, so its peak resident memory (ru_maxrss) is its own.
The ratio of our time to the floor's is the figure; decoding a page twice or reading the original
again shows as a ratio well above 1.

    .venv/bin/python benchmarks/capture_bench.py            # 20 pages
    .venv/bin/python benchmarks/capture_bench.py --pages 40 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def make_pdf(path: Path, pages: int) -> None:
    from archive.demo.samples import render_scan

    images = [render_scan([f"供用电合同 第 {n} 页", "合同编号 HT-2024-0107", "用电人 张伟 电费结算方式 银行代扣"] * 6,
                          seed=n).convert("L") for n in range(1, pages + 1)]
    images[0].save(path, format="PDF", save_all=True, append_images=images[1:], resolution=300)


def floor(pdf: Path) -> None:
    import io

    from ocr.inputs import iter_pages, save_page
    from storage.envelope import EncryptedStore, new_data_key
    from storage.filesystem import FilesystemStore

    with tempfile.TemporaryDirectory() as tmp:
        store = EncryptedStore(FilesystemStore(Path(tmp)))
        key = new_data_key("AES-256-GCM")
        with pdf.open("rb") as handle:
            store.put("original", handle, data_key=key, algorithm="AES-256-GCM")
        for page in iter_pages(pdf):
            buffer = io.BytesIO()
            save_page(page.image, buffer, dpi=page.dpi)
            buffer.seek(0)
            store.put(f"p{page.number}", buffer, data_key=key, algorithm="AES-256-GCM")


def ours(pdf: Path) -> None:
    from archive.actors import OPERATOR
    from archive.bootstrap import Archive
    from archive.capture.recognition import render_page
    from archive.capture.services import CaptureRequest, capture_document
    from archive.config import load_settings
    from archive.models import Document
    from archive.services import reference, users
    from archive.services.documents import document_key

    with tempfile.TemporaryDirectory() as tmp:
        archive = Archive(load_settings({"ARCHIVE_HOME": tmp}))
        archive.migrate()
        reference.seed_reference_data(archive.uow())
        reference.ensure_department(archive.uow(), actor=OPERATOR, code="YX", name="营销部")
        users.create_user(archive.uow(), actor=OPERATOR, username="clerk", password="bench-password-1",
                          role="clerk", department="YX", clearance="confidential")
        clerk = users.resolve_actor(archive.uow(), username="clerk", remote_addr="bench")
        started = time.perf_counter()
        result = capture_document(archive.uow(), actor=clerk, request=CaptureRequest(
            path=pdf, filename=pdf.name, customer="11010519491231002X", customer_name="张伟",
            document_type="supply_contract"))
        captured = time.perf_counter() - started
        with archive.uow() as uow:
            document = uow.session.get(Document, result.document_id)
            data_key = document_key(uow, document)
            pages = [(p.number, p.object_key) for p in document.pages if not p.image_ready]
            original, cipher = document.object_key, document.cipher
        for number, key in pages:
            render_page(archive.uow(), original, number, key, data_key, cipher)
        print(json.dumps({"capture_seconds": time.perf_counter() - started, "request_seconds": captured}))
        archive.close()


def child(kind: str, pdf: Path) -> dict[str, float]:
    completed = subprocess.run([sys.executable, __file__, "--child", kind, str(pdf)], capture_output=True,
                               text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest counts")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, pdf = args.child
        started = time.perf_counter()
        extra = {}
        if kind == "floor":
            floor(Path(pdf))
        else:
            import contextlib
            import io

            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                ours(Path(pdf))
            extra = json.loads(out.getvalue().strip().splitlines()[-1])
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"seconds": extra.get("capture_seconds", time.perf_counter() - started),
                          "request_seconds": extra.get("request_seconds"), "peak_rss_mb": peak_mb}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "scan.pdf"
        make_pdf(pdf, args.pages)
        print(f"{args.pages}-page scanned PDF, {pdf.stat().st_size / 1e6:.1f} MB")
        results: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for kind in ("floor", "ours"):
                run = child(kind, pdf)
                best = results.get(kind)
                if best is None or run["seconds"] < best["seconds"]:
                    results[kind] = {**run, "peak_rss_mb": max(run["peak_rss_mb"], (best or run)["peak_rss_mb"])}
    for kind, run in results.items():
        request = f"   (the capture request alone {run['request_seconds']:.2f} s)" if run.get("request_seconds") else ""
        print(f"{kind:<6} {run['seconds']:7.2f} s   peak RSS {run['peak_rss_mb']:6.0f} MB{request}")
    print(f"capture_20_pages: ours/floor time ratio {results['ours']['seconds'] / results['floor']['seconds']:.2f}")


if __name__ == "__main__":
    main()
