"""Bad numbers and bodies are the client's error (400 with a code and the field), never a server error:
query arguments that str.isdigit() accepts but int() refuses ("²") or that no database stores, periods
too long for the date arithmetic, and JSON bodies that are not an object."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from archive_fixtures import OPERATOR, PASSWORD
from flask import Flask
from flask.testing import FlaskClient

from archive.account_review import services as account_review
from archive.bootstrap import Archive
from archive.errors import ValidationError
from archive.services import inbox, users
from retention.services import appraisal, schedules

HUGE = "9" * 30


@pytest.fixture
def as_user(app: Flask, web_archive: Archive, login_as: Callable[..., None]) -> Callable[[str], FlaskClient]:
    for username, role in (("records", "records_manager"), ("secadmin", "security_admin"),
                           ("appraiser", "appraiser")):
        users.create_user(web_archive.uow(), actor=OPERATOR, username=username, password=PASSWORD, role=role,
                          department="YX", clearance="secret")

    def client_for(username: str) -> FlaskClient:
        client = app.test_client()
        login_as(client, username)
        return client

    return client_for


def unread_entry(archive: Archive):  # noqa: ANN201
    """staff, with one unread inbox entry."""
    staff = users.resolve_actor(archive.uow(), username="staff")
    with archive.uow() as uow:
        inbox.notify(uow, [staff.user_id], "borrow.rejected", link="/borrow", number="JY-1")
        uow.commit()
    return staff


def refused(answer, field: str, code: str = "not_a_number") -> bool:  # noqa: ANN001
    error = answer.get_json()["error"]
    return answer.status_code == 400 and error["code"] == code and error["field"] == field


@pytest.mark.parametrize("value", ["²", HUGE, "-1"])
def test_a_query_number_that_is_none_is_a_400_naming_it(as_user: Callable[[str], FlaskClient], value: str) -> None:
    staff, clerk, secadmin = as_user("staff"), as_user("clerk"), as_user("secadmin")
    assert refused(staff.get(f"/api/v1/dossiers?dossier={value}"), "dossier")
    assert staff.get(f"/dossiers/?dossier={value}&lang=en").status_code == 400
    assert clerk.get(f"/capture/?customer_id={value}&lang=en").status_code == 400
    assert refused(secadmin.get(f"/api/v1/account-review/inactive?days={value}"), "days")
    assert refused(secadmin.get(f"/api/v1/account-review/changes?days={value}"), "days")


def test_the_account_review_days_are_checked_by_the_service_and_shown_on_the_form(
        as_user: Callable[[str], FlaskClient], web_archive: Archive) -> None:
    with pytest.raises(ValidationError) as raised:
        account_review.start_review(web_archive.uow(), actor=OPERATOR, inactive_days=3651)
    assert raised.value.code == "days_out_of_range" and raised.value.field == "days"
    secadmin = as_user("secadmin")
    assert refused(secadmin.get("/api/v1/account-review/inactive?days=4000"), "days", "days_out_of_range")
    assert refused(secadmin.post("/api/v1/account-review/reviews", json={"days": 10**9}), "days", "days_out_of_range")
    page = secadmin.get("/account-review/?days=4000&lang=en")
    assert page.status_code == 400 and "The number of days must be from 1 to 3650." in page.get_data(as_text=True)
    started = secadmin.post("/account-review/?lang=en", data={"days": "²"}, follow_redirects=True)
    assert "Days must be a whole number." in started.get_data(as_text=True)
    assert account_review.list_reviews(web_archive.uow(), actor=secadmin_actor(web_archive)) == []


def secadmin_actor(archive: Archive):  # noqa: ANN201
    return users.resolve_actor(archive.uow(), username="secadmin")


def test_a_period_longer_than_the_services_allow_is_refused(as_user: Callable[[str], FlaskClient],
                                                            web_archive: Archive) -> None:
    records = as_user("records")
    change = {"trigger": "filing_date", "action": "review", "confirm": True}
    assert refused(records.put("/api/v1/retention/schedules/supply_contract", json=change | {"years": 10**6}),
                   "years", "period_too_long")
    assert refused(records.put("/api/v1/retention/schedules/supply_contract", json=change | {"months": 2**40}),
                   "months", "period_too_long")
    form = records.post("/retention/schedules/supply_contract?lang=en", follow_redirects=True,
                        data={"years": "1000000", "trigger": "filing_date", "action": "review"})
    assert "Years must be at most 100." in form.get_data(as_text=True)
    vote = as_user("appraiser").post("/api/v1/retention/batches/1/votes", json={
        "archive_code": "X", "decision": "extend", "years": 10**6, "reason": "还要用"})
    assert refused(vote, "years", "period_too_long")
    with pytest.raises(ValidationError) as raised:
        appraisal.appraise_record(web_archive.uow(), actor=OPERATOR, batch_id=1, archive_code="X",
                                  decision="extend", extend_years=101, reason="还要用")
    assert raised.value.params == {"high": 100}
    with pytest.raises(ValidationError):
        schedules.set_schedule(web_archive.uow(), actor=OPERATOR, document_type="supply_contract", years=None,
                               months=1201, trigger="filing_date", action="review")


@pytest.mark.parametrize("body", [[], 0, "", ["AR-1"]])
def test_a_json_body_that_is_no_object_is_a_400(as_user: Callable[[str], FlaskClient], web_archive: Archive,
                                                 body: object) -> None:
    staff = as_user("staff")
    staff_actor = unread_entry(web_archive)
    assert staff.post("/api/v1/inbox/read", json=body).status_code == 400
    assert inbox.unread_count(web_archive.uow(), actor=staff_actor) == 1
    assert as_user("clerk").post("/api/v1/documents/filing", json=body).status_code == 400


def test_inbox_ids_are_all_only_when_absent(as_user: Callable[[str], FlaskClient], web_archive: Archive) -> None:
    staff = as_user("staff")
    unread_entry(web_archive)
    assert staff.post("/api/v1/inbox/read", json={"ids": None}).status_code == 400
    assert staff.post("/api/v1/inbox/read", json={"ids": []}).get_json() == {"unread": 1}
    assert staff.post("/api/v1/inbox/read", json={}).get_json() == {"unread": 0}
