"""Load test: gunicorn serving a seeded archive, locust's users searching, viewing and uploading.

It seeds an embedded archive (SQLite, filesystem store, Tantivy) in a temporary folder, or a
PostgreSQL database given with --database-url: one department, an account per simulated user,
and --documents one-page documents whose OCR text is drawn from ../shared/seeds/ (the recognizer is
replaced by one that returns that text, so seeding takes seconds, not tesseract's minutes), OCR'd
and indexed. Then it starts the app under gunicorn on 127.0.0.1 only and runs locust headless
against it: --users concurrent users (50) for --duration seconds (300), each signed in once and then
mixing search (70 %), document view and page image (25 %) and upload (5 %), 1-2 s apart. Uploads are
captured (stored, encrypted, recorded) but their OCR jobs stay queued: no job consumer runs, so the
measurement is the web tier's.

Printed: p50/p95/p99 and the error count per request type, against the targets (p95 <= 100 ms for
search and document view, <= 300 ms for page images, 0 errors).

    make load                                       # 50 users, 5 minutes
    .venv/bin/python benchmarks/load/run.py --duration 30   # a short try
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from PIL import Image, ImageDraw  # noqa: E402
from search_bench import seed_sentences  # noqa: E402

from archive.actors import OPERATOR  # noqa: E402
from archive.bootstrap import Archive  # noqa: E402
from archive.capture import recognition  # noqa: E402
from archive.capture.services import CaptureRequest, capture_document  # noqa: E402
from archive.config import load_settings  # noqa: E402
from archive.identity import resident_id_check_digit  # noqa: E402
from archive.services import indexing, reference, users  # noqa: E402
from ocr.base import RecognizedText  # noqa: E402

BIN = Path(sys.executable).parent
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
TARGETS_MS = {"search": 100.0, "document view": 100.0, "page image": 300.0}
KINDS = ("search", "document view", "page image", "upload", "login page", "login", "capture page")
DOCUMENT_TYPES = ("supply_contract", "application_form", "id_copy", "meter_work_order", "inspection_record")


class SeedRecognizer:
    """Returns prepared text for each page in turn (seeding must not wait for tesseract)."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = iter(texts)

    def recognize_page(self, image: Image.Image, dpi: int | None) -> RecognizedText:
        return RecognizedText(text=next(self._texts), confidence=95.0, layout="lines", languages="chi_sim")


def scan_png(path: Path, label: str) -> None:
    image = Image.new("L", (1240, 1754), 255)  # A4 at 150 dpi, as a clerk's scanner gives
    draw = ImageDraw.Draw(image)
    draw.text((90, 90), label, fill=0)
    for row in range(30):
        draw.line((90, 160 + row * 50, 1150, 160 + row * 50), fill=0, width=2)
    image.save(path, format="PNG", dpi=(150, 150))


def resident_id(rng: random.Random) -> str:
    first17 = f"110105{rng.randrange(1950, 2000)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}" \
              f"{rng.randrange(1000):03d}"
    return first17 + resident_id_check_digit(first17)


def seed(environment: dict[str, str], *, accounts: int, documents: int) -> dict[str, object]:
    """Fill the archive; return the locust plan (accounts, document ids, words, the upload customer)."""
    rng = random.Random(17)
    archive = Archive(load_settings(environment))
    archive.migrate()
    reference.seed_reference_data(archive.uow())
    reference.ensure_department(archive.uow(), actor=OPERATOR, code="YX", name="营销部")
    logins = []
    for number in range(1, accounts + 1):
        username, password = f"load{number:02d}", f"load-test-password-{number:02d}"
        users.create_user(archive.uow(), actor=OPERATOR, username=username, password=password, role="clerk",
                          department="YX", clearance="confidential")
        logins.append((username, password))
    sentences = seed_sentences()
    texts = ["。".join(rng.choice(sentences) for _ in range(40)) for _ in range(documents)]
    archive.recognizer = SeedRecognizer(texts)  # type: ignore[misc]  # the cached adapter, replaced
    clerk = users.resolve_actor(archive.uow(), username="load01", remote_addr="127.0.0.1")
    customers = [(resident_id(rng), rng.choice("王李张刘陈杨黄赵") + rng.choice("伟芳娜秀英敏静丽强磊")) for _ in range(40)]
    document_ids = []
    with tempfile.TemporaryDirectory() as tmp:
        for number in range(documents):
            path = Path(tmp) / f"seed-{number}.png"
            scan_png(path, f"SEED {number}")
            customer, name = customers[number % len(customers)]
            result = capture_document(archive.uow(), actor=clerk, request=CaptureRequest(
                path=path, filename=path.name, customer=customer, customer_name=name,
                document_type=DOCUMENT_TYPES[number % len(DOCUMENT_TYPES)], dossier="客户档案"))
            document_ids.append(result.document_id)
    for page_id in recognition.pending_page_ids(archive.uow()):
        recognition.recognize_page(archive.uow(), page_id=page_id)
    indexing.drain_outbox(archive.uow())
    archive.close()
    words = sorted({sentence[k:k + 2] for sentence in sentences[:400] for k in range(0, len(sentence) - 1, 7)
                    if all("\u4e00" <= c <= "\u9fff" for c in sentence[k:k + 2])})
    upload_customer = customers[0]
    return {"accounts": logins, "documents": document_ids, "words": rng.sample(words, min(300, len(words))),
            "customer": upload_customer[0], "customer_name": upload_customer[1]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/login", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within a minute")


