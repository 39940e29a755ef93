"""The scale-out deployment as real processes: two gunicorn web instances (two processes each), two
`archive worker`s with homes of their own, Redis, PostgreSQL and the S3 server (tests/scale_env.py).

End to end: capture through one web instance's API, OCR on whichever worker takes the job, search
from the other instance; a key rotation and a destruction while the workers run. Faults, each once
(benchmarks/fault_soak.py repeats them): a worker killed with SIGKILL mid-OCR, mid-rendering and mid-indexing, the
rotation killed mid-rewrap, Redis stopped during a batch, PostgreSQL restarted, S3 unreachable, and
a full filesystem store.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from scale_checks import document_ids, end_state, pages_started, search_outbox_rows, settled
from scale_env import (
    ROTATE_THEN_DIE,
    ApiClient,
    ScaleEnv,
    minio_from_environment,
    resident_id,
    scale_env,
    scan_png,
    text_pdf,
    wait_until,
)
from sqlalchemy import func, select

from archive.models import Document, Page

pytestmark = pytest.mark.postgres

CUSTOMER = resident_id(7)


@pytest.fixture(scope="module")
def deployment(postgres_server, request) -> Iterator[ScaleEnv]:  # noqa: ANN001
    """The deployment on the suite's PostgreSQL and S3 server (MinIO where ARCHIVE_TEST_S3_URL names one)."""
    s3_server = minio_from_environment() or request.getfixturevalue("s3_server")
    base = Path(tempfile.mkdtemp(prefix="archive-scale-"))
    name = f"s_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    try:
        with scale_env(base, database_url=url, s3=s3_server, web=2, web_processes=2, workers=2) as env:
            env.postgres = postgres_server
            yield env
    finally:
        postgres_server.drop_database(name)
        if not os.environ.get("ARCHIVE_TEST_KEEP_SCALE"):  # keep the logs to read
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def probe(deployment: ScaleEnv):  # noqa: ANN201
    archive = deployment.archive()
    yield archive
    archive.close()


@pytest.fixture(scope="module")
def clerk(deployment: ScaleEnv) -> ApiClient:
    return ApiClient(deployment.url(0), "clerk")


@pytest.fixture(scope="module")
def staff(deployment: ScaleEnv) -> ApiClient:
    return ApiClient(deployment.url(1), "staff")


def capture_scans(clerk: ApiClient, tag: str, count: int) -> list[int]:
    ids = []
    for n in range(count):
        answer = clerk.capture([(f"{tag}-{n}.png", scan_png([f"供用电合同 {tag} 第{n}份", "电费结算 银行代扣"], seed=n))],
                               customer=CUSTOMER, customer_name="张伟", title=f"{tag} {n}")
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["documents"][0]["document_id"])
    return ids


def workers_alive(deployment: ScaleEnv) -> None:
    for worker in deployment.workers:
        if not worker.alive:
            deployment.restart(worker)


def assert_settles(deployment: ScaleEnv, probe, timeout: float = 240) -> None:  # noqa: ANN001
    try:
        wait_until(lambda: settled(probe), "every page recognised and both outboxes empty", timeout, poll=0.5)
    except TimeoutError:
        pytest.fail(f"not settled: {end_state(probe, fixity=False)}\n"
                    + "\n".join(f"{p.name}:\n{p.tail(20)}" for p in deployment.workers))
    state = end_state(probe)
    assert (state.failed, state.missing, state.corrupted, state.dangling) == (0, 0, 0, 0), state


# --- end to end -------------------------------------------------------------------------------------------


def test_a_capture_through_one_web_instance_is_recognised_by_a_worker_and_found_from_the_other(
        deployment, probe, clerk, staff):
    pdf = clerk.capture([("tariff.pdf", text_pdf(["Supply contract HT-2024-0107", "electricity tariff schedule"]))],
                        customer=CUSTOMER, customer_name="张伟")
    assert pdf.status_code == 201, pdf.text
    scanned = capture_scans(clerk, "e2e", 2)

    assert_settles(deployment, probe)
    assert staff.search("tariff").json()["total"] == 1  # another gunicorn instance, reading the shared index
    hits = {hit["document_id"] for hit in staff.search("电费结算").json()["hits"]}
    assert set(scanned) <= hits
    progress = clerk.progress(scanned).json()
    assert progress["finished"] and all(d["pages_done"] == 1 for d in progress["documents"].values())


