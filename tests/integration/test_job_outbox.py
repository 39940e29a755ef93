"""The job outbox: a capture while the job queue is down keeps its OCR jobs and queues them later."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from archive.capture.recognition import OCR_PAGE
from archive.capture.services import CaptureRequest, capture_document
from archive.demo.samples import write_scan
from archive.models import JobOutbox, Page
from archive.services import job_outbox


def queued_tasks(archive) -> list[str]:  # noqa: ANN001
    return [task.name for task in archive.jobs.huey.pending()]


def test_a_capture_while_the_queue_is_down_commits_and_its_ocr_jobs_wait_in_the_outbox(
        archive, people, tmp_path, monkeypatch):
    archive.jobs.huey.flush()
    working = archive.jobs.enqueue

    def down(task: str, *args: object) -> None:
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(archive.jobs, "enqueue", down)
    scan = write_scan(tmp_path / "contract.png", ["供用电合同 电费结算"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=scan, customer="11010519491231002X", customer_name="张伟", document_type="supply_contract"))

    with archive.uow() as uow:
        (page_id,) = uow.session.scalars(select(Page.id).where(Page.document_id == result.document_id))
        assert [(row.task, row.args) for row in uow.session.scalars(select(JobOutbox))] == [(OCR_PAGE, [page_id])]
    assert OCR_PAGE not in queued_tasks(archive)

    monkeypatch.setattr(archive.jobs, "enqueue", working)  # the queue is back
    assert job_outbox.flush_job_outbox(archive.uow(), older_than=timedelta(0)) == 1

    assert queued_tasks(archive).count(OCR_PAGE) == 1
    assert job_outbox.pending_jobs(archive.uow()) == 0


def test_a_capture_with_the_queue_up_queues_its_jobs_and_leaves_the_outbox_empty(archive, people, tmp_path):
    archive.jobs.huey.flush()
    scan = write_scan(tmp_path / "contract.png", ["供用电合同 电费结算"], format="PNG", dpi=100)
    capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=scan, customer="11010519491231002X", customer_name="张伟", document_type="supply_contract"))

    assert queued_tasks(archive).count(OCR_PAGE) == 1
    with archive.uow() as uow:
        assert uow.session.scalar(select(func.count(JobOutbox.id))) == 0


def test_the_next_successful_enqueue_queues_what_waited_in_the_outbox(archive, people, tmp_path, monkeypatch):
    from archive.services.indexing import queue_reindex

    archive.jobs.huey.flush()
    working = archive.jobs.enqueue
    monkeypatch.setattr(archive.jobs, "enqueue", lambda *args: (_ for _ in ()).throw(ConnectionError("down")))
    scan = write_scan(tmp_path / "contract.png", ["供用电合同 电费结算"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=scan, customer="11010519491231002X", customer_name="张伟", document_type="supply_contract"))
    monkeypatch.setattr(archive.jobs, "enqueue", working)
    monkeypatch.setattr(job_outbox, "FLUSH_GRACE", timedelta(0))

    with archive.uow() as uow:  # any later change that queues a job (here: index work)
        queue_reindex(uow, result.document_id)
        uow.commit()

    assert OCR_PAGE in queued_tasks(archive)
    assert job_outbox.pending_jobs(archive.uow()) == 0


def test_migration_0013_goes_down_and_up(archive) -> None:  # noqa: ANN001 - SQLite and PostgreSQL
    from archive_fixtures import downgrade
    from sqlalchemy import inspect

    downgrade(archive, "0012")
    with archive.engine.connect() as connection:
        assert "job_outbox" not in inspect(connection).get_table_names()
    archive.migrate()
    with archive.engine.connect() as connection:
        assert "job_outbox" in inspect(connection).get_table_names()
