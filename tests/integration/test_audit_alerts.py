"""Anomaly alerts: each default rule fires on generated traffic and stays silent on normal traffic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from archive import audit
from archive.actors import Actor
from archive.capture.services import CaptureRequest, capture_document
from archive.compliance import alerts, services
from archive.compliance.events import event_audit_alert_acknowledged, event_audit_alert_raised
from archive.compliance.permissions import AUDITOR
from archive.compliance.tasks import ALERT_ACTOR
from archive.demo.samples import write_scan
from archive.errors import AccessDenied, ValidationError
from archive.identity import resident_id_check_digit
from archive.models import AuditEvent

MONDAY_10_LOCAL = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in UTC+8, a working day
ID_NUMBER = "11010519491231002" + resident_id_check_digit("11010519491231002")


def traffic(archive, actor: Actor, count: int, *, at: datetime = MONDAY_10_LOCAL, event_type: str = "document.viewed",
            outcome: str = "ok", first_document: int = 1, spacing: timedelta = timedelta(seconds=30)) -> None:
    with archive.session_factory() as session:
        for i in range(count):
            event = audit.record(session, actor, event_type, outcome=outcome, target_type="document",
                                 target_id=first_document + i)
            event.occurred_at = at + spacing * i  # before commit: the chain hashes this time
        session.commit()


def scan(archive, rules=None):
    return alerts.scan_alerts(archive.uow(), actor=ALERT_ACTOR, rules=rules or alerts.load_rules(None))


def rules_fired(found) -> list[str]:
    return sorted(alert.rule for alert in found)


@pytest.fixture
def staff(people) -> Actor:
    return people["staff"].at("10.0.0.5")


def test_normal_traffic_raises_no_alert(archive, staff, people):
    traffic(archive, staff, 20)
    traffic(archive, staff, 15, at=MONDAY_10_LOCAL + timedelta(hours=3), first_document=5)
    traffic(archive, people["clerk"].at("10.0.0.6"), 10)
    traffic(archive, staff, 2, event_type="access.denied", outcome="denied")
    assert scan(archive) == []
    assert services.verify_trail(archive.uow(), actor=AUDITOR, public_keys=[]).events_checked > 0


def test_mass_viewing_fires_above_the_roles_threshold_with_evidence(archive, staff, people):
    traffic(archive, staff, 51)
    traffic(archive, people["clerk"].at("10.0.0.6"), 51)  # a clerk's limit is 300
    [alert] = scan(archive)
    assert alert.rule == "mass_access" and alert.subject == "staff"
    assert alert.evidence["distinct_documents"] == 51 and alert.evidence["limit"] == 50
    assert alert.evidence["last_seq"] > alert.evidence["first_seq"]


def test_access_outside_working_hours_fires_once_per_user_and_day(archive, staff):
    traffic(archive, staff, 3, at=MONDAY_10_LOCAL + timedelta(hours=13, minutes=30))  # 23:30 local
    [alert] = scan(archive)
    assert alert.rule == "after_hours" and "2026-11-30" in alert.summary and len(alert.evidence["seqs"]) == 3


def test_weekend_access_counts_as_outside_working_hours(archive, staff):
    traffic(archive, staff, 1, at=MONDAY_10_LOCAL - timedelta(days=1))  # Sunday, 10:00 local
    assert rules_fired(scan(archive)) == ["after_hours"]


def test_repeated_denials_fire(archive, staff):
    traffic(archive, staff, 5, event_type="access.denied", outcome="denied")
    [alert] = scan(archive)
    assert alert.rule == "repeated_denials" and alert.evidence["denials"] == 5


def test_repeated_exact_id_lookups_fire_and_a_few_do_not(archive, staff):
    traffic(archive, staff, 9, event_type="documents.identifier_lookup")
    assert scan(archive) == []  # nine lookups in the hour: normal work
    traffic(archive, staff, 1, event_type="documents.identifier_lookup_refused", outcome="denied")
    [alert] = scan(archive)
    assert alert.rule == "repeated_lookups" and alert.evidence["lookups"] == 10


def test_any_access_to_a_secret_document_fires(archive, people, tmp_path: Path):
    scan_file = write_scan(tmp_path / "secret.png", ["机密文件"], format="PNG", dpi=100)
    result = capture_document(archive.uow(), actor=people["clerk"], request=CaptureRequest(
        path=scan_file, customer=ID_NUMBER, customer_name="张三", document_type="supply_contract",
        classification="confidential"))
    with archive.engine.begin() as connection:  # reclassified (no clerk here holds secret clearance)
        connection.execute(text("UPDATE document SET classification = 'secret' WHERE id = :id"),
                           {"id": result.document_id})
    scan(archive)  # the capture itself is no access
    traffic(archive, people["staff_secret"].at("10.0.0.7"), 1, first_document=result.document_id)
    [alert] = scan(archive)
    assert alert.rule == "secret_access" and alert.evidence["document_id"] == result.document_id


def test_an_account_used_from_a_new_address_fires(archive, staff):
    traffic(archive, staff, 2)
    assert scan(archive) == []
    traffic(archive, staff.at("172.16.0.9"), 1, at=MONDAY_10_LOCAL + timedelta(hours=1))
    [alert] = scan(archive)
    assert alert.rule == "new_address" and alert.evidence["address"] == "172.16.0.9"


def test_a_failed_audit_verification_fires(archive, staff):
    traffic(archive, staff, 3)
    with archive.engine.begin() as connection:
        if archive.engine.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
        connection.execute(text("UPDATE audit_event SET actor_name = 'x' WHERE seq = 3"))
    services.verify_trail(archive.uow(), actor=AUDITOR, public_keys=[])
    fired = scan(archive)
    assert "failed_verification" in rules_fired(fired)
    alert = next(a for a in fired if a.rule == "failed_verification")
    assert alert.evidence["first_problem_seq"] == 3 and "edited" in alert.summary


def test_a_rescan_raises_nothing_twice_and_each_alert_is_audited(archive, staff):
    traffic(archive, staff, 5, event_type="access.denied", outcome="denied")
    [alert] = scan(archive)
    traffic(archive, staff, 1, event_type="access.denied", outcome="denied")  # same user, same hour
    assert scan(archive) == []
    with archive.session_factory() as session:
        raised = session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_audit_alert_raised)).all()
    assert [(e.target_id, e.actor_name) for e in raised] == [(str(alert.id), "system:audit-alerts")]


def test_thresholds_come_from_the_rules_file_per_role(archive, staff, tmp_path: Path):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"mass_access": {"threshold": 5, "per_role": {"staff": 3}}}))
    traffic(archive, staff, 4)
    assert rules_fired(scan(archive, alerts.load_rules(path))) == ["mass_access"]
    path.write_text(json.dumps({"no_such_rule": {}}))
    with pytest.raises(ValidationError, match="unknown rule"):
        alerts.load_rules(path)


def test_an_auditor_acknowledges_an_alert_with_a_comment(archive, staff, people):
    traffic(archive, staff, 5, event_type="access.denied", outcome="denied")
    [alert] = scan(archive)
    with pytest.raises(ValidationError, match="comment"):
        alerts.acknowledge_alert(archive.uow(), actor=people["auditor"], alert_id=alert.id, comment="  ")
    done = alerts.acknowledge_alert(archive.uow(), actor=people["auditor"], alert_id=alert.id,
                                    comment="新员工误操作，已培训")
    assert done.acknowledged_by == "auditor" and done.comment == "新员工误操作，已培训"
    assert alerts.list_alerts(archive.uow(), actor=people["auditor"]) == []
    assert [a.id for a in alerts.list_alerts(archive.uow(), actor=people["auditor"], include_acknowledged=True)] == [
        alert.id]
    with archive.session_factory() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.event_type == event_audit_alert_acknowledged)).one()
    assert event.actor_name == "auditor" and event.detail["comment"] == "新员工误操作，已培训"
    with pytest.raises(ValidationError, match="already acknowledged"):
        alerts.acknowledge_alert(archive.uow(), actor=people["auditor"], alert_id=alert.id, comment="again")


def test_staff_may_neither_list_nor_acknowledge_alerts_nor_scan(archive, staff, people):
    traffic(archive, staff, 5, event_type="access.denied", outcome="denied")
    [alert] = scan(archive)
    with pytest.raises(AccessDenied):
        alerts.list_alerts(archive.uow(), actor=people["staff"])
    with pytest.raises(AccessDenied):
        alerts.acknowledge_alert(archive.uow(), actor=people["staff"], alert_id=alert.id, comment="hide it")
    with pytest.raises(AccessDenied):
        alerts.scan_alerts(archive.uow(), actor=people["auditor"], rules=alerts.load_rules(None))
    [still_open] = alerts.list_alerts(archive.uow(), actor=people["auditor"])
    assert still_open.acknowledged_at is None
    with archive.session_factory() as session:
        denials = session.scalars(select(AuditEvent.actor_name).where(AuditEvent.event_type == "access.denied",
                                                                      AuditEvent.actor_name != "staff")).all()
    assert denials == ["auditor"]


def test_the_periodic_scan_is_scheduled(archive, staff):
    traffic(archive, staff, 5, event_type="access.denied", outcome="denied")
    archive.jobs.call_local("scan_audit_alerts")
    assert len(alerts.list_alerts(archive.uow(), actor=AUDITOR)) == 1
    assert "scan_audit_alerts" in {task.__name__ for task in archive.jobs.huey._registry._periodic_tasks}
