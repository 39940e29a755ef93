"""What the browser tests share besides fixtures: the served archive and its wait for OCR and indexing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select

from archive.bootstrap import Archive
from archive.identity import resident_id_check_digit
from archive.models import Document, SearchOutbox

CUSTOMER_ID = "11010519491231002" + resident_id_check_digit("11010519491231002")
OCR_TIMEOUT_S = 120


@dataclass
class Server:
    """The served archive: its base URL and the Archive behind it."""

    url: str
    archive: Archive

    def wait_until_indexed(self, document_ids: list[int], timeout: float = OCR_TIMEOUT_S) -> None:
        """Wait until OCR has finished every page of the documents and the search outbox is drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.archive.uow() as uow:
                processing = uow.session.scalar(
                    select(func.count()).select_from(Document)
                    .where(Document.id.in_(document_ids), Document.status == "processing")
                )
                outbox = uow.session.scalar(
                    select(func.count()).select_from(SearchOutbox).where(SearchOutbox.document_id.in_(document_ids))
                )
            if not processing and not outbox:
                return
            time.sleep(0.3)
        raise AssertionError(f"documents {document_ids} not recognised and indexed within {timeout} s")


@contextmanager
def serving(archive: Archive) -> Iterator[Server]:
    """Serve the archive's app on a free local port, with CSRF on and two OCR job workers in this process."""
    from waitress import create_server

    from web import create_app

    app = create_app({}, archive=archive)
    http = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=http.run, name="waitress", daemon=True)
    consumer = archive.jobs.consumer(2)
    consumer.start()
    thread.start()
    try:
        yield Server(url=f"http://127.0.0.1:{http.effective_port}", archive=archive)
    finally:
        http.close()
        http.task_dispatcher.shutdown()
        thread.join(timeout=10)
        consumer.stop(graceful=True)
        archive.close()
