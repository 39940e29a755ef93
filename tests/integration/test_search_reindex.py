"""The index follows the database: the outbox, a rebuild without downtime, withdrawn documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from archive.actors import Actor
from archive.bootstrap import Archive
from archive.capture.services import CaptureRequest, capture_document
from archive.cli import cli
from archive.demo.samples import write_scan
from archive.identity import resident_id_check_digit
from archive.models import Document, SearchOutbox
from archive.permissions import permission_document_shred
from archive.services import indexing, searching, shredding

ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")
RETENTION = Actor.system("test-retention", frozenset({permission_document_shred}))


def capture(archive: Archive, actor: Actor, path: Path, text: str, **fields: str) -> int:
    """Capture a scan and give it OCR text as recognition would (the text, then an outbox row)."""
    request = CaptureRequest(path=path, customer=ID_NUMBER, customer_name="张三", document_type="supply_contract",
                             **fields)
    document_id = capture_document(archive.uow(), actor=actor, request=request).document_id
    recognise(archive, document_id, text)
    return document_id


def recognise(archive: Archive, document_id: int, text: str) -> None:
    with archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        for page in document.pages:
            page.ocr_text, page.ocr_status = text, "done"
        uow.session.add(SearchOutbox(document_id=document_id, action="index"))
        uow.commit()


def found(archive: Archive, actor: Actor, query: str) -> list[int]:
    page = searching.search_documents(archive.uow(), actor=actor, query=query, limit=100)
    assert page.total == len(page.hits)
    return sorted(hit.document_id for hit in page.hits)


def outbox_rows(archive: Archive) -> int:
    with archive.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(SearchOutbox)) or 0


@pytest.fixture
def documents(archive: Archive, people, tmp_path: Path) -> list[int]:
    ids = []
    for n, text in enumerate(["供用电合同 第一份", "用电申请书 电费", "银行委托书 电费代扣"]):
        path = tmp_path / f"scan{n}.png"
        write_scan(path, [f"扫描件{n}"], format="PNG", seed=n, dpi=100)
        ids.append(capture(archive, people["clerk"], path, text))
    indexing.drain_outbox(archive.uow())
    assert outbox_rows(archive) == 0
    return ids


def test_reindex_rebuilds_from_the_database_reporting_progress(archive, people, documents):
    archive.index.clear()  # an index that lost everything
    assert found(archive, people["clerk"], "电费") == []
    progress: list[tuple[int, int]] = []
    assert indexing.reindex(archive.uow(), progress=lambda done, total: progress.append((done, total))) == 3
    assert progress[-1] == (3, 3)
    assert found(archive, people["clerk"], "电费") == documents[1:]
    assert archive.index.state().building is None


def test_changes_committed_while_reindexing_are_not_lost(archive, people, documents):
    clerk = people["clerk"]

    def meanwhile(done: int, total: int) -> None:
        # While the new index loads, a page is re-recognised and a document shredded; a worker
        # drains the outbox into the live index, which keeps serving searches.
        recognise(archive, documents[0], "供用电合同 补充协议")
        shredding.shred_document(archive.uow(), actor=RETENTION, document_id=documents[2], reason="disposal")
        indexing.drain_outbox(archive.uow())
        assert found(archive, clerk, "补充协议") == [documents[0]]
        assert found(archive, clerk, "代扣") == []
        assert outbox_rows(archive) == 2  # kept for the index being built

    assert indexing.reindex(archive.uow(), progress=meanwhile) == 3  # the walk had read all three
    assert found(archive, clerk, "补充协议") == [documents[0]]
    assert found(archive, clerk, "代扣") == []
    assert found(archive, clerk, "电费") == [documents[1]]
    assert outbox_rows(archive) == 0


def test_a_failed_reindex_leaves_the_live_index_serving(archive, people, documents):
    def fail(done: int, total: int) -> None:
        raise RuntimeError("the rebuilding process dies")

    with pytest.raises(RuntimeError):
        indexing.reindex(archive.uow(), progress=fail)
    assert found(archive, people["clerk"], "电费") == documents[1:]
    assert archive.index.state().building is None
    assert indexing.reindex(archive.uow()) == 3


def test_a_shredded_document_leaves_hits_totals_and_facets_before_the_outbox_is_drained(
        archive, people, documents):
    shredding.shred_document(archive.uow(), actor=RETENTION, document_id=documents[2], reason="disposal")
    assert outbox_rows(archive) == 1  # the index itself still holds it
    page = searching.search_documents(archive.uow(), actor=people["clerk"], query="电费")
    assert [hit.document_id for hit in page.hits] == [documents[1]]
    assert page.total == 1
    assert sum(page.facets["document_type"].values()) == 1
    indexing.drain_outbox(archive.uow())
    assert outbox_rows(archive) == 0
    assert found(archive, people["clerk"], "电费") == [documents[1]]


def test_the_cli_reindexes_with_a_progress_bar_and_searches_with_sort_and_dates(archive, people, documents):
    runner = CliRunner()
    archive.settings = archive.settings.with_overrides(cli_trusted=True)  # `--as` without a credential
    result = runner.invoke(cli, ["reindex"], obj={"archive": archive}, catch_exceptions=False)
    assert result.exit_code == 0
    assert "indexed 3 documents" in result.output
    result = runner.invoke(cli, ["search", "电费", "--as", "clerk", "--sort", "newest", "--json"],
                           obj={"archive": archive}, catch_exceptions=False)
    assert sorted(hit["document_id"] for hit in json.loads(result.output)) == documents[1:]
    result = runner.invoke(cli, ["search", "电费", "--as", "clerk", "--to", "2000-01-01"], obj={"archive": archive},
                           catch_exceptions=False)
    assert result.output.startswith("0 documents")
    result = runner.invoke(cli, ["search", "电费", "--as", "clerk", "--sort", "size"], obj={"archive": archive})
    assert result.exit_code == 2 and "size" in result.output


def test_a_snippet_never_shows_an_id_or_phone_number_even_if_one_reached_the_index(archive, people, tmp_path):
    path = tmp_path / "scan.png"
    write_scan(path, ["扫描件"], format="PNG", dpi=100)
    # Recognition redacts the text before storing it; this one slipped through unredacted.
    capture(archive, people["clerk"], path, f"电费 身份证 {ID_NUMBER} 电话 13812345678")
    indexing.drain_outbox(archive.uow())
    [hit] = searching.search_documents(archive.uow(), actor=people["clerk"], query="电费").hits
    assert ID_NUMBER not in hit.snippet and "13812345678" not in hit.snippet
    assert "110105********002X" in hit.snippet and "138****5678" in hit.snippet
