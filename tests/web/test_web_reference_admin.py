"""The reference-data administration page: the system administrator adds and edits, every change is
audited with before and after, others are refused, and the checklist lives in its table (0017)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect, select

from archive.bootstrap import Archive
from archive.models import AuditEvent, Department, Document, DocumentType, RequiredDocument, User
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
    assert event.detail["before"] == {"code": "internal", "rank": 1, "name_zh": "内部", "name_en": "Internal",
                                     "active": True}
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


def test_a_deactivated_document_type_keeps_its_records_but_takes_no_new_ones(
        client: FlaskClient, login_as, web_archive: Archive, tmp_path) -> None:  # noqa: ANN001
    from archive_fixtures import captured

    from archive.errors import ValidationError
    from archive.services import users

    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    kept = captured(web_archive, clerk, tmp_path, "before", document_type="supply_contract")
    login_as(client, "admin")
    answer = client.post("/admin/reference/document_type/supply_contract/active", data={"active": "0"})
    assert answer.status_code == 302
    [change] = changes(web_archive)
    assert change.target_id == "supply_contract"
    assert change.detail["before"]["active"] is True and change.detail["after"]["active"] is False
    page = client.get("/admin/reference?lang=en").get_data(as_text=True)
    assert 'id="reactivate-document_type-supply_contract"' in page and "Not in use" in page
    with pytest.raises(ValidationError) as refused:
        captured(web_archive, clerk, tmp_path, "after", document_type="supply_contract")
    assert refused.value.code == "inactive_reference" and refused.value.field == "document_type"
    with web_archive.session_factory() as session:
        assert session.get(Document, kept.id).document_type == "supply_contract"  # the record keeps it
    client.post("/logout")
    login_as(client, "clerk")
    form = client.get("/capture/?lang=en").get_data(as_text=True)
    assert 'value="supply_contract"' not in form and 'value="application_form"' in form
    assert "供用电合同" in client.get(f"/documents/{kept.id}").get_data(as_text=True)  # still named
    client.post("/logout")
    login_as(client, "admin")
    client.post("/admin/reference/document_type/supply_contract/active", data={"active": "1"})
    assert captured(web_archive, clerk, tmp_path, "again", document_type="supply_contract").id


def test_a_deactivated_department_or_level_is_not_given_to_new_accounts(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "admin")
    client.post("/admin/reference/department/KF/active", data={"active": "0"})
    client.post("/admin/reference/classification_level/confidential/active", data={"active": "0"})
    refused = client.post("/admin/users?lang=en", data={"username": "wu", "display_name": "吴", "role": "staff",
                                                        "department": "KF", "clearance": "internal"})
    assert refused.status_code == 400
    form = client.get("/admin/users").get_data(as_text=True)
    assert '<option value="KF">' not in form and '<option value="YX">' in form
    created = form.split('id="clearance"')[1].split("</select>")[0]  # the create form's choices
    assert '<option value="confidential">' not in created and '<option value="internal">' in created
    kinds = {(e.target_type, e.detail["after"]["active"]) for e in changes(web_archive)}
    assert kinds == {("department", False), ("classification_level", False)}


def test_only_the_system_administrator_deactivates_reference_data(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "staff")
    assert client.post("/admin/reference/department/KF/active", data={"active": "0"}).status_code == 403
    with web_archive.session_factory() as session:
        assert session.scalar(select(Department).where(Department.code == "KF")).active is True
    assert changes(web_archive) == []


def test_moving_a_user_to_another_department_is_audited_with_before_and_after(
        client: FlaskClient, login_as, web_archive: Archive) -> None:
    login_as(client, "admin")
    with web_archive.session_factory() as session:
        staff = session.scalar(select(User).where(User.username == "staff"))
        staff_id = staff.id
    assert client.post(f"/admin/users/{staff_id}/department", data={"department": "KF"}).status_code == 302
    with web_archive.session_factory() as session:
        assert session.get(User, staff_id).department.code == "KF"
        [moved] = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "user.department_changed"))
        assert moved.detail["before"] == "YX" and moved.detail["after"] == "KF" and moved.actor_name == "admin"
    client.post(f"/admin/users/{staff_id}/department", data={"department": ""})  # staff belong to one
    client.post("/admin/reference/department/YX/active", data={"active": "0"})
    page = client.post(f"/admin/users/{staff_id}/department?lang=en", data={"department": "YX"},
                       follow_redirects=True).get_data(as_text=True)
    assert "no longer in use" in page
    with web_archive.session_factory() as session:
        assert session.get(User, staff_id).department.code == "KF"


def test_migration_0018_goes_down_and_up_and_keeps_every_row_active(archive: Archive) -> None:
    """On both engines (the archive fixture runs on SQLite and on the suite's PostgreSQL)."""
    from archive_fixtures import downgrade

    downgrade(archive, "0017")
    with archive.engine.connect() as connection:
        assert "active" not in {c["name"] for c in inspect(connection).get_columns("document_type")}
    archive.migrate()
    with archive.session_factory() as session:
        assert all(t.active for t in session.scalars(select(DocumentType)))
        assert all(d.active for d in session.scalars(select(Department)))


def test_a_deactivated_type_or_level_is_not_taken_by_a_metadata_edit_or_a_classification_request(
        web_archive: Archive, tmp_path) -> None:  # noqa: ANN001
    from archive_fixtures import captured

    from archive.errors import ValidationError
    from archive.services import classification, metadata, reference, users

    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    admin = users.resolve_actor(web_archive.uow(), username="admin")
    document = captured(web_archive, clerk, tmp_path, "kept", document_type="supply_contract")
    reference.set_reference_active(web_archive.uow(), actor=admin, kind="document_type", code="application_form",
                                   active=False)
    reference.set_reference_active(web_archive.uow(), actor=admin, kind="classification_level", code="confidential",
                                   active=False)
    with pytest.raises(ValidationError) as edit:
        metadata.edit_document_metadata(web_archive.uow(), actor=clerk, document_id=document.id,
                                        edit=metadata.MetadataEdit(document_type="application_form"))
    with pytest.raises(ValidationError) as change:
        classification.request_change(web_archive.uow(), actor=clerk, target_type="document", target_id=document.id,
                                      level="confidential", reason="核对")
    assert (edit.value.code, edit.value.field) == ("inactive_reference", "document_type")
    assert (change.value.code, change.value.field) == ("inactive_reference", "classification")
