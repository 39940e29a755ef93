"""The job queue on both of its stores (SQLite embedded, a real redis-server): a coalescing task (the
search outbox's drain) waits in the queue at most once, and still sees every change."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.jobs import JobQueue
from archive.models import Document
from archive.services import indexing
from search.base import SearchQuery, Visibility

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from scale_env import RedisServer, resident_id  # noqa: E402

DRAIN = indexing.DRAIN_OUTBOX


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "redis"])
def jobs(request, archive) -> Iterator[JobQueue]:  # noqa: ANN001
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        archive.settings = dataclasses.replace(archive.settings, queue="redis", redis_url=server.url)
        archive.jobs = archive.job_queue()
    archive.jobs.huey.flush()
    yield archive.jobs
    archive.jobs.huey.flush()


@pytest.fixture
def contract_scan(tmp_path: Path) -> Path:
    return write_scan(tmp_path / "contract.png", ["供用电合同 电费结算"], format="PNG", dpi=100)


def queued(jobs: JobQueue) -> list[str]:
    return [task.name for task in jobs.huey.pending()]


def run_drain(jobs: JobQueue) -> None:
    """Take the waiting drain out of the queue and run it, as a consumer does (other jobs stay queued)."""
    waiting = [task for task in jobs.huey.pending() if task.name == DRAIN]
    assert len(waiting) == 1
    others = [task for task in jobs.huey.pending() if task.name != DRAIN]
    jobs.huey.storage.flush_queue()
    for task in others:
        jobs.huey.enqueue(task)
    jobs.huey.execute(waiting[0])


def test_a_drain_queued_again_while_one_waits_is_not_queued_twice(jobs: JobQueue) -> None:
    for _ in range(3):
        jobs.enqueue(DRAIN)
    assert queued(jobs) == [DRAIN]


def test_once_the_waiting_drain_starts_the_next_change_queues_another(jobs: JobQueue) -> None:
    jobs.enqueue(DRAIN)
    run_drain(jobs)
    assert queued(jobs) == []
    jobs.enqueue(DRAIN)
    assert queued(jobs) == [DRAIN]


def test_the_waiting_drain_indexes_changes_committed_after_it_was_queued(jobs, archive, people, contract_scan):
    first, second = (capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=contract_scan, customer=customer, customer_name="张伟", document_type="supply_contract"))
        for customer in (resident_id(1), resident_id(2)))
    assert queued(jobs).count(DRAIN) == 1  # the second capture's change waits for the first's drain

    run_drain(jobs)
    assert not indexing.outbox_waiting(archive.uow())
    with archive.uow() as uow:
        documents = [uow.session.get(Document, result.document_id) for result in (first, second)]
        visibility = Visibility(departments=None, classifications=frozenset(d.classification for d in documents))
        found = {hit.document_id for hit in uow.index.search(SearchQuery(limit=100), visibility).hits}
    assert {first.document_id, second.document_id} <= found


def test_a_drain_lost_from_the_queue_is_queued_again_when_a_worker_starts_and_every_minute(
        jobs, archive, people, contract_scan) -> None:
    capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=contract_scan, customer="11010519491231002X", customer_name="张伟", document_type="supply_contract"))
    jobs.huey.storage.flush_queue()  # the waiting drain is lost (a worker killed as it took it); its flag stays
    jobs.enqueue(DRAIN)
    assert queued(jobs) == []  # still taken for waiting

    jobs.call_local("flush_job_outbox")  # the every-minute task: the outbox still holds rows
    assert queued(jobs) == [DRAIN]
    jobs.huey.storage.flush_queue()
    jobs.start()  # what every worker does as it starts
    run_drain(jobs)
    assert not indexing.outbox_waiting(archive.uow())
