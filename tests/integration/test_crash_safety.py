"""A capture killed at any point leaves no visible trace, and the sweep removes what it stored; an OCR
worker killed mid-page loses nothing.

Each capture test runs a capture in a child process and kills it with SIGKILL: from the parent while the
encrypted objects are being written, or from inside the child (the child script is test code and
patches the pipeline) after every object is stored, and in the middle of the database transaction.
The OCR test kills a real `archive worker` process (and its tesseract) while it recognises a page.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.actors import FIXITY_ACTOR, Actor
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent, Customer, Document, Page
from archive.services import documents, integrity

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
ROOT = Path(__file__).resolve().parents[2]
VERIFIER = Actor.system("test-crash", FIXITY_ACTOR.extra_permissions)

CHILD = """
import os, signal, sys
from pathlib import Path

from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.capture.steps import RecordDocument
from archive.models import Document
from archive.services import users
from archive.unit_of_work import UnitOfWork

path, customer, kill_at = sys.argv[1:4]
archive = Archive()
clerk = users.resolve_actor(archive.uow(), username="clerk")


def die(*_args, **_kwargs):
    print("killed at", kill_at, file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


if kill_at == "before-record":  # every object is stored, the transaction has not begun
    RecordDocument.run = die
elif kill_at == "in-transaction":  # every row is written (flushed) but not committed
    def flush_then_die(self):
        self.session.flush()
        documents = [o.id for o in self.session if isinstance(o, Document)]
        print("rows written for document", *documents, file=sys.stderr, flush=True)
        die()

    UnitOfWork.commit = flush_then_die
capture_document(archive.uow(), actor=clerk, request=CaptureRequest(
    path=Path(path), customer=customer, customer_name="张三", document_type="supply_contract"))
print("captured", flush=True)
"""


@pytest.fixture(scope="module")
def long_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A six-page TIFF at 300 dpi: storing its page images takes long enough to be interrupted."""
    path = tmp_path_factory.mktemp("scans") / "contract.tif"
    return write_scan(path, [], format="TIFF", pages=[[f"供用电合同 第{n}页", "Supply contract"] for n in range(1, 7)])


def start_capture(archive: Archive, scan: Path, kill_at: str) -> subprocess.Popen[str]:
    env = dict(os.environ, ARCHIVE_HOME=str(archive.settings.home),
               ARCHIVE_DATABASE_URL=archive.settings.database_url, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", CHILD, str(scan), ID_NUMBER, kill_at], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stored_keys(archive: Archive) -> set[str]:
    return {info.key for info in archive.object_store.list("documents/")}


def kill_once_storing_began(archive: Archive, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not stored_keys(archive):
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the child stored nothing (exit {child.returncode}): {child.communicate()[1]}")
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)


def visible_trace(archive: Archive) -> dict[str, int]:
    with archive.uow() as uow:
        count = lambda query: uow.session.scalar(query) or 0  # noqa: E731
        return {
            "documents": count(select(func.count(Document.id))),
            "pages": count(select(func.count(Page.id))),
            "customers": count(select(func.count(Customer.id))),
            "capture events": count(select(func.count(AuditEvent.id))
                                    .where(AuditEvent.event_type == "document.captured")),
        }


def temporary_files(archive: Archive) -> list[Path]:
    root = archive.settings.storage_path / "documents"
    return [p for p in root.rglob(".tmp-*")] if root.exists() else []


@pytest.mark.parametrize("kill_at", ["storing", "before-record", "in-transaction"])
def test_a_capture_killed_midway_leaves_no_trace_and_the_sweep_removes_exactly_its_objects(
    archive: Archive, people, long_scan: Path, kill_at: str
) -> None:
    child = start_capture(archive, long_scan, kill_at)
    if kill_at == "storing":
        kill_once_storing_began(archive, child)
    _, stderr = child.communicate(timeout=180)
    assert child.returncode == -signal.SIGKILL, f"the child was not killed (exit {child.returncode}): {stderr}"
    if kill_at != "storing":
        assert f"killed at {kill_at}" in stderr
    if kill_at == "in-transaction":
        assert "rows written for document 1" in stderr  # the kill came after the INSERTs, before COMMIT

    assert visible_trace(archive) == {"documents": 0, "pages": 0, "customers": 0, "capture events": 0}
    strays = stored_keys(archive)
    assert strays, "the kill came before anything was stored"
    if kill_at != "storing":
        assert len(strays) == 1 + 6  # the original and every page image, all unreferenced
    [prefix] = {integrity.object_prefix(key) for key in strays}

    report = integrity.verify_archive(archive.uow(), actor=VERIFIER)
    assert {(p.kind, p.object_key) for p in report.problems} == {("orphaned", key) for key in strays}

    # A grace period protects a capture that may still be writing; past it, the objects go.
    assert integrity.sweep_orphans(archive.uow(), actor=VERIFIER) == []
    assert set(integrity.sweep_orphans(archive.uow(), actor=VERIFIER, older_than=timedelta(0))) == strays
    assert stored_keys(archive) == set()
    assert temporary_files(archive) == []

    # Nothing is blocked: the same file captures again, with the first archive code of the series.
    result = capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=long_scan, customer=ID_NUMBER, customer_name="张三", document_type="supply_contract"))
    assert result.page_count == 6 and result.archive_code.endswith("-0001")
    assert not any(key.startswith(prefix + "/") for key in stored_keys(archive))
    assert integrity.verify_archive(archive.uow(), actor=VERIFIER).ok


