"""Saved searches on the search page and in the JSON API: save, run, delete, each user only their own."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from archive_fixtures import audit_rows, captured
from flask import Flask
from flask.testing import FlaskClient

from archive.api_tokens import services as tokens
from archive.bootstrap import Archive
from archive.saved_searches import services as saved
from archive.services import users


def actor(archive: Archive, username: str):  # noqa: ANN201
    return users.resolve_actor(archive.uow(), username=username, remote_addr="127.0.0.1")


def test_a_search_is_saved_from_the_search_page_run_again_and_deleted(
    client: FlaskClient, login_as, web_archive: Archive, tmp_path: Path
) -> None:
    document = captured(web_archive, actor(web_archive, "clerk"), tmp_path, "合同", level="internal",
                        text="增容 供用电合同")
    login_as(client, "staff")
    page = client.get("/search/?q=增容&type=supply_contract&sort=newest&lang=en").get_data(as_text=True)
    assert 'id="save-search"' in page and 'name="type" value="supply_contract"' in page

    response = client.post("/search/saved", data={"name": "增容合同", "q": "增容", "type": "supply_contract",
                                                  "sort": "newest"})

    assert response.status_code == 302 and parse_qs(urlsplit(response.location).query)["q"] == ["增容"]
    [kept] = saved.list_saved_searches(web_archive.uow(), actor=actor(web_archive, "staff"))
    assert (kept.name, kept.query, kept.filters) == ("增容合同", "增容", {"type": "supply_contract", "sort": "newest"})
    home = client.get("/?lang=en").get_data(as_text=True)
    assert f"/search/saved/{kept.id}" in home

    run = client.get(f"/search/saved/{kept.id}", follow_redirects=True).get_data(as_text=True)
    assert document.code in run and "1 document found" in run

    deleted = client.post(f"/search/saved/{kept.id}/delete", data={"next": "/?lang=en"})
    assert deleted.status_code == 302 and deleted.location == "/?lang=en"
    assert saved.list_saved_searches(web_archive.uow(), actor=actor(web_archive, "staff")) == []
    assert len(audit_rows(web_archive, "saved_search.deleted")) == 1


def test_another_users_saved_search_cannot_be_run_or_deleted_from_the_pages(
    client: FlaskClient, login_as, web_archive: Archive
) -> None:
    other = saved.save_search(web_archive.uow(), actor=actor(web_archive, "staff_kf"), name="KF", query="电费")
    login_as(client, "staff")

    assert client.get(f"/search/saved/{other.id}").status_code == 404
    assert client.post(f"/search/saved/{other.id}/delete").status_code == 404
    assert "KF" not in client.get("/search/?lang=en").get_data(as_text=True).split('id="saved-searches"')[1]
    assert len(saved.list_saved_searches(web_archive.uow(), actor=actor(web_archive, "staff_kf"))) == 1


def test_saving_a_search_for_an_id_number_is_refused_on_the_page(client: FlaskClient, login_as,
                                                                  web_archive: Archive) -> None:
    login_as(client, "staff")

    refused = client.post("/search/saved", data={"name": "who", "q": "11010519491231002X"}, follow_redirects=True)

    assert "身份证号或电话号码的检索不能保存" in refused.get_data(as_text=True)
    assert saved.list_saved_searches(web_archive.uow(), actor=actor(web_archive, "staff")) == []


def test_the_api_lists_creates_and_deletes_only_the_callers_saved_searches(
    web_archive: Archive, make_app
) -> None:  # noqa: ANN001
    client: FlaskClient = make_app({"TESTING": True}).test_client()  # CSRF on: bearer tokens need none
    staff = tokens.create_api_token(web_archive.uow(), actor=actor(web_archive, "staff"), name="t", scope="write",
                                    days=1).secret
    kf = tokens.create_api_token(web_archive.uow(), actor=actor(web_archive, "staff_kf"), name="t", scope="write",
                                 days=1).secret
    as_staff, as_kf = ({"Authorization": f"Bearer {secret}"} for secret in (staff, kf))

    created = client.post("/api/v1/saved-searches", headers=as_staff,
                          json={"name": "电费", "query": "电费", "filters": {"year": "2024"}})
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()["saved_search"]
    assert (body["name"], body["filters"]) == ("电费", {"year": "2024"})
    assert body["search_url"].startswith("/api/v1/search?") and "year=2024" in body["search_url"]
    assert client.get(body["search_url"], headers=as_staff).status_code == 200

    assert client.get("/api/v1/saved-searches", headers=as_kf).get_json() == {"saved_searches": [], "next_cursor": None}
    assert client.delete(f"/api/v1/saved-searches/{body['id']}", headers=as_kf).status_code == 404
    bad = client.post("/api/v1/saved-searches", headers=as_staff, json={"name": "x", "query": "电费",
                                                                        "filters": {"owner": "me"}})
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "filters"
    assert [s["id"] for s in client.get("/api/v1/saved-searches", headers=as_staff).get_json()["saved_searches"]] \
        == [body["id"]]

    assert client.delete(f"/api/v1/saved-searches/{body['id']}", headers=as_staff).status_code == 204
    assert client.get("/api/v1/saved-searches", headers=as_staff).get_json() == {"saved_searches": [], "next_cursor": None}


def test_the_api_refuses_a_cookie_session_without_csrf_and_a_visitor(make_app, login_as, app: Flask,  # noqa: ANN001
                                                                     web_archive: Archive) -> None:
    assert app.test_client().get("/api/v1/saved-searches").status_code == 401
    loose = app.test_client()
    login_as(loose, "staff")
    strict = make_app({"TESTING": True}).test_client()
    strict.set_cookie("session", loose.get_cookie("session").value)

    assert strict.post("/api/v1/saved-searches", json={"name": "x", "query": "电费"}).status_code == 400
    assert saved.list_saved_searches(web_archive.uow(), actor=actor(web_archive, "staff")) == []
