"""Bearer tokens on /api/v1: the token's user acts, scopes limit writes, revoked tokens are 401, cookie
sessions keep CSRF."""

from __future__ import annotations

from sqlalchemy import select

from archive.api_tokens import services
from archive.models import AuditEvent
from archive.services import users


def _token(web_archive, username: str, scope: str) -> tuple[int, str]:  # noqa: ANN001
    actor = users.resolve_actor(web_archive.uow(), username=username)
    created = services.create_api_token(web_archive.uow(), actor=actor, name="t", scope=scope, days=7)
    return created.token.id, created.secret


def test_a_bearer_token_acts_as_its_user_and_its_id_is_in_the_audit(web_archive, make_app) -> None:  # noqa: ANN001
    client = make_app({"TESTING": True}).test_client()  # CSRF on
    token_id, secret = _token(web_archive, "clerk", "read")

    response = client.get("/api/v1/search?q=合同", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200, response.get_data(as_text=True)
    with web_archive.uow() as uow:
        details = [e.detail for e in uow.session.scalars(select(AuditEvent))]
    assert any(d.get("api_token") == token_id for d in details)


def test_a_read_token_cannot_write_and_a_write_token_needs_no_csrf(web_archive, make_app) -> None:  # noqa: ANN001
    client = make_app({"TESTING": True}).test_client()
    _, read = _token(web_archive, "clerk", "read")
    _, write = _token(web_archive, "clerk", "write")
    body = {"archive_codes": ["NO-SUCH"]}

    refused = client.post("/api/v1/documents/filing", json=body, headers={"Authorization": f"Bearer {read}"})
    allowed = client.post("/api/v1/documents/filing", json=body, headers={"Authorization": f"Bearer {write}"})

    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope"
    assert allowed.status_code != 403 and allowed.status_code < 500


def test_a_revoked_or_unknown_token_is_401(web_archive, make_app) -> None:  # noqa: ANN001
    client = make_app({"TESTING": True}).test_client()
    token_id, secret = _token(web_archive, "clerk", "read")
    services.revoke_api_token(web_archive.uow(), actor=users.resolve_actor(web_archive.uow(), username="clerk"),
                              token_id=token_id)

    assert client.get("/api/v1/search", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert client.get("/api/v1/search", headers={"Authorization": "Bearer arch_pat_nope"}).status_code == 401


def test_a_cookie_session_on_the_api_still_needs_the_csrf_token(make_app, login_as) -> None:  # noqa: ANN001
    client = make_app({"TESTING": True, "WTF_CSRF_ENABLED": False}).test_client()
    login_as(client, "clerk")
    strict = make_app({"TESTING": True}).test_client()
    strict.set_cookie("session", client.get_cookie("session").value)

    response = strict.post("/api/v1/documents/filing", json={"archive_codes": ["X"]})

    assert response.status_code == 400 and "安全令牌" in response.get_json()["error"].__str__()  # the CSRF refusal


def test_a_user_creates_lists_and_revokes_their_own_tokens_through_the_api(web_archive, make_app) -> None:  # noqa: ANN001
    client = make_app({"TESTING": True}).test_client()
    _, write = _token(web_archive, "clerk", "write")
    auth = {"Authorization": f"Bearer {write}"}

    made = client.post("/api/v1/tokens", json={"name": "ci", "scope": "read", "days": 30}, headers=auth)
    too_long = client.post("/api/v1/tokens", json={"name": "ci", "scope": "read", "days": 400}, headers=auth)
    new_id = made.get_json()["token"]["id"]
    listed = client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {made.get_json()['secret']}"})
    revoked = client.delete(f"/api/v1/tokens/{new_id}", headers=auth)

    assert made.status_code == 201 and too_long.status_code == 400
    assert {t["name"] for t in listed.get_json()["tokens"]} == {"t", "ci"}
    assert revoked.status_code == 200 and revoked.get_json()["token"]["revoked_at"]
    assert client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {made.get_json()['secret']}"}).status_code == 401


def test_the_token_refusals_speak_the_requests_language(web_archive, make_app) -> None:  # noqa: ANN001
    client = make_app({"TESTING": True}).test_client()
    _, read = _token(web_archive, "clerk", "read")

    english = client.get("/api/v1/search", headers={"Authorization": "Bearer arch_pat_nope", "Accept-Language": "en"})
    chinese = client.get("/api/v1/search", headers={"Authorization": "Bearer arch_pat_nope", "Accept-Language": "zh-CN"})
    scope = client.post("/api/v1/documents/filing", json={"archive_codes": ["X"]},
                        headers={"Authorization": f"Bearer {read}", "Accept-Language": "en"})
    anonymous = client.get("/api/v1/search", headers={"Accept-Language": "zh-CN"})

    assert english.get_json()["error"]["message"] == "The API token is not valid (unknown, expired or revoked)."
    assert chinese.get_json()["error"]["message"] == "API 令牌无效（不存在、已过期或已撤销）。"
    assert scope.get_json()["error"]["message"] == "This token may only read (scope read)."
    assert anonymous.status_code == 401 and "API 令牌" in anonymous.get_json()["error"]["message"]
