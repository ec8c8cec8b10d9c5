"""Drill-down: the records behind one figure, loaded within the viewer's record scope."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from voronka.access.policy import Action, require
from voronka.activity import repository as activity_repository
from voronka.activity.models import Activity
from voronka.analytics import drilldown
from voronka.analytics import service as analytics_service
from voronka.client.models import Client
from voronka.deal import repository as deal_repository
from voronka.deal.models import Deal
from voronka.errors import ErrorDetail, InvalidInput
from voronka.order import repository as order_repository
from voronka.order.models import Order
from voronka.web.deps import DbSession
from voronka.web.ui.analysis import ReportFilters
from voronka.web.ui.auth import Viewer
from voronka.web.ui.pages.common import ReportReader
from voronka.web.ui.pages.reports import page, table_block
from voronka.web.ui.render import UiRoute
from voronka.web.ui.table import Column, Table

router = APIRouter(route_class=UiRoute)

CLIENT_LINK = "/ui/clients/{client_id}"


def _client_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Client.id, Client.name).where(Client.id.in_(ids)))
    return {int(r[0]): str(r[1]) for r in rows}


def _deals(session: Session, viewer: Viewer, ids: list[int]) -> Table:
    scope = require(viewer.actor, "deal", Action.READ)
    deals = session.scalars(
        deal_repository.visible_to(viewer.actor, scope).where(Deal.id.in_(ids)).order_by(Deal.id)
    ).all()
    names = _client_names(session, {d.client_id for d in deals})
    rows = [{"id": d.id, "title": d.title, "client_id": d.client_id,
             "client": names.get(d.client_id), "status": d.status.value, "amount": d.amount,
             "created_at": d.created_at} for d in deals]
    return Table("records", "Deals", [
        Column("id", "Number", "number"), Column("title", "Title"),
        Column("client", "Client", "link", CLIENT_LINK), Column("status", "Status"),
        Column("amount", "Amount", "money"), Column("created_at", "Created", "date"),
    ], rows)


def _orders(session: Session, viewer: Viewer, ids: list[int]) -> Table:
    scope = require(viewer.actor, "order", Action.READ)
    orders = session.scalars(
        order_repository.visible_to(viewer.actor, scope).where(Order.id.in_(ids))
        .order_by(Order.id)
    ).all()
    names = _client_names(session, {o.client_id for o in orders})
    rows = [{"id": o.id, "number": o.number, "client_id": o.client_id,
             "client": names.get(o.client_id), "status": o.status.value, "total": o.total,
             "paid_at": o.paid_at} for o in orders]
    return Table("records", "Orders", [
        Column("number", "Number"), Column("client", "Client", "link", CLIENT_LINK),
        Column("status", "Status"), Column("total", "Amount", "money"),
        Column("paid_at", "Paid", "date"),
    ], rows)


def _activities(session: Session, viewer: Viewer, ids: list[int]) -> Table:
    scope = require(viewer.actor, "activity", Action.READ)
    found = session.scalars(
        activity_repository.visible_to(viewer.actor, scope).where(Activity.id.in_(ids))
        .order_by(Activity.id)
    ).all()
    names = _client_names(session, {a.client_id for a in found if a.client_id})
    rows = [{"id": a.id, "kind": a.kind.value, "client_id": a.client_id,
             "client": names.get(a.client_id) if a.client_id else None,
             "status": a.call_status.value if a.call_status else None,
             "occurred_at": a.occurred_at, "wait": a.wait_seconds} for a in found]
    return Table("records", "Calls", [
        Column("id", "Number", "number"), Column("kind", "Kind"),
        Column("client", "Client", "link", CLIENT_LINK), Column("status", "Status"),
        Column("occurred_at", "Date", "date"),
    ], rows)


LOADERS = {"deal": _deals, "order": _orders, "activity": _activities}


@router.get("/ui/drill")
def drill_page(request: Request, session: DbSession, g: ReportReader) -> Response:
    f = ReportFilters.from_request(request)
    params = request.query_params
    measure = params.get("measure", "")
    query: dict[str, Any] = {"period": f.period, "measure": measure, "filters": f.filters,
                             "limit": 500}
    if params.get("breakdown") and params.get("key", "").isdigit():
        query["breakdown"], query["key"] = params["breakdown"], int(params["key"])
    result = analytics_service.drill(session, g.actor, query)
    entity = drilldown.RECORDS[measure][0]
    loader = LOADERS.get(entity)
    if loader is None:
        raise InvalidInput("these records have no list in the interface",
                           [ErrorDetail("no list", field="measure", value=measure)])
    table = loader(session, g.viewer, [int(r["id"]) for r in result.rows])
    table.title = "Records behind the figure"
    return page(request, g, session, "Records behind the figure", None, [table_block(table)],
                breakdowns=False)
