"""Everyday lists: the signed-in user's tasks and reminders, orders, products."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.policy import Action, Scope, scope_for
from voronka.activity import repository as activity_repository
from voronka.activity import service as activity_service
from voronka.activity.models import Activity
from voronka.audit import service as audit
from voronka.client.models import Client
from voronka.errors import ErrorDetail, Forbidden, InvalidInput, NotFound
from voronka.order import repository as order_repository
from voronka.order.models import Order, OrderStatus, Product
from voronka.web.deps import DbSession
from voronka.web.listing import PageRequest, fetch_page
from voronka.web.ui import analysis
from voronka.web.ui.analysis import ReportFilters
from voronka.web.ui.auth import PageGrant, page_grant
from voronka.web.ui.pages.common import form_int
from voronka.web.ui.pages.reports import Block, page, table_block
from voronka.web.ui.render import UiRoute, render
from voronka.web.ui.table import Column, Table, maybe_export

router = APIRouter(route_class=UiRoute)
ActivityReader = Annotated[PageGrant, Depends(page_grant("activity", Action.READ))]
ActivityChanger = Annotated[PageGrant, Depends(page_grant("activity", Action.UPDATE))]
OrderReader = Annotated[PageGrant, Depends(page_grant("order", Action.READ))]
ProductReader = Annotated[PageGrant, Depends(page_grant("product", Action.READ))]
PAGE_SIZE = 50


def _client_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Client.id, Client.name).where(Client.id.in_(ids)))
    return {int(r[0]): str(r[1]) for r in rows}


def _task_rows(session: Session, tasks: list[Activity]) -> list[dict[str, Any]]:
    names = _client_names(session, {t.client_id for t in tasks if t.client_id})
    now = clock.now()
    return [{"id": t.id, "subject": t.subject or "—", "client_id": t.client_id,
             "client": names.get(t.client_id) if t.client_id else None, "due_at": t.due_at,
             "overdue": bool(t.due_at and t.due_at < now)} for t in tasks]


def tasks_context(session: Session, g: PageGrant) -> dict[str, Any]:
    visible = activity_repository.visible_to(g.actor, g.scope)
    tasks = session.scalars(activity_repository.open_tasks_of(visible, g.actor.user_id).limit(200)).all()
    mine = activity_repository.open_tasks_of(visible, g.actor.user_id)
    reminders = session.scalars(
        activity_repository.reminders_due(mine.order_by(None), clock.now()).limit(50)
    ).all()
    return {"tasks": _task_rows(session, list(tasks)),
            "reminders": _task_rows(session, list(reminders)),
            "can_complete": scope_for(g.actor, "activity", Action.UPDATE) is not Scope.NONE}


@router.get("/ui/tasks")
def tasks_page(request: Request, session: DbSession, g: ActivityReader) -> Response:
    return render(request, "tasks.html", {"title": "Tasks", **tasks_context(session, g)})


@router.post("/ui/tasks/{task_id}/done")
def complete_task(task_id: int, request: Request, session: DbSession, g: ActivityChanger) -> Response:
    task = activity_repository.get_visible(session, g.actor, g.scope, task_id)
    if task is None:
        raise NotFound("no such task")
    activity_service.complete(session, actor=g.actor, activity=task)
    return render(request, "_tasks.html", {**tasks_context(session, g), "flash": "Done"})


@router.get("/ui/orders")
def orders_page(request: Request, session: DbSession, g: OrderReader) -> Response:
    status = request.query_params.get("status") or None
    if status is not None and status not in {s.value for s in OrderStatus}:
        raise InvalidInput("unknown order status", [ErrorDetail("unknown", field="status")])
    exporting = request.query_params.get("export") is not None
    if exporting and scope_for(g.actor, "order", Action.EXPORT) is Scope.NONE:
        raise Forbidden("your role may not export orders")
    page_number = form_int(request.query_params.get("page"), "page") or 1
    query = order_repository.filtered_orders(
        order_repository.visible_to(g.actor, g.scope),
        status=OrderStatus(status) if status else None,
    ).order_by(Order.created_at.desc(), Order.id.desc())
    paging = PageRequest(page=1 if exporting else page_number,
                         page_size=5000 if exporting else PAGE_SIZE)
    orders, total = fetch_page(session, query, paging)
    names = _client_names(session, {o.client_id for o in orders})
    table = Table("orders", "Orders", [
        Column("number", "Number"), Column("client", "Client", "link", "/ui/clients/{client_id}"),
        Column("status", "Status"), Column("total", "Amount", "money"),
        Column("created_at", "Created", "date"), Column("paid_at", "Paid", "date"),
    ], [{"number": o.number, "client_id": o.client_id, "client": names.get(o.client_id),
         "status": o.status.value, "total": o.total, "created_at": o.created_at,
         "paid_at": o.paid_at} for o in orders])
    audit.record(session, g.actor, action="export" if exporting else "list", entity="order",
                 row_count=len(orders), detail={"view": "ui"})
    exported = maybe_export(request, [table], g.viewer.language)
    if exported is not None:
        return exported
    return render(request, "orders.html", {
        "title": "Orders", "table": table, "total": total, "page": page_number,
        "pages": max(1, -(-total // PAGE_SIZE)), "status": status,
        "statuses": [s.value for s in OrderStatus],
    })


@router.get("/ui/products")
def products_page(request: Request, session: DbSession, g: ProductReader) -> Response:
    products = session.scalars(
        order_repository.products_of(g.actor.workspace_id).order_by(Product.name).limit(1000)
    ).all()
    table = Table("products", "Products", [
        Column("sku", "SKU"), Column("name", "Name"), Column("price", "Price", "money"),
        Column("active", "Active"),
    ], [{"sku": p.sku, "name": p.name, "price": p.price,
         "active": "✓" if p.is_active else "—"} for p in products])
    blocks = [table_block(table)]
    if scope_for(g.actor, "report", Action.READ) is not Scope.NONE:
        blocks += product_analysis_blocks(request, session, g)
    if request.query_params.get("export") is None:
        return page(request, g, session, "Products", ReportFilters.from_request(request), blocks,
                    breakdowns=False)
    exported = maybe_export(request, [b.table for b in blocks if b.kind == "table"],
                            g.viewer.language)
    assert exported is not None
    return exported


def product_analysis_blocks(request: Request, session: Session, g: PageGrant) -> list[Block]:
    """Basket rules, ABC-XYZ and stock advice, from whichever of them is installed."""
    f = ReportFilters.from_request(request)
    blocks: list[Block] = []
    for name, title in (("basket", "Basket rules"), ("stock", "ABC-XYZ and stock advice")):
        if not analysis.available(name):
            blocks.append(Block(kind="missing", title=title))
            continue
        result = analysis.run(session, g.viewer, name, {"period": f.period})
        sample = result.rows[0] if result.rows else {}
        columns = [Column(c, c.replace("_", " ").capitalize(),
                          "number" if isinstance(sample.get(c), float | int) else "text", digits=2)
                   for c in result.columns]
        blocks.append(table_block(Table(name, title, columns, result.rows[:200]), result))
    return blocks
