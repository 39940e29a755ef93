"""Personal API tokens: created shown once and stored as a hash, scoped, expiring, revocable, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from archive_fixtures import audit_rows, downgrade
from sqlalchemy import inspect, select

from archive.api_tokens import services
from archive.api_tokens.models import ApiToken
from archive.errors import AuthenticationError, NotFoundError, ValidationError


def test_a_created_token_authenticates_as_its_user_and_only_its_hash_is_kept(archive, people) -> None:  # noqa: ANN001
    created = services.create_api_token(archive.uow(), actor=people["clerk"], name="scanner", scope="write", days=30)

    actor, token_id, scope = services.actor_for_api_token(archive.uow(), secret=created.secret)

    assert (actor.username, actor.role, token_id, scope) == ("clerk", people["clerk"].role, created.token.id, "write")
    with archive.uow() as uow:
        row = uow.session.scalar(select(ApiToken))
        assert row.token_hash != created.secret and created.secret not in row.token_hash
        assert created.secret.startswith(row.prefix) and row.last_used_at is not None
    assert [e.target_id for e in audit_rows(archive, "api_token.created")] == [str(created.token.id)]


def test_a_revoked_token_is_refused_and_the_refusal_audited(archive, people) -> None:  # noqa: ANN001
    created = services.create_api_token(archive.uow(), actor=people["clerk"], name="x", scope="read", days=1)

    services.revoke_api_token(archive.uow(), actor=people["clerk"], token_id=created.token.id)

    with pytest.raises(AuthenticationError):
        services.actor_for_api_token(archive.uow(), secret=created.secret)
    assert len(audit_rows(archive, "api_token.revoked")) == 1
    assert len(audit_rows(archive, "api_token.refused")) == 1


def test_an_expired_token_is_refused(archive, people) -> None:  # noqa: ANN001
    created = services.create_api_token(archive.uow(), actor=people["clerk"], name="x", scope="read", days=1)
    with archive.uow() as uow:
        row = uow.session.get(ApiToken, created.token.id)
        row.expires_at = row.created_at - timedelta(seconds=1)
        uow.commit()

    with pytest.raises(AuthenticationError):
        services.actor_for_api_token(archive.uow(), secret=created.secret)


def test_nobody_can_revoke_another_users_token(archive, people) -> None:  # noqa: ANN001
    created = services.create_api_token(archive.uow(), actor=people["clerk"], name="x", scope="read", days=1)

    with pytest.raises(NotFoundError):
        services.revoke_api_token(archive.uow(), actor=people["auditor"], token_id=created.token.id)

    assert services.list_api_tokens(archive.uow(), actor=people["clerk"])[0].revoked_at is None
    assert audit_rows(archive, "api_token.revoked") == []


@pytest.mark.parametrize(("scope", "days"), [("admin", 1), ("read", 0), ("read", 366)])
def test_a_token_needs_a_known_scope_and_an_expiry_of_at_most_a_year(archive, people, scope, days) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError):
        services.create_api_token(archive.uow(), actor=people["clerk"], name="x", scope=scope, days=days)
    assert services.list_api_tokens(archive.uow(), actor=people["clerk"]) == []


def test_migration_0015_goes_down_and_up(archive) -> None:  # noqa: ANN001
    downgrade(archive, "0014")
    with archive.engine.connect() as connection:
        assert "api_token" not in inspect(connection).get_table_names()
    archive.migrate()
    with archive.engine.connect() as connection:
        assert "api_token" in inspect(connection).get_table_names()


def test_the_last_use_is_written_at_most_once_a_minute(archive, people) -> None:  # noqa: ANN001
    from datetime import UTC, datetime

    from archive.models import as_utc
    from archive.ports import SetClock

    archive.clock = SetClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    created = services.create_api_token(archive.uow(), actor=people["clerk"], name="x", scope="read", days=1)

    def last_use() -> datetime:
        with archive.uow() as uow:
            return as_utc(uow.session.get(ApiToken, created.token.id).last_used_at)

    services.actor_for_api_token(archive.uow(), secret=created.secret)
    first = last_use()
    archive.clock.advance(seconds=59)
    services.actor_for_api_token(archive.uow(), secret=created.secret)
    unchanged = last_use()
    archive.clock.advance(seconds=1)
    services.actor_for_api_token(archive.uow(), secret=created.secret)

    assert first == unchanged == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert last_use() == datetime(2026, 3, 1, 9, 1, tzinfo=UTC)


def test_tokens_are_listed_newest_first_in_pages(archive, people) -> None:  # noqa: ANN001
    ids = [services.create_api_token(archive.uow(), actor=people["clerk"], name=f"t{n}", scope="read",
                                     days=1).token.id for n in range(3)]

    first = services.list_api_tokens(archive.uow(), actor=people["clerk"], limit=2)
    rest = services.list_api_tokens(archive.uow(), actor=people["clerk"], limit=2, before_id=first[-1].id)

    assert [v.id for v in first + rest] == ids[::-1]
