"""The suite's PostgreSQL fixtures give real, usable and isolated databases."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.postgres


def test_the_session_server_accepts_tables_and_queries(postgres_server) -> None:
    assert postgres_server.url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert postgres_server.url.endswith("/archive_test")
    engine = create_engine(postgres_server.url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE fixture_probe (id serial PRIMARY KEY, name text NOT NULL)"))
            conn.execute(text("INSERT INTO fixture_probe (name) VALUES (:name)"), {"name": "客户档案"})
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM fixture_probe")).scalar_one() == "客户档案"
            assert conn.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE fixture_probe"))
    finally:
        engine.dispose()


def test_a_per_test_database_is_empty_and_separate_from_archive_test(postgres_url, postgres_server) -> None:
    assert postgres_url != postgres_server.url
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalar_one()
            assert tables == 0
            assert conn.execute(text("SELECT current_database()")).scalar_one().startswith("t_")
    finally:
        engine.dispose()


def test_create_database_returns_a_url_that_connects(postgres_server) -> None:
    url = postgres_server.create_database("probe_created_db")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar_one() == "probe_created_db"
    finally:
        engine.dispose()
        postgres_server.drop_database("probe_created_db")


def test_database_names_that_are_not_plain_identifiers_are_refused(postgres_server) -> None:
    with pytest.raises(ValueError):
        postgres_server.create_database('x"; DROP DATABASE archive_test; --')
