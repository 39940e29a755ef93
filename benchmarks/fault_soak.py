"""Fault soak: each fault scenario of tests/integration/test_scale_out.py, repeated, with real processes.

One scale-out environment (tests/scale_env.py: PostgreSQL, the S3 server behind a gate that can make
it unreachable, Redis, two gunicorn instances of two processes, two workers) serves every run. Each run
makes the fault, lets the deployment recover, and counts:

  * losses: documents a 201 answered that are not in the database, pages failed or never finished
    (pending after the recovery timeout), objects missing or corrupted;
  * dangling: objects no document references (a fixity run after the scenario's last run);
  * recovery: seconds from the end of the fault (restart, service back) until the end state is complete.

    .venv/bin/python benchmarks/fault_soak.py                     # 20 runs of every scenario
    .venv/bin/python benchmarks/fault_soak.py --runs 3 --only kill_ocr redis_down
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from scale_checks import end_state, pages_started, search_outbox_rows, settled  # noqa: E402
from scale_env import (  # noqa: E402
    ROTATE_THEN_DIE,
    ApiClient,
    ScaleEnv,
    resident_id,
    scan_png,
    standalone,
    text_pdf,
    wait_until,
)
from sqlalchemy import func, select  # noqa: E402

from archive.models import Document  # noqa: E402
from archive.services import job_outbox  # noqa: E402

RECOVERY_TIMEOUT = 240.0


class Soak:
    def __init__(self, deployment: ScaleEnv) -> None:
        self.env = deployment
        self.probe = deployment.archive()
        self.clerk = ApiClient(deployment.url(0), "clerk")
        self.staff = ApiClient(deployment.url(1), "staff")
        self.accepted: set[int] = set()
        self.serial = 0

    def capture(self, kind: str = "scan") -> int | None:
        self.serial += 1
        n = self.serial
        data = (scan_png([f"供用电合同 soak 第{n}份", "电费结算 银行代扣"], seed=n) if kind == "scan"
                else text_pdf([f"Soak contract {n}", "electricity tariff"]))
        answer = self.clerk.capture([(f"soak-{n}.{'png' if kind == 'scan' else 'pdf'}", data)],
                                    customer=resident_id(n), customer_name="张伟")
        if answer.status_code == 201:
            document_id = answer.json()["documents"][0]["document_id"]
            self.accepted.add(document_id)
            return document_id
        return None

    def recover(self) -> float:
        """Seconds until every page is recognised and both outboxes are empty (RECOVERY_TIMEOUT if never)."""
        started = time.monotonic()
        try:
            wait_until(lambda: settled(self.probe), "settled", RECOVERY_TIMEOUT, poll=0.2)
        except TimeoutError:
            return RECOVERY_TIMEOUT
        return time.monotonic() - started

    def losses(self) -> int:
        with self.probe.uow() as uow:
            present = set(uow.session.scalars(select(Document.id)))
        state = end_state(self.probe, fixity=False)
        return len(self.accepted - present) + state.failed + state.pending

    def restart_workers(self, *, all_of_them: bool) -> None:
        for worker in self.env.workers if all_of_them else self.env.workers[:1]:
            worker.kill()
            self.env.restart(worker)

    # --- the scenarios: make the fault, return the moment it ended -----------------------------------------

    def kill_ocr(self) -> float:
        for _ in range(3):
            self.capture("scan")
        wait_until(lambda: pages_started(self.probe), "a page started", 60, poll=0.02)
        self.restart_workers(all_of_them=False)
        return time.monotonic()

    def kill_render(self) -> float:
        for _ in range(3):
            self.capture("text")
        wait_until(lambda: pages_started(self.probe), "a PDF page started rendering", 60, poll=0.02)
        self.restart_workers(all_of_them=False)
        return time.monotonic()

    def kill_index(self) -> float:
        for _ in range(6):
            self.capture("text")
        wait_until(lambda: search_outbox_rows(self.probe) or settled(self.probe), "index work", 30, poll=0.01)
        self.restart_workers(all_of_them=True)
        return time.monotonic()

    def kill_rotation(self) -> float:
        self.capture("scan")
        env = dict(self.env.env, ARCHIVE_HOME=str(self.env.base / "cli"))
        killed = subprocess.run([sys.executable, "-c", ROTATE_THEN_DIE], env=env, capture_output=True, text=True,
                                timeout=300, check=False)
        if killed.returncode != -signal.SIGKILL:
            raise RuntimeError(f"the rotation was not killed: {killed.stderr[-1000:]}")
        ended = time.monotonic()
        finished = self.env.cli("keys", "rewrap")
        if finished.returncode != 0:
            raise RuntimeError(finished.stderr)
        with self.probe.uow() as uow:
            keys = set(uow.session.scalars(select(Document.key_id).where(~Document.is_shredded)))
        if len(keys) != 1:
            raise RuntimeError(f"documents under several keys after rewrap: {keys}")
        return ended

    def redis_down(self) -> float:
        self.env.redis.stop()
        try:
            for _ in range(2):
                if self.capture("scan") is None:
                    raise RuntimeError("a capture was refused while Redis was down")
        finally:
            self.env.redis.start()
        ended = time.monotonic()
        time.sleep(job_outbox.FLUSH_GRACE.total_seconds() + 0.5)
        self.capture("text")  # the batch goes on: the next capture's enqueue flushes what waited
        return ended

    def pg_restart(self) -> float:
        self.env.postgres.pause()
        try:
            status = self.staff.search("电费").status_code
        finally:
            self.env.postgres.resume()
        if status != 503:
            raise RuntimeError(f"search answered {status} while PostgreSQL was down")
        ended = time.monotonic()
        wait_until(lambda: self.staff.search("电费").status_code == 200, "search again", 60, poll=0.1)
        self.capture("text")
        return ended

    def s3_down(self) -> float:
        assert self.env.s3_gate is not None
        self.env.s3_gate.close()
        try:
            if self.capture("text") is not None:
                raise RuntimeError("a capture was accepted while S3 was unreachable")
        finally:
            self.env.s3_gate.open()
        ended = time.monotonic()
        wait_until(lambda: self.capture("text"), "capture again", 60, poll=0.5)
        return ended


def full_disk_run(base: Path) -> tuple[int, int, float]:
    """One capture onto a full tmpfs store (in-process app): (losses, dangling objects, seconds to refuse)."""
    from archive_fixtures import build_archive

    from web import create_app

    mount = base / f"small-{time.monotonic_ns()}"
    mount.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mount)],
                      capture_output=True, check=False).returncode != 0:
        raise RuntimeError("cannot mount a tmpfs (needs root)")
    try:
        archive = build_archive(mount.with_suffix(".home"), extra_env={"ARCHIVE_STORAGE_PATH": str(mount / "objects")})
        client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, archive=archive).test_client()
        client.post("/login", data={"username": "clerk", "password": "correct horse battery"})
        (mount / "filler").write_bytes(b"\0" * (4 * 1024 * 1024 - 200 * 1024))
        import io

        started = time.monotonic()
        answer = client.post("/api/v1/documents", data={
            "files": [(io.BytesIO(scan_png([f"第{n}行" for n in range(40)], seed=3)), "full.png")],
            "customer": resident_id(1), "customer_name": "张伟", "document_type": "supply_contract",
            "classification": "internal"})
        seconds = time.monotonic() - started
        with archive.uow() as uow:
            rows = uow.session.scalar(select(func.count(Document.id)))
        stored = [p for p in (mount / "objects").rglob("*") if p.is_file()]
        archive.close()
        return (0 if answer.status_code == 503 else 1) + rows, len(stored), seconds
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


SCENARIOS = ["kill_ocr", "kill_render", "kill_index", "kill_rotation", "redis_down", "pg_restart", "s3_down", "disk_full"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--only", nargs="*", choices=SCENARIOS)
    parser.add_argument("--json", type=Path, help="also write the table as JSON here")
    args = parser.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    chosen = args.only or SCENARIOS
    table: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="archive-soak-") as scratch:
        if "disk_full" in chosen:
            runs = [full_disk_run(Path(scratch)) for _ in range(args.runs)]
            table["disk_full"] = summary(args.runs, sum(r[0] for r in runs), sum(r[1] for r in runs),
                                         [r[2] for r in runs], 0)
            print_row("disk_full", table["disk_full"])
        scale = [name for name in chosen if name != "disk_full"]
        if scale:
            with standalone(web=2, web_processes=2, workers=2) as deployment:
                soak = Soak(deployment)
                for name in scale:
                    scenario: Callable[[], float] = getattr(soak, name)
                    recoveries, errors = [], 0
                    for _ in range(args.runs):
                        try:
                            ended = scenario()
                            soak.recover()
                            recoveries.append(time.monotonic() - ended)
                        except Exception as error:  # a run that went wrong counts, and the soak goes on
                            errors += 1
                            print(f"  {name}: {error}", file=sys.stderr, flush=True)
                            soak.recover()
                    state = end_state(soak.probe)
                    table[name] = summary(args.runs, soak.losses() + state.missing + state.corrupted, state.dangling,
                                          recoveries, errors)
                    print_row(name, table[name])
    print(json.dumps(table, indent=2))
    if args.json:
        args.json.write_text(json.dumps(table, indent=2))


def summary(runs: int, lost: int, dangling: int, recoveries: list[float], errors: int) -> dict[str, Any]:
    return {"runs": runs, "lost": lost, "dangling": dangling, "errors": errors,
            "recovery_median_s": round(statistics.median(recoveries), 2) if recoveries else None,
            "recovery_max_s": round(max(recoveries), 2) if recoveries else None}


def print_row(name: str, row: dict[str, Any]) -> None:
    print(f"{name:14} runs {row['runs']:3}  lost {row['lost']}  dangling {row['dangling']}  errors {row['errors']}  "
          f"recovery median {row['recovery_median_s']} s, max {row['recovery_max_s']} s", flush=True)


if __name__ == "__main__":
    main()
