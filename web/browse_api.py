"""The views by work order / business step and by dossier in the JSON API under /api/v1 (seed 002): the
same service as the pages (archive.services.browsing), which lists only what the caller may see."""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field

from archive.services import browsing
from archive.views import DocumentGroupView
from web.api_auth import protect_api
from web.openapi import operation
from web.pagination import CURSOR, list_page, number_arg, page_request
from web.support import current_actor, new_uow, require_login

bp = Blueprint("browse_api", __name__, url_prefix="/api/v1")
protect_api(bp)  # before require_login: a bearer token logs the user in
require_login(bp)



class WorkOrdersQuery(BaseModel):
    work_order: str = Field("", max_length=64, description="one work order (exact)")
    step: str = Field("", max_length=100, description="one business step (exact)")
    limit: int = Field(50, ge=1, le=200)
    cursor: str = CURSOR


class DossiersQuery(BaseModel):
    dossier: int | None = Field(None, ge=1, le=2**31 - 1, description="one dossier")
    limit: int = Field(50, ge=1, le=200)
    cursor: str = CURSOR


class GroupsAnswer(BaseModel):
    groups: list[DocumentGroupView] = Field(description=f"over the first {browsing.LIMIT} documents")
    next_cursor: str | None


@bp.get("/work-orders")
@operation("Documents by work order and business step", query=WorkOrdersQuery, response=GroupsAnswer)
def work_orders() -> ResponseReturnValue:
    """The visible documents that name a work order, grouped by work order (`key`) and step (`label`)."""
    groups = browsing.documents_by_work_order(new_uow(), actor=current_actor(),
                                              work_order=request.args.get("work_order", "").strip()[:64],
                                              business_step=request.args.get("step", "").strip()[:100])
    shown, next_cursor = list_page(groups, page_request(default_limit=50, max_limit=200))
    return jsonify(groups=[asdict(g) for g in shown], next_cursor=next_cursor)


@bp.get("/dossiers")
@operation("Documents by dossier", query=DossiersQuery, response=GroupsAnswer)
def dossiers() -> ResponseReturnValue:
    """The visible documents in dossiers, grouped by dossier (`key`: its title; `label`: the customer)."""
    dossier_id = number_arg("dossier")
    groups = browsing.documents_by_dossier(new_uow(), actor=current_actor(), dossier_id=dossier_id)
    shown, next_cursor = list_page(groups, page_request(default_limit=50, max_limit=200))
    return jsonify(groups=[asdict(g) for g in shown], next_cursor=next_cursor)
