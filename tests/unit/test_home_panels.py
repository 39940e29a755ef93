"""The services behind the home page's panels: each within the actor's scope, each refused to a role
without its permission."""

from __future__ import annotations

from pathlib import Path

import pytest
from archive_fixtures import audit_rows, captured
from sqlalchemy import select

from archive.capture.services import CaptureRequest, capture_document, list_capture_queue
from archive.demo.samples import write_scan
from archive.errors import AccessDenied
from archive.models import Document
from archive.services import customers, documents

ORGANISATION = "91350100M000100Y43"  # a valid unified social credit code


def test_the_capture_queue_lists_documents_whose_ocr_runs_in_the_clerks_scope(archive, people, tmp_path: Path) -> None:  # noqa: ANN001
    done = captured(archive, people["clerk"], tmp_path, "done")
    scan = write_scan(tmp_path / "new.png", ["申请书"], format="PNG", dpi=100)
    waiting = capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=scan, filename="new.png", customer="11010519491231002X", customer_name="张伟",
        document_type="application_form"))

    queue = list_capture_queue(archive.uow(), actor=people["clerk"])

    assert queue.total == 1 and [i.document_id for i in queue.items] == [waiting.document_id]
    assert (queue.items[0].pages_total, queue.items[0].pages_done) == (1, 0) and done.id != waiting.document_id
    with pytest.raises(AccessDenied):
        list_capture_queue(archive.uow(), actor=people["staff"])


def test_customers_missing_required_documents_are_listed_with_what_they_lack(archive, people, tmp_path: Path) -> None:  # noqa: ANN001
    captured(archive, people["clerk"], tmp_path, "contract")  # 张伟 (individual): a supply contract only
    for kind, name in (("application_form", "form"), ("id_copy", "id")):
        captured(archive, people["clerk"], tmp_path, name, customer=ORGANISATION, document_type=kind)

    gaps = customers.list_customers_missing_documents(archive.uow(), actor=people["clerk"])

    assert gaps.total == 2
    missing = {gap.id: gap.missing_types for gap in gaps.items}
    with archive.uow() as uow:
        ids = {d.customer.kind: d.customer_id for d in uow.session.scalars(select(Document))}
    assert missing[ids["individual"]] == ["application_form", "id_copy"]
    assert missing[ids["organisation"]] == ["business_licence", "supply_contract"]
    assert customers.list_customers_missing_documents(archive.uow(), actor=people["staff_kf"]).total == 0  # KF's
    with pytest.raises(AccessDenied):
        customers.list_customers_missing_documents(archive.uow(), actor=people["auditor"])


def test_a_customer_whose_file_is_complete_is_not_listed(archive, people, tmp_path: Path) -> None:  # noqa: ANN001
    for kind in ("application_form", "supply_contract", "id_copy"):
        captured(archive, people["clerk"], tmp_path, kind, document_type=kind)

    assert customers.list_customers_missing_documents(archive.uow(), actor=people["clerk"]).total == 0


def test_recent_documents_are_those_the_actor_viewed_and_the_newest_they_may_see(archive, people, tmp_path: Path) -> None:  # noqa: ANN001
    seen = captured(archive, people["clerk"], tmp_path, "seen", level="internal")
    unseen = captured(archive, people["clerk"], tmp_path, "unseen", level="internal")
    secret = captured(archive, people["clerk"], tmp_path, "secret", level="confidential")
    documents.get_document(archive.uow(), actor=people["staff"], document_id=seen.id)

    recent = documents.list_recent_documents(archive.uow(), actor=people["staff"])

    assert [d.id for d in recent.viewed] == [seen.id]
    assert {d.id for d in recent.new} == {seen.id, unseen.id}  # not the confidential one (internal clearance)
    assert secret.id in {d.id for d in documents.list_recent_documents(archive.uow(), actor=people["clerk"]).new}
    assert documents.list_recent_documents(archive.uow(), actor=people["staff_kf"]).new == []
    with pytest.raises(AccessDenied):
        documents.list_recent_documents(archive.uow(), actor=people["admin"])


def test_each_panel_listing_documents_or_customers_is_audited(archive, people, tmp_path: Path) -> None:  # noqa: ANN001
    """The home page's lists name documents and customers: each listing is a documents.browsed event."""
    captured(archive, people["clerk"], tmp_path, "contract")
    list_capture_queue(archive.uow(), actor=people["clerk"])
    customers.list_customers_missing_documents(archive.uow(), actor=people["clerk"])
    documents.list_recent_documents(archive.uow(), actor=people["staff"])
    browsed = [(row.actor_name, row.detail["by"]) for row in audit_rows(archive, "documents.browsed")]
    assert browsed == [("clerk", "capture_queue"), ("clerk", "customer_gaps"), ("staff", "recent")]