def test_a_key_rotation_while_workers_recognise_pages_leaves_every_document_readable(deployment, probe, clerk, staff):
    ids = capture_scans(clerk, "rotate", 4)
    rotated = deployment.cli("keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    # Web processes that loaded the key file before the rotation wrap new data keys under the old key
    # until they restart (keys.py); workers meet the new key in the shared file when a document needs it.
    ids += capture_scans(clerk, "rotated", 2)

    assert_settles(deployment, probe)
    rewrapped = deployment.cli("keys", "rewrap")
    assert rewrapped.returncode == 0, rewrapped.stderr
    with probe.uow() as uow:
        key_ids = set(uow.session.scalars(select(Document.key_id).where(Document.id.in_(ids))))
    assert key_ids == {"k2"}, key_ids
    for document_id in ids:
        assert clerk.get(f"/documents/{document_id}/original").status_code == 200
    found = {hit["document_id"] for word in ("rotate", "rotated") for hit in staff.search(word).json()["hits"]}
    assert set(ids) <= found


def test_a_destruction_while_workers_run_removes_the_document_from_search_and_the_store(
        deployment, probe, clerk, staff):
    from archive.services.shredding import shred_document
    from retention.permissions import DISPOSAL_ACTOR

    doomed, kept = capture_scans(clerk, "doomed", 2)
    shred_document(probe.uow(), actor=DISPOSAL_ACTOR, document_id=doomed, reason="disposition test")

    assert_settles(deployment, probe)
    hits = {hit["document_id"] for hit in staff.search("doomed").json()["hits"]}
    assert doomed not in hits and kept in hits  # and assert_settles found no object left behind


# --- faults ----------------------------------------------------------------------------------------------


def test_a_worker_killed_mid_ocr_loses_no_page(deployment, probe, clerk):
    capture_scans(clerk, "killocr", 4)
    wait_until(lambda: pages_started(probe), "a worker starting on a page", 60)
    deployment.workers[0].kill()  # SIGKILL to the worker and its tesseract
    deployment.restart(deployment.workers[0])  # as a supervisor would; it re-queues pending pages as it starts

    assert_settles(deployment, probe)


def test_a_worker_killed_mid_rendering_a_pdf_loses_no_page(deployment, probe, clerk, staff):
    for n in range(3):
        answer = clerk.capture([(f"render-{n}.pdf", text_pdf([f"Rendering contract {n}", "killrender"], pages=3))],
                               customer=CUSTOMER, customer_name="张伟")
        assert answer.status_code == 201, answer.text
    wait_until(lambda: pages_started(probe), "a worker starting to render a page", 60, poll=0.02)
    deployment.workers[0].kill()
    deployment.restart(deployment.workers[0])

    assert_settles(deployment, probe)  # every page rendered and stored once: none missing, none dangling
    with probe.uow() as uow:
        assert set(uow.session.scalars(select(Page.image_ready))) == {True}
    assert staff.search("killrender").json()["total"] == 3


def test_workers_killed_mid_indexing_lose_no_index_work(deployment, probe, clerk, staff):
    for n in range(12):
        answer = clerk.capture([(f"index-{n}.pdf", text_pdf([f"Indexing batch contract {n}", "killindex"]))],
                               customer=CUSTOMER, customer_name="张伟")
        assert answer.status_code == 201, answer.text
    wait_until(lambda: search_outbox_rows(probe), "index work waiting", 30, poll=0.02)
    for worker in deployment.workers:
        worker.kill()
    workers_alive(deployment)

    assert_settles(deployment, probe)
    assert staff.search("killindex").json()["total"] == 12


def test_a_rotation_killed_mid_rewrap_is_finished_by_rewrap_while_workers_run(deployment, probe, clerk):
    ids = capture_scans(clerk, "midrotation", 2)
    env = dict(deployment.env, ARCHIVE_HOME=str(deployment.base / "cli"))
    killed = subprocess.run([sys.executable, "-c", ROTATE_THEN_DIE], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    with probe.uow() as uow:
        assert len(set(uow.session.scalars(select(Document.key_id).where(~Document.is_shredded)))) > 1  # half done

    finished = deployment.cli("keys", "rewrap")
    assert finished.returncode == 0, finished.stderr
    with probe.uow() as uow:
        assert len(set(uow.session.scalars(select(Document.key_id).where(~Document.is_shredded)))) == 1
    assert_settles(deployment, probe)
    for document_id in ids:
        assert clerk.get(f"/documents/{document_id}/original").status_code == 200


def test_captures_while_redis_is_down_are_queued_when_it_returns(deployment, probe, clerk):
    deployment.redis.stop()
    try:
        ids = capture_scans(clerk, "noredis", 3)  # capture does not need the queue: the job outbox keeps the jobs
        with probe.uow() as uow:
            waiting = uow.session.scalar(select(func.count(Page.id)).where(Page.document_id.in_(ids),
                                                                           Page.ocr_status == "pending"))
        assert waiting == 3
    finally:
        deployment.redis.start()
    started = time.monotonic()
    assert_settles(deployment, probe, timeout=150)  # the workers' flush (every minute) or the next capture
    print(f"recovered {time.monotonic() - started:.1f} s after Redis returned")


def test_requests_answer_503_while_postgresql_restarts_and_work_again_without_restarting_the_app(
        deployment, clerk, staff):
    assert staff.search("电费").status_code == 200
    deployment.postgres.pause()
    try:
        answer = staff.search("电费")
        page = staff.get("/search", params={"q": "电费"})
    finally:
        deployment.postgres.resume()
    assert answer.status_code == 503 and answer.json()["service"] == "database", answer.text[:300]
    assert page.status_code == 503 and "数据库" in page.text  # the page in the default language
    wait_until(lambda: staff.search("电费").status_code == 200, "search working again", 30)
    assert clerk.capture([("after-pg.pdf", text_pdf(["after the restart", "pgback"]))], customer=CUSTOMER,
                         customer_name="张伟").status_code == 201


def test_capture_refuses_cleanly_while_s3_is_unreachable_and_verify_reports_it(deployment, probe, clerk):
    before = document_ids(probe)
    assert deployment.s3_gate is not None
    deployment.s3_gate.close()
    try:
        answer = clerk.capture([("no-s3.pdf", text_pdf(["while S3 is down", "nos3"]))], customer=CUSTOMER,
                               customer_name="张伟")
        verify = deployment.cli("verify", timeout=600)
    finally:
        deployment.s3_gate.open()
    assert answer.status_code == 503 and answer.json()["service"] == "object_store", answer.text[:300]
    assert document_ids(probe) == before
    assert verify.returncode != 0 and "unreachable" in (verify.stdout + verify.stderr).lower(), verify.stdout[-500:]

    assert clerk.capture([("s3-back.pdf", text_pdf(["S3 is back", "s3back"]))], customer=CUSTOMER,
                         customer_name="张伟").status_code == 201
    assert_settles(deployment, probe)
    assert deployment.cli("verify").returncode == 0


# --- a full disk ---------------------------------------------------------------------------------------


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs for the filesystem store (root only: mount)."""
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(mountpoint)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_a_capture_onto_a_full_filesystem_store_refuses_with_a_clear_error_and_stores_nothing(
        small_filesystem: Path, tmp_path: Path) -> None:
    from archive_fixtures import build_archive
    from web_fixtures import log_in

    from web import create_app

    store = small_filesystem / "objects"
    archive = build_archive(tmp_path / "home", extra_env={"ARCHIVE_STORAGE_PATH": str(store)})
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, archive=archive)
    client = app.test_client()
    log_in(client, "clerk")
    big = scan_png([f"供用电合同 第{n}行" for n in range(40)], seed=3)  # one page, a few hundred KiB
    (small_filesystem / "filler").write_bytes(b"\0" * (4 * 1024 * 1024 - 200 * 1024))  # leave ~200 KiB

    answer = client.post("/api/v1/documents", data={
        "files": [(io.BytesIO(big), "full.png")], "customer": CUSTOMER, "customer_name": "张伟",
        "document_type": "supply_contract", "classification": "internal"},
        headers={"Accept": "application/json"})

    assert answer.status_code == 503, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["service"] == "object_store"
    with archive.uow() as uow:
        assert uow.session.scalar(select(func.count(Document.id))) == 0
    assert [p for p in store.rglob("*") if p.is_file()] == []  # nothing half-stored
    archive.close()