def read_stats(prefix: Path) -> dict[str, dict[str, str]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=300, help="seconds of load (default 300)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="users started per second")
    parser.add_argument("--documents", type=int, default=200, help="documents seeded")
    parser.add_argument("--workers", type=int, default=max(2, 2 * (os.cpu_count() or 1)), help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--database-url", help="a PostgreSQL URL (postgresql+psycopg://…) instead of SQLite; "
                        "its database must be empty")
    parser.add_argument("--keep", type=Path, help="seed into this folder and keep it")
    args = parser.parse_args()

    home = args.keep or Path(tempfile.mkdtemp(prefix="load-test-"))
    environment = {"ARCHIVE_HOME": str(home), "ARCHIVE_SECRET_KEY": secrets.token_urlsafe(32)}
    if args.database_url:
        environment["ARCHIVE_DATABASE_URL"] = args.database_url
    server = None
    try:
        started = time.perf_counter()
        plan = seed(environment, accounts=args.users, documents=args.documents)
        plan_file = home / "load-plan.json"
        plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
        print(f"seeded {len(plan['documents'])} documents and {len(plan['accounts'])} accounts in "
              f"{time.perf_counter() - started:.0f} s ({'PostgreSQL' if args.database_url else 'SQLite'})", flush=True)

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {**os.environ, **environment}
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
             "--threads", str(args.threads), "--log-level", "warning",
             # Longer than a user's pause (1-2 s): with gunicorn's 2 s default an idle connection can be
             # closed just as the next request is sent on it, and the client sees a reset.
             "--keep-alive", "10", "web:create_app()"],
            cwd=ROOT, env=env)
        wait_until_up(url, server)
        print(f"gunicorn on {url}: {args.workers} workers x {args.threads} threads; locust: {args.users} users "
              f"for {args.duration} s", flush=True)
        prefix = home / "locust"
        log = home / "locust.log"
        finished = subprocess.run(
            [str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", url, "--users", str(args.users),
             "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s", "--stop-timeout", "10",
             "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0"],
            env={**env, "LOAD_TEST_PLAN": str(plan_file)}, stdout=subprocess.DEVNULL, stderr=log.open("w"))
        if finished.returncode != 0:
            sys.stderr.write(log.read_text(encoding="utf-8", errors="replace")[-5000:])
            raise SystemExit(f"locust exited with {finished.returncode}")
        report(read_stats(prefix), args)
        print_failures(prefix)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if args.keep is None:
            shutil.rmtree(home, ignore_errors=True)


def print_failures(prefix: Path) -> None:
    """Name the commonest failures (locust's failures file: method, name, error, occurrences)."""
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return
    with open(path, encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda row: -int(row["Occurrences"]))
    for row in rows[:8]:
        print(f"  failed {row['Occurrences']:>5}x {row['Method']} {row['Name']}: {row['Error'][:140]}")


def report(stats: dict[str, dict[str, str]], args: argparse.Namespace) -> None:
    out = io.StringIO()
    print(f"\n{'request':<15} {'count':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}", file=out)
    errors = 0
    for kind in KINDS:
        row = stats.get(kind)
        if row is None:
            continue
        errors += int(row["Failure Count"])
        print(f"{kind:<15} {int(row['Request Count']):>7} {float(row['Requests/s']):>7.1f} {row['50%']:>7} "
              f"{row['95%']:>7} {row['99%']:>7} {int(row['Failure Count']):>7}", file=out)
    print(out.getvalue(), end="")
    print(f"\nload average at the end (this machine has {os.cpu_count()} cores): "
          + " ".join(f"{v:.1f}" for v in os.getloadavg()))
    for kind, target in TARGETS_MS.items():
        p95 = float(stats[kind]["95%"]) if kind in stats else float("nan")
        print(f"target {kind} p95 <= {target:g} ms: {'met' if p95 <= target else 'MISSED'} ({p95:g} ms)")
    print(f"target 0 errors: {'met' if errors == 0 else 'MISSED'} ({errors})")
    print(f"load_search_p95_ms: {stats['search']['95%'] if 'search' in stats else 'nan'}")


if __name__ == "__main__":
    main()
