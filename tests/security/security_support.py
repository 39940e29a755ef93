"""Helpers the security tests share: logging in, reading the audit trail, ids."""

from __future__ import annotations

from archive_fixtures import PASSWORD
from flask.testing import FlaskClient

from archive.bootstrap import Archive
from archive.services import audit_log, users


def login(client: FlaskClient, username: str, password: str = PASSWORD, **kwargs: object):
    return client.post("/login", data={"username": username, "password": password}, **kwargs)


def audit_events(archive: Archive, **filters: str) -> list:
    auditor = users.resolve_actor(archive.uow(), username="auditor")
    return audit_log.list_audit_events(archive.uow(), actor=auditor, **filters)


def user_id(archive: Archive, username: str) -> int:
    actor = users.resolve_actor(archive.uow(), username=username)
    assert actor.user_id is not None
    return actor.user_id
