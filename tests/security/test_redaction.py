"""Item 3 (ASVS 8.3.1, 8.3.6, 7.1.1): one redaction for everything typed or read by OCR."""

from __future__ import annotations

import io

import pytest
from security_support import audit_events
from sqlalchemy import select, update

from archive.identity import resident_id_check_digit
from archive.models import Customer, Document, SearchOutbox
from archive.pii import find_identifiers, redact

ID = "32010219800101123" + resident_id_check_digit("32010219800101123")  # 320102198001011238
CUSTOMER = "11010519491231002" + resident_id_check_digit("11010519491231002")

# (written, expected normalised value): the ways people and OCR write the same numbers.
CORPUS = [
    (ID, ID),
    ("320102 19800101 1238", ID),
    ("320102-19800101-1238", ID),
    ("320102.19800101.1238", ID),
    ("3201 0219 8001 0112 38", ID),
    ("320102\u00a019800101\u00a01238", ID),
    ("32O102198001011238", ID),  # O for 0
    ("3201021980010112B8", ID),  # B for 8
    ("320l02198001011238", ID),  # l for 1
    ("32010219800I011238", ID),  # I for 1
    ("13912345678", "13912345678"),
    ("139-1234-5678", "13912345678"),
    ("139 1234 5678", "13912345678"),
    ("139.1234.5678", "13912345678"),
    ("+86-158-0000-1111", "15800001111"),
    ("+86 15800001111", "15800001111"),
    ("0086 158 0000 1111", "15800001111"),
    ("(+86)158-0000-1111", "15800001111"),
]
LEFT_ALONE = ["10 20 30 40 50 60 70 80 90", "2024-01-01 12:00", "合计 1 234 567.89 元", "第 3 页 共 12 页",
              "Z001-HT·2024-D30-YX-0001", "91110000100000000X0", "电话 010-6512 3456"]


@pytest.mark.parametrize(("written", "value"), CORPUS)
def test_every_variant_is_found_and_masked(written: str, value: str) -> None:
    text = f"客户证件/电话：{written}，请核对。"
    assert value in find_identifiers(text)
    redacted = redact(text)
    digits = "".join(c for c in redacted if c.isdigit())
    assert value[3:7] not in digits.replace(value[:6], "").replace(value[-4:], "")  # the hidden middle is gone
    assert "*" in redacted and redacted.startswith("客户证件/电话：") and redacted.endswith("，请核对。")


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_figures_that_are_no_identifier_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_a_misread_character_that_no_date_and_check_digit_prove_stays_a_token() -> None:
    assert redact("ABCDEFGHJKLMNPQRST") == "ABCDEFGHJKLMNPQRST"


def _capture(client, tmp_path, **fields: str):
    from archive.demo.samples import write_scan

    path = write_scan(tmp_path / "s.png", ["供用电合同"], format="PNG")
    data = {"customer": CUSTOMER, "customer_name": "张三", "document_type": "supply_contract",
            "files": (io.BytesIO(path.read_bytes()), f"扫描 {ID}.png"), **fields}
    return client.post("/api/v1/documents", data=data, content_type="multipart/form-data")


def test_titles_dossiers_customer_names_and_file_names_are_stored_redacted(client, login_as, web_archive,
                                                                          tmp_path) -> None:
    login_as(client, "clerk")
    answer = _capture(client, tmp_path, title="合同 身份证 320102 19800101 1238", dossier="案卷 139-1234-5678",
                      customer_name="张三 13912345678")
    assert answer.status_code == 201, answer.get_json()
    with web_archive.uow() as uow:
        document = uow.session.scalars(select(Document)).unique().one()
        stored = [document.title, document.source_filename, document.dossier.title, document.customer.name]
        title = document.title
    joined = " ".join(stored)
    assert "19800101" not in joined and "1234-5678" not in joined and "12345678" not in joined and ID not in joined
    assert "320102********1238" in title


