"""Retention's part of `archive demo`: a records manager, a customer under a litigation hold, and a
business licence whose retention ended (its customer closed the account two years ago), so
`archive retention due` and `hold list` show something within a minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from archive.actors import OPERATOR
from archive.demo.loading import CUSTOMERS
from archive.registry import Login
from archive.roles import RECORDS_MANAGER
from archive.services import users
from archive.unit_of_work import UnitOfWork
from retention.permissions import RETENTION_ACTOR
from retention.services import dispositions, holds, schedules

LOGIN: Login = ("records", "records-demo-pass", "records_manager (档案管理员), holds and schedules")


def load(new_uow: Callable[[], UnitOfWork]) -> list[Login]:
    username, password, _ = LOGIN
    if username not in {u.username for u in users.list_users(new_uow(), actor=OPERATOR)}:
        users.create_user(new_uow(), actor=OPERATOR, username=username, password=password, role=RECORDS_MANAGER,
                          department="YX", clearance="internal", display_name="档案管理员")
        manager = users.resolve_actor(new_uow(), username=username, remote_addr="demo")
        held_customer, organisation = CUSTOMERS[1][0], CUSTOMERS[2][0]
        holds.place_legal_hold(new_uow(), actor=manager, target=holds.HoldTarget("customer", held_customer),
                               hold_type="litigation", reason="demo: 用电纠纷诉讼 (2026)京0108民初100号")
        schedules.set_schedule(new_uow(), actor=manager, document_type="business_licence", years=1, months=None,
                               trigger="event", event_name="account_closed", action="review")
        today = new_uow().clock.today()
        schedules.record_trigger_event(new_uow(), actor=manager, name="account_closed", customer=organisation,
                                       occurred_on=date(today.year - 2, today.month, min(today.day, 28)))
    dispositions.refresh_dispositions(new_uow(), actor=RETENTION_ACTOR)
    return [LOGIN]
