"""Orders: list, create with lines, change lines, move through statuses, status history.

An order is visible exactly when its client is; ids outside the caller's scope are 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import AwareDatetime

from voronka.access.policy import Action
from voronka.access.scope import owner_in_scope
from voronka.errors import ErrorDetail, Forbidden, NotFound
from voronka.order import repository
from voronka.order import service as order_service
from voronka.order.models import Order, OrderStatus
from voronka.order.schemas import (
    OrderCreate,
    OrderOut,
    OrderUpdate,
    StatusChangeIn,
    StatusChangeOut,
)
from voronka.web.deps import DbSession, Grant, grant
from voronka.web.etag import require_match, set_etag
from voronka.web.listing import Page, Paging, SortParam, apply_sort, fetch_page

Responses = dict[int | str, dict[str, Any]]
router = APIRouter(
    tags=["orders"],
    responses={
        401: {"description": "Not signed in"},
        403: {"description": "Your role may not do this with orders"},
    },
)
Read = Annotated[Grant, grant("order", Action.READ)]
Update = Annotated[Grant, grant("order", Action.UPDATE)]
NOT_FOUND: Responses = {404: {"description": "No such order visible to you"}}
INVALID: Responses = {422: {"description": "Invalid input; details name the field"}}
PRECONDITIONS: Responses = {
    412: {"description": "Stale If-Match"},
    428: {"description": "If-Match missing"},
}
SORTABLE = {
    "created_at": Order.created_at,
    "updated_at": Order.updated_at,
    "paid_at": Order.paid_at,
    "total": Order.total,
    "number": Order.number,
    "status": Order.status,
}


def visible_order(session: DbSession, g: Grant, order_id: int) -> Order:
    """The order if the grant's scope covers its client; otherwise 404 as for a missing id."""
    order = repository.get_visible(session, g.actor, g.scope, order_id)
    if order is None:
        raise NotFound("no such order")
    return order


def _out(response: Response, order: Order) -> OrderOut:
    set_etag(response, order.id, order.version)
    return OrderOut.model_validate(order)


@router.get(
    "/orders",
    response_model=Page[OrderOut],
    summary="List orders of the clients you can see",
    responses={
        400: {"description": "Unknown sort field"},
        403: {"description": "Owner filter outside your scope"},
        **INVALID,
    },
)
def list_orders(
    session: DbSession,
    g: Read,
    paging: Paging,
    sort: SortParam = None,
    client_id: int | None = None,
    status: OrderStatus | None = None,
    owner_id: int | None = None,
    deal_id: int | None = None,
    paid_from: AwareDatetime | None = None,
    paid_to: AwareDatetime | None = None,
    created_from: AwareDatetime | None = None,
    created_to: AwareDatetime | None = None,
) -> Page[OrderOut]:
    if owner_id is not None and not owner_in_scope(session, g.actor, g.scope, owner_id):
        raise Forbidden(
            "you may not filter by that owner",
            [ErrorDetail("outside your scope", field="owner_id")],
        )
    query = repository.filtered_orders(
        repository.visible_to(g.actor, g.scope),
        client_id=client_id,
        status=status,
        owner_id=owner_id,
        deal_id=deal_id,
        paid_from=paid_from,
        paid_to=paid_to,
        created_from=created_from,
        created_to=created_to,
    )
    query = apply_sort(query, sort, SORTABLE, [Order.created_at.desc()], Order.id)
    rows, total = fetch_page(session, query, paging)
    return Page(
        items=[OrderOut.model_validate(o) for o in rows],
        total=total,
        page=paging.page,
        page_size=paging.page_size,
    )


@router.post(
    "/orders",
    response_model=OrderOut,
    status_code=201,
    summary="Create an order with its lines (status new)",
    responses={
        403: {"description": "Your role may not create orders, or owner outside your scope"},
        409: {"description": "Order number taken"},
        **INVALID,
    },
)
def create_order(
    body: OrderCreate,
    session: DbSession,
    response: Response,
    g: Annotated[Grant, grant("order", Action.CREATE)],
) -> OrderOut:
    order = order_service.create_order(session, actor=g.actor, scope=g.scope, data=body)
    return _out(response, order)


@router.get(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="Read an order with its lines",
    responses={**NOT_FOUND, **INVALID},
)
def read_order(order_id: int, session: DbSession, g: Read, response: Response) -> OrderOut:
    return _out(response, visible_order(session, g, order_id))


@router.patch(
    "/orders/{order_id}",
    response_model=OrderOut,
    summary="Change the deal link or replace the lines (lines: only new or confirmed orders)",
    responses={
        **NOT_FOUND,
        409: {"description": "Lines of an order past confirmed cannot change"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def update_order(
    order_id: int,
    body: OrderUpdate,
    request: Request,
    response: Response,
    session: DbSession,
    g: Update,
) -> OrderOut:
    order = visible_order(session, g, order_id)
    require_match(request, order.id, order.version)
    order = order_service.update_order(session, actor=g.actor, order=order, data=body)
    return _out(response, order)


@router.post(
    "/orders/{order_id}/status",
    response_model=OrderOut,
    summary="Move an order to another status (appended to its history)",
    responses={
        **NOT_FOUND,
        409: {"description": "transition_not_allowed: the table does not allow this move"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def change_status(
    order_id: int,
    body: StatusChangeIn,
    request: Request,
    response: Response,
    session: DbSession,
    g: Update,
) -> OrderOut:
    order = visible_order(session, g, order_id)
    require_match(request, order.id, order.version)
    order = order_service.change_status(session, actor=g.actor, order=order, data=body)
    return _out(response, order)


@router.get(
    "/orders/{order_id}/history",
    response_model=list[StatusChangeOut],
    summary="Status changes of an order, oldest first",
    responses={**NOT_FOUND, **INVALID},
)
def order_history(order_id: int, session: DbSession, g: Read) -> list[StatusChangeOut]:
    order = visible_order(session, g, order_id)
    return [StatusChangeOut.model_validate(c) for c in repository.status_history(session, order.id)]


@router.delete(
    "/orders/{order_id}",
    status_code=204,
    summary="Delete (hide) an order that was never paid",
    responses={
        **NOT_FOUND,
        409: {"description": "The order was paid; return it instead"},
        **PRECONDITIONS,
        **INVALID,
    },
)
def delete_order(
    order_id: int,
    request: Request,
    session: DbSession,
    g: Annotated[Grant, grant("order", Action.DELETE)],
) -> Response:
    order = visible_order(session, g, order_id)
    require_match(request, order.id, order.version)
    order_service.soft_delete_order(session, actor=g.actor, order=order)
    return Response(status_code=204)
