"""The personal API tokens page (/account/tokens): list, create with the secret shown once, revoke; CSRF on
its forms; English and Chinese."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from archive.api_tokens import services
from archive.bootstrap import Archive
from archive.services import users


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def test_a_user_creates_a_token_sees_its_secret_once_and_it_works_on_the_api(make_app, login_as,  # noqa: ANN001
                                                                            web_archive: Archive) -> None:
    client = make_app({"TESTING": True}).test_client()  # CSRF on
    login_as_with_csrf(client, "clerk")
    page = client.get("/account/tokens?lang=en").get_data(as_text=True)

    made = client.post("/account/tokens", data={"csrf_token": _csrf(page), "name": "nightly export", "scope": "read",
                                                 "days": "30"})
    secret = re.search(r'id="new-token-secret">([^<]+)<', made.get_data(as_text=True)).group(1)
    again = client.get("/account/tokens").get_data(as_text=True)

    assert made.status_code == 200 and "nightly export" in again and secret not in again
    api = make_app({"TESTING": True}).test_client()
    assert api.get("/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    assert [t.name for t in services.list_api_tokens(web_archive.uow(), actor=clerk)] == ["nightly export"]


def test_a_post_without_the_csrf_token_is_refused_and_makes_nothing(make_app, web_archive: Archive) -> None:  # noqa: ANN001
    client = make_app({"TESTING": True}).test_client()
    login_as_with_csrf(client, "clerk")
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    token = services.create_api_token(web_archive.uow(), actor=clerk, name="kept", scope="read", days=1).token

    created = client.post("/account/tokens", data={"name": "x", "scope": "read", "days": "1"})
    revoked = client.post(f"/account/tokens/{token.id}/revoke")

    assert created.status_code == 400 and revoked.status_code == 400
    listed = services.list_api_tokens(web_archive.uow(), actor=clerk)
    assert [(t.name, t.revoked_at) for t in listed] == [("kept", None)]


def test_a_user_revokes_their_token_but_not_anothers(client: FlaskClient, login_as, web_archive: Archive) -> None:  # noqa: ANN001
    clerk = users.resolve_actor(web_archive.uow(), username="clerk")
    auditor = users.resolve_actor(web_archive.uow(), username="auditor")
    own = services.create_api_token(web_archive.uow(), actor=clerk, name="mine", scope="read", days=1).token
    other = services.create_api_token(web_archive.uow(), actor=auditor, name="theirs", scope="read", days=1).token
    login_as(client, "clerk")

    done = client.post(f"/account/tokens/{own.id}/revoke?lang=en", follow_redirects=True)
    refused = client.post(f"/account/tokens/{other.id}/revoke")

    assert "The token mine was revoked." in done.get_data(as_text=True) and "revoked" in done.get_data(as_text=True)
    assert refused.status_code == 404
    assert services.list_api_tokens(web_archive.uow(), actor=auditor)[0].revoked_at is None


def test_bad_input_is_shown_on_the_page_in_chinese(client: FlaskClient, login_as) -> None:  # noqa: ANN001
    login_as(client, "clerk")

    page = client.get("/account/tokens?lang=zh_CN").get_data(as_text=True)
    refused = client.post("/account/tokens", data={"name": "x", "scope": "read", "days": "400"})

    assert "API 令牌" in page and "您还没有 API 令牌" in page
    assert refused.status_code == 400 and "id=\"new-token\"" not in refused.get_data(as_text=True)


def test_the_session_bar_links_to_the_tokens_page(client: FlaskClient, login_as) -> None:  # noqa: ANN001
    login_as(client, "auditor")

    assert 'href="/account/tokens"' in client.get("/inbox/?lang=en").get_data(as_text=True)


def login_as_with_csrf(client: FlaskClient, username: str) -> None:
    """Log in through the real form with its CSRF token."""
    from archive_fixtures import PASSWORD

    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page)})
    assert response.status_code == 302, response.get_data(as_text=True)
