"""Registration with a checked key, metadata edits with before and after, the views by work order and
by dossier, and superseding a wrong identity key (seed 004): services on the real archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from archive_fixtures import audit_rows, captured, downgrade
from sqlalchemy import inspect, select

from archive.bootstrap import Archive
from archive.errors import AccessDenied, ValidationError
from archive.models import Customer, Document
from archive.security.limits import RateLimitedError
from archive.services import browsing, customers, documents, metadata

WRONG = "11010519491231002X"
RIGHT = "110105198001010016"
USCC = "91350100M000100Y43"


def test_the_check_tells_a_bad_check_digit_before_any_lookup(archive: Archive, people) -> None:
    check = customers.check_identifier(archive.uow(), actor=people["clerk"], id_type="resident_id",
                                       identifier="110105194912310021")
    assert not check.valid and check.code == "resident_id_check"
    assert audit_rows(archive, "documents.identifier_lookup") == []  # arithmetic only: nothing looked up


def test_the_check_tells_a_registered_key_through_the_audited_lookup(archive: Archive, people) -> None:
    new = customers.check_identifier(archive.uow(), actor=people["clerk"], id_type="uscc", identifier=USCC.lower())
    assert new.valid and not new.registered and new.normalised == USCC
    customer_id = customers.register_customer(archive.uow(), actor=people["clerk"], id_type="uscc",
                                              identifier=USCC, name="某某有限公司", phone="13800138000")
    again = customers.check_identifier(archive.uow(), actor=people["clerk"], id_type="uscc", identifier=USCC)
    assert again.registered and again.customer_id == customer_id
    assert len(audit_rows(archive, "documents.identifier_lookup")) == 2
    assert [e.target_id for e in audit_rows(archive, "customer.registered")] == [str(customer_id)]


def test_the_check_is_refused_beyond_the_lookup_guard(archive: Archive, people) -> None:
    archive.settings = archive.settings.with_overrides(lookup_rate_per_hour=1)
    customers.check_identifier(archive.uow(), actor=people["clerk"], id_type="uscc", identifier=USCC)
    with pytest.raises(RateLimitedError):
        customers.check_identifier(archive.uow(), actor=people["clerk"], id_type="uscc", identifier=USCC)
    assert len(audit_rows(archive, "security.rate_limited")) == 1


def test_staff_may_neither_check_nor_register(archive: Archive, people) -> None:
    with pytest.raises(AccessDenied):
        customers.check_identifier(archive.uow(), actor=people["staff"], id_type="uscc", identifier=USCC)
    with pytest.raises(AccessDenied):
        customers.register_customer(archive.uow(), actor=people["staff"], id_type="uscc", identifier=USCC,
                                    name="某某有限公司")
    with archive.session_factory() as session:
        assert session.scalar(select(Customer.id)) is None
    assert len(audit_rows(archive, "access.denied")) == 2


def test_registration_refuses_by_field(archive: Archive, people) -> None:
    clerk = people["clerk"]
    with pytest.raises(ValidationError) as bad_kind:  # a credit code is not a resident ID number
        customers.register_customer(archive.uow(), actor=clerk, id_type="resident_id", identifier=USCC, name="x")
    assert (bad_kind.value.code, bad_kind.value.field) == ("resident_id_format", "identifier")
    with pytest.raises(ValidationError) as no_name:
        customers.register_customer(archive.uow(), actor=clerk, id_type="uscc", identifier=USCC, name=" ")
    assert no_name.value.field == "name"
    with pytest.raises(ValidationError) as phone:
        customers.register_customer(archive.uow(), actor=clerk, id_type="uscc", identifier=USCC, name="x",
                                    phone="12345")
    assert phone.value.field == "phone"
    customers.register_customer(archive.uow(), actor=clerk, id_type="uscc", identifier=USCC, name="x")
    with pytest.raises(ValidationError) as twice:
        customers.register_customer(archive.uow(), actor=clerk, id_type="uscc", identifier=USCC, name="y")
    assert (twice.value.code, twice.value.field) == ("customer_already_registered", "identifier")


def test_a_clerk_edits_metadata_with_before_and_after_and_the_history_shows_it(
        archive: Archive, people, tmp_path: Path) -> None:
    doc = captured(archive, people["clerk"], tmp_path, "contract", level="internal")
    changed = metadata.edit_document_metadata(archive.uow(), actor=people["clerk"], document_id=doc.id,
                                              edit=metadata.MetadataEdit(
                                                  title=f"合同 {WRONG}", box="B-07", work_order="GD2024001",
                                                  business_step="高压新装", original_or_copy="original",
                                                  dossier="高压新装 GD2024001", document_date="2024-03-01"))
    assert set(changed) == {"title", "box", "work_order", "business_step", "original_or_copy", "dossier",
                            "document_date"}
    [event] = audit_rows(archive, "document.metadata_changed")
    assert event.detail["before"]["box"] == "" and event.detail["after"]["box"] == "B-07"
    assert WRONG not in str(event.detail)  # PII redacted before it is recorded
    view = documents.get_document(archive.uow(), actor=people["staff"], document_id=doc.id)
    assert (view.work_order, view.business_step, view.box, view.original_or_copy) == (
        "GD2024001", "高压新装", "B-07", "original")
    [edit] = view.edits
    assert edit.actor == "clerk" and edit.changes["box"] == ("", "B-07")
    assert WRONG not in view.title and WRONG not in str(edit.changes)


def test_staff_and_another_department_cannot_edit_and_nothing_changes(
        archive: Archive, people, tmp_path: Path) -> None:
    doc = captured(archive, people["clerk"], tmp_path, "contract", level="internal")
    for who in ("staff", "staff_kf"):
        with pytest.raises(AccessDenied):
            metadata.edit_document_metadata(archive.uow(), actor=people[who], document_id=doc.id,
                                            edit=metadata.MetadataEdit(title="changed"))
    with archive.session_factory() as session:
        assert session.get(Document, doc.id).title != "changed"
    assert audit_rows(archive, "document.metadata_changed") == []
    assert len(audit_rows(archive, "access.denied")) == 2


def test_an_edit_is_refused_by_field(archive: Archive, people, tmp_path: Path) -> None:
    doc = captured(archive, people["clerk"], tmp_path, "contract", level="internal")
    for edit, field in ((metadata.MetadataEdit(title=""), "title"),
                        (metadata.MetadataEdit(document_type="nonsense"), "document_type"),
                        (metadata.MetadataEdit(original_or_copy="both"), "original_or_copy"),
                        (metadata.MetadataEdit(document_date="2024-13-01"), "document_date")):
        with pytest.raises(ValidationError) as error:
            metadata.edit_document_metadata(archive.uow(), actor=people["clerk"], document_id=doc.id, edit=edit)
        assert error.value.field == field
    assert audit_rows(archive, "document.metadata_changed") == []


def test_a_type_changes_only_where_the_archive_code_stays_right(archive: Archive, people, tmp_path: Path) -> None:
    from archive.services import filing

    clerk = people["clerk"]
    doc = captured(archive, clerk, tmp_path, "contract")  # supply_contract: category HT, 30 years
    assert metadata.edit_document_metadata(archive.uow(), actor=clerk, document_id=doc.id,
                                           edit=metadata.MetadataEdit(document_type="guarantee")) == ["document_type"]
    with pytest.raises(ValidationError) as other:  # category YD: the archive code would lie
        metadata.edit_document_metadata(archive.uow(), actor=clerk, document_id=doc.id,
                                        edit=metadata.MetadataEdit(document_type="application_form"))
    assert other.value.code == "type_changes_archive_code"
    assert filing.file_documents(archive.uow(), actor=clerk, archive_codes=[doc.code]).filed == [doc.code]
    with pytest.raises(ValidationError) as filed:
        metadata.edit_document_metadata(archive.uow(), actor=clerk, document_id=doc.id,
                                        edit=metadata.MetadataEdit(document_type="supply_contract"))
    assert filed.value.code == "type_fixed_after_filing"
    metadata.edit_document_metadata(archive.uow(), actor=clerk, document_id=doc.id,  # the rest stays editable
                                    edit=metadata.MetadataEdit(shelf="A-1"))


def test_the_views_by_work_order_and_by_dossier_show_only_what_the_user_may_see(
        archive: Archive, people, tmp_path: Path) -> None:
    clerk = people["clerk"]
    public = captured(archive, clerk, tmp_path, "public", level="internal", dossier="增容 GD7")
    secret = captured(archive, clerk, tmp_path, "secret", level="confidential", dossier="增容 GD7")
    for doc in (public, secret):
        metadata.edit_document_metadata(archive.uow(), actor=clerk, document_id=doc.id,
                                        edit=metadata.MetadataEdit(work_order="GD7", business_step="增容"))
    [group] = browsing.documents_by_work_order(archive.uow(), actor=people["staff"])  # internal clearance
    assert (group.key, group.label, [d.id for d in group.documents]) == ("GD7", "增容", [public.id])
    [group] = browsing.documents_by_work_order(archive.uow(), actor=clerk, work_order="GD7")
    assert {d.id for d in group.documents} == {public.id, secret.id}
    assert browsing.documents_by_work_order(archive.uow(), actor=clerk, work_order="GD8") == []
    [dossier] = browsing.documents_by_dossier(archive.uow(), actor=people["staff"])
    assert dossier.key == "增容 GD7" and [d.id for d in dossier.documents] == [public.id]
    assert browsing.documents_by_work_order(archive.uow(), actor=people["staff_kf"]) == []
    assert browsing.documents_by_dossier(archive.uow(), actor=people["staff_kf"]) == []
    assert len(audit_rows(archive, "documents.browsed")) == 6


def test_superseding_a_wrong_key_moves_the_file_to_a_new_customer_and_marks_the_old_abnormal(
        archive: Archive, people, tmp_path: Path) -> None:
    clerk = people["clerk"]
    doc = captured(archive, clerk, tmp_path, "contract", customer=WRONG, dossier="客户档案")
    with archive.session_factory() as session:
        old_id = session.get(Document, doc.id).customer_id
    new_id = customers.supersede_customer(archive.uow(), actor=clerk, customer_id=old_id, id_type="resident_id",
                                          identifier=RIGHT, reason="证件号码采集有误")
    with archive.session_factory() as session:
        old, new = session.get(Customer, old_id), session.get(Customer, new_id)
        assert (old.status, old.superseded_by_id, new.status, new.name) == ("abnormal", new_id, "normal", old.name)
        assert session.get(Document, doc.id).customer_id == new_id
        assert new.identity_hash in session.get(Document, doc.id).pii_hashes
    [event] = audit_rows(archive, "customer.superseded")
    assert event.target_id == str(old_id) and event.detail["superseded_by"] == new_id
    assert event.detail["documents"] == [doc.id]
    old_view = customers.get_customer(archive.uow(), actor=clerk, customer_id=old_id)
    new_view = customers.get_customer(archive.uow(), actor=clerk, customer_id=new_id)
    assert old_view.superseded_by.id == new_id and [c.id for c in new_view.supersedes] == [old_id]
    assert [d.id for d in new_view.dossiers[0].documents] == [doc.id]
    with pytest.raises(ValidationError) as twice:
        customers.supersede_customer(archive.uow(), actor=clerk, customer_id=old_id, id_type="uscc",
                                     identifier=USCC, reason="again")
    assert twice.value.code == "customer_already_superseded"
    other = customers.register_customer(archive.uow(), actor=clerk, id_type="uscc", identifier=USCC, name="x")
    lookups = len(audit_rows(archive, "documents.identifier_lookup"))
    with pytest.raises(ValidationError) as taken:  # the corrected key is someone else's: told as a lookup
        customers.supersede_customer(archive.uow(), actor=clerk, customer_id=other, id_type="resident_id",
                                     identifier=RIGHT, reason="wrong")
    assert taken.value.code == "customer_already_registered"
    assert len(audit_rows(archive, "documents.identifier_lookup")) == lookups + 1
    with pytest.raises(ValidationError) as capture:  # the abnormal record takes no more documents
        captured(archive, clerk, tmp_path, "late", customer=WRONG)
    assert capture.value.code == "customer_superseded"


def test_staff_cannot_supersede_and_nothing_changes(archive: Archive, people, tmp_path: Path) -> None:
    doc = captured(archive, people["clerk"], tmp_path, "contract", customer=WRONG)
    with archive.session_factory() as session:
        old_id = session.get(Document, doc.id).customer_id
    with pytest.raises(AccessDenied):
        customers.supersede_customer(archive.uow(), actor=people["staff"], customer_id=old_id,
                                     id_type="resident_id", identifier=RIGHT, reason="wrong")
    with archive.session_factory() as session:
        assert session.get(Customer, old_id).status == "normal"
        assert len(session.scalars(select(Customer)).all()) == 1
    assert audit_rows(archive, "customer.superseded") == []


def test_the_capture_prefill_gives_the_full_key_only_to_who_may_see_it(
        archive: Archive, people, tmp_path: Path) -> None:
    doc = captured(archive, people["clerk"], tmp_path, "contract", customer=WRONG)
    with archive.session_factory() as session:
        customer_id = session.get(Document, doc.id).customer_id
    assert customers.capture_prefill(archive.uow(), actor=people["clerk"], customer_id=customer_id) == (WRONG, "张伟")
    assert customers.capture_prefill(archive.uow(), actor=people["staff"], customer_id=customer_id) == ("", "张伟")


def test_migration_0017_goes_down_and_up(archive: Archive, people, tmp_path: Path) -> None:
    """On both engines (the archive fixture runs on SQLite and on the suite's PostgreSQL)."""
    captured(archive, people["clerk"], tmp_path, "contract")
    downgrade(archive, "0016")
    with archive.engine.connect() as connection:
        assert "work_order" not in {c["name"] for c in inspect(connection).get_columns("document")}
        assert "superseded_by_id" not in {c["name"] for c in inspect(connection).get_columns("customer")}
    archive.migrate()
    with archive.engine.connect() as connection:
        assert "business_step" in {c["name"] for c in inspect(connection).get_columns("document")}
    with archive.session_factory() as session:
        assert session.scalar(select(Document.work_order)) is None


def test_a_customer_whose_records_are_on_hold_is_not_superseded(archive: Archive, people, tmp_path: Path) -> None:
    from archive_fixtures import PASSWORD

    from archive.actors import OPERATOR
    from archive.services import users
    from retention.services import holds

    users.create_user(archive.uow(), actor=OPERATOR, username="records", password=PASSWORD,
                      role="records_manager", department="YX", clearance="secret")
    manager = users.resolve_actor(archive.uow(), username="records", remote_addr="127.0.0.1")
    doc = captured(archive, people["clerk"], tmp_path, "contract", customer=WRONG)
    holds.place_legal_hold(archive.uow(), actor=manager, target=holds.HoldTarget("customer", WRONG),
                           hold_type="litigation", reason="(2026)京01民初123号")
    with archive.session_factory() as session:
        old_id = session.get(Document, doc.id).customer_id
    with pytest.raises(ValidationError) as held:  # moving the file would carry it out of the hold
        customers.supersede_customer(archive.uow(), actor=people["clerk"], customer_id=old_id,
                                     id_type="resident_id", identifier=RIGHT, reason="wrong")
    assert held.value.code == "customer_records_held"
    with archive.session_factory() as session:
        assert session.get(Customer, old_id).status == "normal"
