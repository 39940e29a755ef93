"""Item 2 (ASVS 8.3.1, 11.1.4, 7.1.1): exact ID-number and phone lookups are no oracle."""

from __future__ import annotations

from security_support import audit_events

from archive.identity import resident_id_check_digit


def candidate(birth: str) -> str:
    first = f"110105{birth}002"
    return first + resident_id_check_digit(first)


def test_the_birth_date_attack_script_gets_refusals_the_auditor_can_follow(client, login_as, web_archive) -> None:
    """Staff see 110105********002X and try birth dates with valid check digits as exact searches."""
    login_as(client, "staff")
    tried = [candidate(f"1949{m:02d}{d:02d}") for m, d in ((12, 29), (12, 30), (12, 31), (12, 31))]
    answers = [client.get(f"/api/v1/search?q={value}") for value in tried]
    assert {a.status_code for a in answers} == {403}
    assert "无权按身份证号或手机号查询" in answers[0].get_json()["error"]["message"]
    refused = audit_events(web_archive, event_type="documents.identifier_lookup_refused", actor_name="staff")
    assert len(refused) == 4
    hashes = [e.detail["hashes"][0] for e in reversed(refused)]
    assert hashes[2] == hashes[3] and len(set(hashes)) == 3  # the same number tried twice shows as such
    assert all(value not in str(e.detail) for e in refused for value in tried)
    assert not audit_events(web_archive, event_type="documents.searched", actor_name="staff")


def test_a_phone_lookup_is_refused_to_staff_too(client, login_as, web_archive) -> None:
    login_as(client, "staff")
    assert client.get("/api/v1/search?q=13912345678").status_code == 403
    assert audit_events(web_archive, event_type="documents.identifier_lookup_refused", actor_name="staff")


def test_a_clerk_may_look_up_and_each_lookup_is_audited_as_a_keyed_hash(client, login_as, web_archive) -> None:
    login_as(client, "clerk")
    value = candidate("19491231")
    assert client.get(f"/api/v1/search?q={value}").status_code == 200
    [event] = audit_events(web_archive, event_type="documents.identifier_lookup", actor_name="clerk")
    assert event.detail["kinds"] == ["id_number"] and value not in str(event.detail)
    assert len(event.detail["hashes"][0]) == 32


def test_lookups_are_rate_limited_per_user(client, login_as, web_archive) -> None:
    web_archive.settings = web_archive.settings.with_overrides(lookup_rate_per_hour=3)
    login_as(client, "clerk")
    codes = [client.get(f"/api/v1/search?q={candidate(f'194912{d:02d}')}").status_code for d in range(1, 6)]
    assert codes == [200, 200, 200, 429, 429]
    assert client.get("/api/v1/search?q=合同").status_code == 200  # words are not limited
    assert len(audit_events(web_archive, event_type="security.rate_limited", actor_name="clerk")) == 2
