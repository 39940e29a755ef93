"""The reference-data administration page: the system administrator adds and edits, every change is
audited with before and after, others are refused, and the checklist lives in its table (0017)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import inspect, select

from archive.bootstrap import Archive
from archive.models import AuditEvent, Department, DocumentType, RequiredDocument
from archive.services.reference import required_document_types


def changes(archive: Archive) -> list[AuditEvent]:
    with archive.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == "reference.changed")
                                    .order_by(AuditEvent.id)))


def test_the_system_administrator_sees_every_kind_of_reference_data(client: FlaskClient, login_as) -> None:
    login_as(client, "admin")
    page = client.get("/admin/reference").get_data(as_text=True)
    for shown in ("supply_contract", "confidential", "D30", "YX", 'name="document_types"'):
        assert shown in page


def test_adding_and_renaming_a_department_is_audited_with_before_and_after(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "admin")
    assert client.post("/admin/reference/department", data={"code": "JL", "name": "计量部"}).status_code == 302
    assert client.post("/admin/reference/department", data={"code": "JL", "name": "计量中心"}).status_code == 302
    with web_archive.session_factory() as session:
        assert session.scalar(select(Department.name).where(Department.code == "JL")) == "计量中心"
    added, renamed = changes(web_archive)[-2:]
    assert added.detail["before"] is None and added.detail["after"]["name"] == "计量部"
    assert renamed.detail["before"]["name"] == "计量部" and renamed.detail["after"]["name"] == "计量中心"


def test_editing_a_document_type_is_audited_and_a_bad_minimum_changes_nothing(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "admin")
    fields = {"code": "guarantee", "name_zh": "担保合同", "name_en": "Guarantee", "category": "HT",
              "retention_code": "30y", "default_classification": "confidential"}
    assert client.post("/admin/reference/document_type", data=fields).status_code == 302
    event = changes(web_archive)[-1]
    assert event.detail["before"]["name_zh"] == "担保协议" and event.detail["after"]["name_zh"] == "担保合同"
    client.post("/admin/reference/document_type",
                data={**fields, "default_classification": "internal", "minimum_classification": "secret"})
    with web_archive.session_factory() as session:
        assert session.get(DocumentType, "guarantee").default_classification == "confidential"
    assert len(changes(web_archive)) == 1


def test_a_classification_level_is_only_renamed_and_the_rename_is_audited(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "admin")
    client.post("/admin/reference/classification_level",
                data={"code": "internal", "name_zh": "内部资料", "name_en": "Internal use", "rank": "9"})
    event = changes(web_archive)[-1]
    assert event.detail["before"] == {"code": "internal", "rank": 1, "name_zh": "内部", "name_en": "Internal"}
    assert event.detail["after"]["rank"] == 1 and event.detail["after"]["name_zh"] == "内部资料"


def test_a_new_retention_period_is_added_and_audited(client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "admin")
    client.post("/admin/reference/retention_period",
                data={"code": "5y", "years": "5", "archive_code": "D5", "name_zh": "定期5年", "name_en": "5 years"})
    event = changes(web_archive)[-1]
    assert event.target_id == "5y" and event.detail["before"] is None and event.detail["after"]["years"] == 5


def test_the_checklist_is_edited_and_the_customer_page_reads_it(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "admin")
    client.post("/admin/reference/checklist",
                data={"customer_kind": "individual", "document_types": ["supply_contract", "guarantee"]})
    event = changes(web_archive)[-1]
    assert event.detail["before"] == {"document_types": ["application_form", "id_copy", "supply_contract"]}
    assert event.detail["after"] == {"document_types": ["guarantee", "supply_contract"]}
    with web_archive.session_factory() as session:
        assert required_document_types(session, "individual") == ["guarantee", "supply_contract"]


def test_staff_and_the_auditor_cannot_change_reference_data(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    for username in ("staff", "auditor"):
        login_as(client, username)
        assert client.get("/admin/reference").status_code == 403
        assert client.post("/admin/reference/department", data={"code": "ZZ", "name": "x"}).status_code == 403
        client.post("/logout")
    with web_archive.session_factory() as session:
        assert session.scalar(select(Department).where(Department.code == "ZZ")) is None
    assert changes(web_archive) == []


def test_migration_0014_goes_down_and_up_and_seeds_the_checklist(archive: Archive) -> None:
    """On both engines (the archive fixture runs on SQLite and on the suite's PostgreSQL)."""
    from archive_fixtures import downgrade

    downgrade(archive, "0013")
    with archive.engine.connect() as connection:
        assert "required_document" not in inspect(connection).get_table_names()
    archive.migrate()
    with archive.session_factory() as session:
        seeded = {(r.customer_kind, r.document_type_code) for r in session.scalars(select(RequiredDocument))}
    assert ("organisation", "business_licence") in seeded and ("individual", "id_copy") in seeded
