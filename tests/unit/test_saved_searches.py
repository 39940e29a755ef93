"""Saved searches: the owner's only, validated, never holding an ID number in clear, audited."""

from __future__ import annotations

import pytest
from archive_fixtures import audit_rows, downgrade
from sqlalchemy import inspect

from archive.errors import AccessDenied, NotFoundError, ValidationError
from archive.saved_searches import services


def test_a_saved_search_keeps_its_query_and_filters_for_its_owner(archive, people) -> None:  # noqa: ANN001
    saved = services.save_search(archive.uow(), actor=people["staff"], name="增容合同", query="增容",
                                 filters={"type": "supply_contract", "sort": "newest", "from": "2024-01-01",
                                          "year": ""})

    [listed] = services.list_saved_searches(archive.uow(), actor=people["staff"])
    assert listed == saved
    assert (listed.name, listed.query) == ("增容合同", "增容")
    assert listed.filters == {"type": "supply_contract", "sort": "newest", "from": "2024-01-01"}
    assert listed.parameters() == {"q": "增容", "type": "supply_contract", "sort": "newest", "from": "2024-01-01"}
    [event] = audit_rows(archive, "saved_search.created")
    assert (event.actor_name, event.target_id, event.detail["query"]) == ("staff", str(saved.id), "增容")


def test_nobody_else_sees_or_deletes_a_saved_search(archive, people) -> None:  # noqa: ANN001
    saved = services.save_search(archive.uow(), actor=people["staff"], name="mine", query="电费")

    assert services.list_saved_searches(archive.uow(), actor=people["staff_kf"]) == []
    with pytest.raises(NotFoundError):
        services.get_saved_search(archive.uow(), actor=people["staff_kf"], saved_search_id=saved.id)
    with pytest.raises(NotFoundError):
        services.delete_saved_search(archive.uow(), actor=people["staff_kf"], saved_search_id=saved.id)

    assert [s.id for s in services.list_saved_searches(archive.uow(), actor=people["staff"])] == [saved.id]
    assert audit_rows(archive, "saved_search.deleted") == []


def test_the_owner_deletes_a_saved_search_and_the_deletion_is_audited(archive, people) -> None:  # noqa: ANN001
    saved = services.save_search(archive.uow(), actor=people["staff"], name="mine", query="电费")

    services.delete_saved_search(archive.uow(), actor=people["staff"], saved_search_id=saved.id)

    assert services.list_saved_searches(archive.uow(), actor=people["staff"]) == []
    assert [e.target_id for e in audit_rows(archive, "saved_search.deleted")] == [str(saved.id)]


@pytest.mark.parametrize(("name", "query", "filters"), [
    ("", "电费", {}),  # no name
    ("x" * 101, "电费", {}),
    ("nothing", "", {}),  # nothing to search for
    ("bad key", "电费", {"owner": "1"}),
    ("bad sort", "电费", {"sort": "random"}),
    ("bad date", "电费", {"from": "yesterday"}),
    ("an ID number", "11010519491231002X", {}),  # never kept in clear
    ("a phone", "电话 13812345678", {}),
])
def test_a_bad_saved_search_is_refused_and_nothing_kept(archive, people, name, query, filters) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError):
        services.save_search(archive.uow(), actor=people["staff"], name=name, query=query, filters=filters)
    assert services.list_saved_searches(archive.uow(), actor=people["staff"]) == []
    assert audit_rows(archive, "saved_search.created") == []


def test_a_role_that_may_not_search_cannot_save_a_search(archive, people) -> None:  # noqa: ANN001
    with pytest.raises(AccessDenied):
        services.save_search(archive.uow(), actor=people["auditor"], name="x", query="电费")
    assert services.list_saved_searches(archive.uow(), actor=people["auditor"]) == []
    assert [row.actor_name for row in audit_rows(archive, "access.denied")] == ["auditor"]  # the refusal is audited


def test_migration_0016_goes_down_and_up(archive, people) -> None:  # noqa: ANN001
    services.save_search(archive.uow(), actor=people["staff"], name="kept?", query="电费")
    downgrade(archive, "0015")
    with archive.engine.connect() as connection:
        assert "saved_search" not in inspect(connection).get_table_names()
    archive.migrate()
    with archive.engine.connect() as connection:
        assert "saved_search" in inspect(connection).get_table_names()
    assert services.list_saved_searches(archive.uow(), actor=people["staff"]) == []
    services.save_search(archive.uow(), actor=people["staff"], name="again", query="电费")
