"""Borrowing's sample data for `archive demo`: a request waiting for the department head (`approver`),
a running grant whose pages `staff` sees watermarked, and a paper original out on loan."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from archive.actors import OPERATOR
from archive.borrowing import services
from archive.borrowing.models import BorrowRequest
from archive.models import Document
from archive.registry import Login
from archive.roles import LEADER, RECORDS_MANAGER
from archive.services import users
from archive.unit_of_work import UnitOfWork

LOGINS: list[Login] = [
    ("archivist", "archivist-demo-pass", "records_manager (档案管理员): the archive room, lends originals"),
    ("leader", "leader-demo-pass", "leader (领导): the last step for secret records"),
]


def load(new_uow: Callable[[], UnitOfWork]) -> list[Login]:
    existing = {u.username for u in users.list_users(new_uow(), actor=OPERATOR)}
    for (username, password, _), role in zip(LOGINS, (RECORDS_MANAGER, LEADER), strict=True):
        if username not in existing:
            users.create_user(new_uow(), actor=OPERATOR, username=username, password=password, role=role,
                              clearance="secret", display_name={"archivist": "档案管理员", "leader": "分管领导"}[username])
    with new_uow() as uow:
        if uow.session.scalar(select(BorrowRequest.id).limit(1)) is not None:
            return LOGINS
        codes = {d.classification: d.archive_code for d in uow.session.scalars(
            select(Document).where(Document.status == "ready").order_by(Document.id)).unique()}
    actor = {name: users.resolve_actor(new_uow(), username=name, remote_addr="demo")
             for name in ("staff", "staff_kf", "approver", "archivist")}
    any_code = next(iter(codes.values()), None)
    if any_code is None:
        return LOGINS
    services.request_borrow(new_uow(), actor=actor["staff_kf"], purpose="核对供电合同条款(客服工单 GD-2026-118)",
                            mode="view", days=7, codes=[any_code])
    above = codes.get("confidential") or codes.get("secret") or any_code
    services.request_borrow(new_uow(), actor=actor["staff"], purpose="办理增容业务,查阅原合同", mode="view",
                            days=14, codes=[above])
    lent = services.request_borrow(new_uow(), actor=actor["staff_kf"], purpose="法院调取原件", mode="original",
                                   days=10, codes=[any_code])
    with new_uow() as uow:
        ids = {r.number: r.id for r in uow.session.scalars(select(BorrowRequest))}
    for number in list(ids)[1:]:
        for who in ("approver", "archivist"):  # the department head, then the archive room if the chain asks
            if services.decide(new_uow(), actor=actor[who], request_id=ids[number], approve=True,
                               comment="同意") != "pending":
                break
    services.lend_originals(new_uow(), actor=actor["archivist"], request_id=ids[lent], note="demo")
    return LOGINS
