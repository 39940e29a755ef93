"""The auditor's review desk: filters, keyset pages, a document's trail, statistics, exports, status."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from archive import audit
from archive.actors import Actor
from archive.bootstrap import Archive
from archive.compliance import services
from archive.compliance.permissions import AUDITOR, CHECKPOINTER
from archive.models import AuditEvent

ID_NUMBER = "110105194912310029"


def record(archive: Archive, count: int, *, user: str = "zhang", event_type: str = "document.viewed",
           target_id: object = 7, address: str = "10.0.0.5", **detail: object) -> None:
    actor = Actor(user_id=None, username=user, role="staff", remote_addr=address)
    with archive.session_factory() as session:
        for _ in range(count):
            audit.record(session, actor, event_type, target_type="document", target_id=target_id, **detail)
        session.commit()


def desk_views(archive: Archive) -> list[AuditEvent]:
    with archive.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.event_type == "audit.viewed")))


def body(html: str) -> str:
    return html.split("<tbody>", 1)[1]


def test_the_auditor_filters_the_trail_and_the_reading_is_audited(client: FlaskClient, login_as, web_archive):
    record(web_archive, 2, user="zhang", address="10.0.0.5")
    record(web_archive, 1, user="li", address="10.9.9.9", event_type="document.downloaded", target_id=8)
    login_as(client, "auditor")
    html = client.get("/audit-desk/?lang=en").get_data(as_text=True)
    assert "Audit review desk" in html and "zhang" in html and "li" in html
    filtered = body(client.get("/audit-desk/?user=li&event_type=document.downloaded&address=10.9.9.9&outcome=ok")
                    .get_data(as_text=True))
    assert "document.downloaded" in filtered and "zhang" not in filtered
    viewed = desk_views(web_archive)[-1]
    assert viewed.actor_name == "auditor" and viewed.detail["filter_user"] == "li"


def test_the_desk_speaks_chinese_by_default(client: FlaskClient, login_as):
    login_as(client, "auditor")
    html = client.get("/audit-desk/").get_data(as_text=True)
    assert "审计复核台" in html and "审计轨迹完整性" in html


def test_pages_go_back_in_time_by_keyset(client: FlaskClient, login_as, web_archive):
    record(web_archive, 60, user="zhang")
    login_as(client, "auditor")
    first = client.get("/audit-desk/?user=zhang").get_data(as_text=True)
    assert first.count("<tr class=\"outcome-ok\">") == 50 and "before=" in first
    with web_archive.session_factory() as session:
        seqs = sorted(session.scalars(select(AuditEvent.seq).where(AuditEvent.actor_name == "zhang")))
    older = client.get(f"/audit-desk/?user=zhang&before={seqs[10]}").get_data(as_text=True)
    assert older.count("<tr class=\"outcome-ok\">") == 10 and "before=" not in older.split("</table>")[1]


def test_a_documents_trail_shows_only_its_events(client: FlaskClient, login_as, web_archive):
    record(web_archive, 2, target_id=7)
    record(web_archive, 3, target_id=9, user="wang")
    login_as(client, "auditor")
    html = client.get("/audit-desk/documents/9?lang=en").get_data(as_text=True)
    assert "Trail of document 9" in html
    assert body(html).count("document:9") == 3 and "document:7" not in body(html)


def test_the_customer_and_archive_code_filters_narrow_to_their_documents(client: FlaskClient, login_as, web_archive):
    record(web_archive, 2, target_id=7)
    login_as(client, "auditor")
    html = body(client.get("/audit-desk/?archive_code=NO-SUCH-CODE").get_data(as_text=True))
    assert "document:7" not in html
    html = body(client.get("/audit-desk/?customer=999999").get_data(as_text=True))
    assert "document:7" not in html


def test_id_numbers_in_details_are_masked(client: FlaskClient, login_as, web_archive):
    record(web_archive, 1, query=f"身份证 {ID_NUMBER}")
    login_as(client, "auditor")
    html = client.get("/audit-desk/").get_data(as_text=True)
    assert ID_NUMBER not in html and "110105********0029" in html


def test_statistics_per_user_with_a_server_side_svg_chart(client: FlaskClient, login_as, web_archive):
    record(web_archive, 3, user="zhang", target_id=1)
    record(web_archive, 1, user="zhang", target_id=2, event_type="document.downloaded")
    login_as(client, "auditor")
    html = client.get("/audit-desk/statistics?lang=en").get_data(as_text=True)
    row = next(line for line in html.splitlines() if ">zhang<" in line)
    assert "<td>4</td><td>1</td><td>1</td><td>0</td>" in row  # events, distinct documents viewed, downloads
    chart = client.get("/audit-desk/statistics/chart.svg")
    assert chart.mimetype == "image/svg+xml" and b"<svg" in chart.data and b"zhang" in chart.data
    assert b"<script" not in chart.data


def test_the_trail_exports_as_csv_and_the_export_is_audited(client: FlaskClient, login_as, web_archive):
    record(web_archive, 2)
    login_as(client, "auditor")
    response = client.get("/audit-desk/export?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.decode("utf-8-sig").startswith("seq,id,occurred_at")
    with web_archive.session_factory() as session:
        exported = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "audit.exported")).one()
    assert exported.actor_name == "auditor" and exported.detail["format"] == "csv"
    assert client.get("/audit-desk/export?format=pdf").status_code == 400


def test_the_status_says_when_the_trail_was_last_verified_and_signed(client: FlaskClient, login_as, web_archive):
    services.sign_checkpoint(web_archive.uow(), actor=CHECKPOINTER, signer=services.signer_for(web_archive.settings),
                             interval_minutes=15)
    services.verify_trail(web_archive.uow(), actor=AUDITOR, public_keys=[services.public_key_for(web_archive.settings)])
    login_as(client, "auditor")
    html = client.get("/audit-desk/?lang=en").get_data(as_text=True)
    assert "every event fits its chain and signature" in html and "Last checkpoint 1 signed" in html


def test_staff_may_not_open_the_desk_and_the_denial_is_audited(client: FlaskClient, login_as, web_archive):
    login_as(client, "staff")
    for path in ("/audit-desk/", "/audit-desk/statistics", "/audit-desk/statistics/chart.svg",
                 "/audit-desk/export?format=csv", "/audit-desk/documents/1"):
        assert client.get(path).status_code == 403, path
    with web_archive.session_factory() as session:
        denials = session.scalars(select(AuditEvent).where(AuditEvent.event_type == "access.denied")).all()
    assert len(denials) == 5 and {d.actor_name for d in denials} == {"staff"}
    assert not desk_views(web_archive)


def test_alerts_show_with_evidence_and_are_acknowledged_with_a_comment(client: FlaskClient, login_as, web_archive):
    from archive.compliance import alerts
    from archive.compliance.tasks import ALERT_ACTOR

    record(web_archive, 1, user="zhang", event_type="document.viewed", target_id=99, address="10.0.0.5")
    rules = alerts.load_rules(None)
    rules["mass_access"]["threshold"] = 0
    rules["mass_access"]["per_role"] = {}
    [alert] = [a for a in alerts.scan_alerts(web_archive.uow(), actor=ALERT_ACTOR, rules=rules)
               if a.rule == "mass_access"]
    login_as(client, "auditor")
    html = client.get("/audit-desk/alerts?lang=en").get_data(as_text=True)
    assert "mass_access" in html and "distinct_documents=1" in html
    assert "Anomaly alerts</a> <strong class=\"alert-count\">" in client.get("/audit-desk/?lang=en").get_data(as_text=True)
    refused = client.post(f"/audit-desk/alerts/{alert.id}/acknowledge", data={"comment": ""}, follow_redirects=True)
    assert "A comment is required." in refused.get_data(as_text=True)
    done = client.post(f"/audit-desk/alerts/{alert.id}/acknowledge", data={"comment": "checked with zhang"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Alert acknowledged." in done and "mass_access" not in done.split("<tbody>")[1]
    everything = client.get("/audit-desk/alerts?all=1").get_data(as_text=True)
    assert "checked with zhang" in everything


def test_staff_may_not_acknowledge_an_alert(client: FlaskClient, login_as):
    login_as(client, "staff")
    assert client.get("/audit-desk/alerts").status_code == 403
    assert client.post("/audit-desk/alerts/1/acknowledge", data={"comment": "x"}).status_code == 403