def test_search_queries_and_filters_reach_the_audit_redacted(client, login_as, web_archive) -> None:
    login_as(client, "clerk")
    client.get("/api/v1/search?q=合同&dossier=案卷 139-1234-5678")
    [event] = audit_events(web_archive, event_type="documents.searched", actor_name="clerk")
    assert "1234" not in str(event.detail) and event.detail["filters"]["dossier"] == "案卷 139****5678"


def test_stored_text_is_reredacted_by_a_resumable_job(client, login_as, web_archive, tmp_path) -> None:
    from archive_cli_actor import REDACTOR

    from archive.security.models import SecurityCounter
    from archive.services.reredaction import CURSOR, reredact_stored_text

    login_as(client, "clerk")
    first = _capture(client, tmp_path).get_json()["documents"][0]["document_id"]
    with web_archive.uow() as uow:  # text stored before this redaction existed
        uow.session.execute(update(Document).values(title=f"旧标题 {ID[:6]} {ID[6:14]} {ID[14:]}"))
        uow.session.execute(update(Customer).values(name="张三 139-1234-5678"))
        uow.session.query(SearchOutbox).delete()
        uow.session.add(SecurityCounter(key=CURSOR, count=0))
        uow.commit()
    report = reredact_stored_text(web_archive.uow(), actor=REDACTOR, batch=1)
    assert (report.documents_checked, report.documents_changed) == (1, 1)
    with web_archive.uow() as uow:
        document = uow.session.get(Document, first)
        assert "19800101" not in document.title and "1234-5678" not in document.customer.name
        assert uow.session.scalars(select(SearchOutbox.document_id)).all() == [first]
        assert uow.session.get(SecurityCounter, CURSOR) is None  # finished: the next run starts afresh
    assert audit_events(web_archive, event_type="text.reredacted")


def test_an_interrupted_reredaction_resumes_after_the_last_batch(web_archive) -> None:
    from archive_cli_actor import REDACTOR

    from archive.security.models import SecurityCounter
    from archive.services.reredaction import CURSOR, reredact_stored_text

    with web_archive.uow() as uow:
        uow.session.add(SecurityCounter(key=CURSOR, count=41))
        uow.commit()
    assert reredact_stored_text(web_archive.uow(), actor=REDACTOR).resumed_after == 41


def test_nobody_but_the_operator_runs_the_reredaction(web_archive) -> None:
    from archive.errors import AccessDenied
    from archive.services import users
    from archive.services.reredaction import reredact_stored_text

    with pytest.raises(AccessDenied):
        reredact_stored_text(web_archive.uow(), actor=users.resolve_actor(web_archive.uow(), username="admin"))


def test_the_reredaction_reads_the_full_text_so_old_split_numbers_become_lookups(client, login_as, web_archive,
                                                                                  tmp_path) -> None:
    from archive_cli_actor import REDACTOR

    from archive.capture.recognition import document_key
    from archive.models import Page
    from archive.pii import lookup_hash
    from archive.services.reredaction import reredact_stored_text

    login_as(client, "clerk")
    document_id = _capture(client, tmp_path).get_json()["documents"][0]["document_id"]
    old_text = "身份证 320102 19800101 1238 电费"
    with web_archive.uow() as uow:  # as an OCR run before this redaction left it
        document = uow.session.get(Document, document_id)
        page = document.pages[0]
        key = f"{page.object_key}.text-old"
        uow.store.put(key, io.BytesIO(old_text.encode()), data_key=document_key(uow, document),
                      algorithm=document.cipher)
        uow.session.execute(update(Page).where(Page.id == page.id).values(
            text_object_key=key, ocr_text=old_text, ocr_status="done"))
        uow.commit()
    reredact_stored_text(web_archive.uow(), actor=REDACTOR)
    with web_archive.uow() as uow:
        document = uow.session.get(Document, document_id)
        assert "19800101" not in document.pages[0].ocr_text
        assert lookup_hash(ID, uow.keyring) in document.pii_hashes
        assert uow.session.scalars(select(SearchOutbox.document_id)).all()  # re-indexed from the outbox