def test_a_capture_that_is_not_killed_commits_and_verifies(archive: Archive, people, long_scan: Path) -> None:
    """The child script itself works: without a kill point the capture lands completely."""
    child = start_capture(archive, long_scan, "none")
    stdout, stderr = child.communicate(timeout=180)
    assert child.returncode == 0 and "captured" in stdout, stderr
    assert visible_trace(archive)["documents"] == 1
    report = integrity.verify_archive(archive.uow(), actor=VERIFIER)
    assert report.ok and report.objects_checked == 7


# --- an OCR worker killed mid-page --------------------------------------------------------------------


def start_worker(archive: Archive) -> subprocess.Popen[str]:
    """`archive worker` in its own process group, so the kill takes its tesseract child too."""
    env = dict(os.environ, ARCHIVE_HOME=str(archive.settings.home),
               ARCHIVE_DATABASE_URL=archive.settings.database_url, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "archive", "worker", "--workers", "1"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def page_state(archive: Archive, document_id: int) -> tuple[str, object, str]:
    with archive.uow() as uow:
        page = uow.session.scalar(select(Page).where(Page.document_id == document_id))
        return page.ocr_status, page.ocr_started_at, uow.session.get(Document, document_id).status


def wait_for(condition, what: str, worker: subprocess.Popen[str], timeout: float = 120) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None or time.monotonic() > deadline:
            os.killpg(worker.pid, signal.SIGKILL)
            pytest.fail(f"{what} did not happen (worker exit {worker.returncode}): {worker.communicate()[1][-2000:]}")
        time.sleep(0.01)


def test_an_ocr_worker_killed_mid_page_loses_nothing_the_next_worker_finishes_the_page(
    archive: Archive, people, tmp_path: Path
) -> None:
    lines = [f"第{n}条 供电人应当按照国家规定的供电质量标准和约定安全供电 电费按月结算" for n in range(1, 25)]
    scan = write_scan(tmp_path / "dense.png", lines, format="PNG")
    document_id = capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=scan, customer=ID_NUMBER, customer_name="张三", document_type="supply_contract")).document_id
    archive.jobs.huey.flush()  # the worker's start-up re-queueing gives the page its only job
    first = start_worker(archive)
    wait_for(lambda: page_state(archive, document_id)[1] is not None, "the worker starting on the page", first)
    os.killpg(first.pid, signal.SIGKILL)  # mid-page: the job was taken off the queue, tesseract is running
    first.communicate(timeout=30)
    status, started, document_status = page_state(archive, document_id)
    assert (status, document_status) == ("pending", "processing") and started is not None
    assert "ocr_page" not in [task.name for task in archive.jobs.huey.pending()]  # the job died with its worker

    second = start_worker(archive)  # it queues again the pages still pending when it starts
    try:
        wait_for(lambda: page_state(archive, document_id)[2] == "ready", "the page being finished", second)
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.communicate(timeout=30)
    view = documents.get_document(archive.uow(), actor=people["clerk"], document_id=document_id)
    assert view.pages[0].ocr_status == "done" and "电费" in view.pages[0].ocr_text
