"""Queries on product groups, products, stock levels and orders.

The catalogue is shared by the whole workspace; orders are visible exactly when their client
is (``access.scope.client_bound_condition``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, selectinload

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import client_bound_condition, visible_client_ids
from voronka.client.models import Client
from voronka.deal.models import Deal
from voronka.order.models import (
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    Product,
    ProductGroup,
    StockLevel,
)

# -- product groups -------------------------------------------------------------------------


def groups_of(workspace_id: int) -> Select[ProductGroup]:
    return select(ProductGroup).where(ProductGroup.workspace_id == workspace_id)


def get_group(session: Session, workspace_id: int, group_id: int) -> ProductGroup | None:
    return session.scalar(groups_of(workspace_id).where(ProductGroup.id == group_id))


def group_name_taken(
    session: Session, workspace_id: int, name: str, except_id: int | None = None
) -> bool:
    query = select(ProductGroup.id).where(
        ProductGroup.workspace_id == workspace_id, ProductGroup.name == name
    )
    if except_id is not None:
        query = query.where(ProductGroup.id != except_id)
    return session.scalar(query.limit(1)) is not None


def ancestor_ids(session: Session, group_id: int) -> set[int]:
    """Ids of ``group_id`` and every group above it."""
    chain = (
        select(ProductGroup.id, ProductGroup.parent_id)
        .where(ProductGroup.id == group_id)
        .cte("ancestors", recursive=True)
    )
    chain = chain.union(
        select(ProductGroup.id, ProductGroup.parent_id).join(
            chain, ProductGroup.id == chain.c.parent_id
        )
    )
    return set(session.scalars(select(chain.c.id)))


def subtree_ids(group_id: int) -> Select[int]:
    """Ids of ``group_id`` and every group below it, as a subquery."""
    tree = select(ProductGroup.id).where(ProductGroup.id == group_id).cte("subtree", recursive=True)
    tree = tree.union(select(ProductGroup.id).where(ProductGroup.parent_id == tree.c.id))
    return select(tree.c.id)


def group_in_use(session: Session, group_id: int) -> bool:
    """Whether a group still has subgroups or products."""
    has_children = exists().where(ProductGroup.parent_id == group_id)
    has_products = exists().where(Product.group_id == group_id)
    return bool(session.scalar(select(has_children | has_products)))


# -- products -------------------------------------------------------------------------------


def products_of(workspace_id: int) -> Select[Product]:
    return select(Product).where(Product.workspace_id == workspace_id)


def get_product(session: Session, workspace_id: int, product_id: int) -> Product | None:
    return session.scalar(products_of(workspace_id).where(Product.id == product_id))


def products_by_id(
    session: Session, workspace_id: int, product_ids: Iterable[int]
) -> dict[int, Product]:
    wanted = set(product_ids)
    if not wanted:
        return {}
    rows = session.scalars(products_of(workspace_id).where(Product.id.in_(wanted)))
    return {product.id: product for product in rows}


def sku_taken(session: Session, workspace_id: int, sku: str, except_id: int | None = None) -> bool:
    query = select(Product.id).where(Product.workspace_id == workspace_id, Product.sku == sku)
    if except_id is not None:
        query = query.where(Product.id != except_id)
    return session.scalar(query.limit(1)) is not None


def product_in_use(session: Session, product_id: int) -> bool:
    """Whether order lines or stock snapshots refer to the product."""
    in_orders = exists().where(OrderLine.product_id == product_id)
    in_stock = exists().where(StockLevel.product_id == product_id)
    return bool(session.scalar(select(in_orders | in_stock)))


def filtered_products(
    query: Select[Product],
    *,
    sku: str | None = None,
    group_id: int | None = None,
    is_active: bool | None = None,
    currency: str | None = None,
) -> Select[Product]:
    """Narrow a product query; ``group_id`` includes the products of its subgroups."""
    conditions: list[Any] = []
    if sku is not None:
        conditions.append(Product.sku == sku)
    if group_id is not None:
        conditions.append(Product.group_id.in_(subtree_ids(group_id)))
    if is_active is not None:
        conditions.append(Product.is_active.is_(is_active))
    if currency is not None:
        conditions.append(Product.currency == currency)
    return query.where(*conditions)


# -- stock levels ---------------------------------------------------------------------------


def stock_level(
    session: Session, product_id: int, warehouse: str, as_of: date
) -> StockLevel | None:
    return session.scalar(
        select(StockLevel).where(
            StockLevel.product_id == product_id,
            StockLevel.warehouse == warehouse,
            StockLevel.as_of == as_of,
        )
    )


def stock_levels_of(
    product_id: int,
    *,
    warehouse: str | None = None,
    as_of_from: date | None = None,
    as_of_to: date | None = None,
) -> Select[StockLevel]:
    """Snapshots of one product, narrowed by warehouse and an inclusive day range."""
    query = select(StockLevel).where(StockLevel.product_id == product_id)
    if warehouse is not None:
        query = query.where(StockLevel.warehouse == warehouse)
    if as_of_from is not None:
        query = query.where(StockLevel.as_of >= as_of_from)
    if as_of_to is not None:
        query = query.where(StockLevel.as_of <= as_of_to)
    return query


# -- orders ---------------------------------------------------------------------------------


def visible_to(actor: Actor, scope: Scope) -> Select[Order]:
    """Live orders of the actor's workspace whose client is within ``scope``."""
    return (
        select(Order)
        .where(
            Order.workspace_id == actor.workspace_id,
            Order.is_deleted.is_(False),
            client_bound_condition(Order.client_id, actor, scope),
        )
        .options(selectinload(Order.lines))
    )


def get_visible(session: Session, actor: Actor, scope: Scope, order_id: int) -> Order | None:
    return session.scalar(visible_to(actor, scope).where(Order.id == order_id))


def filtered_orders(
    query: Select[Order],
    *,
    client_id: int | None = None,
    status: OrderStatus | None = None,
    owner_id: int | None = None,
    deal_id: int | None = None,
    paid_from: datetime | None = None,
    paid_to: datetime | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> Select[Order]:
    """Narrow an order query by the list filters (ranges include ``from``, exclude ``to``)."""
    equal = {
        Order.client_id: client_id,
        Order.status: status,
        Order.owner_id: owner_id,
        Order.deal_id: deal_id,
    }
    conditions: list[Any] = [
        column == value for column, value in equal.items() if value is not None
    ]
    if paid_from is not None:
        conditions.append(Order.paid_at >= paid_from)
    if paid_to is not None:
        conditions.append(Order.paid_at < paid_to)
    if created_from is not None:
        conditions.append(Order.created_at >= created_from)
    if created_to is not None:
        conditions.append(Order.created_at < created_to)
    return query.where(*conditions)


def number_taken(session: Session, workspace_id: int, number: str) -> bool:
    query = select(Order.id).where(Order.workspace_id == workspace_id, Order.number == number)
    return session.scalar(query.limit(1)) is not None


def status_history(session: Session, order_id: int) -> list[OrderStatusChange]:
    """Every status change of an order, oldest first."""
    return list(
        session.scalars(
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id == order_id)
            .order_by(OrderStatusChange.changed_at, OrderStatusChange.id)
        )
    )


def last_change_at(session: Session, order_id: int) -> datetime | None:
    return session.scalar(
        select(OrderStatusChange.changed_at)
        .where(OrderStatusChange.order_id == order_id)
        .order_by(OrderStatusChange.changed_at.desc(), OrderStatusChange.id.desc())
        .limit(1)
    )


# -- what orders refer to -------------------------------------------------------------------


def visible_client(session: Session, actor: Actor, scope: Scope, client_id: int) -> Client | None:
    """The live client if ``scope`` covers it (for attaching records to it)."""
    return session.scalar(
        select(Client).where(
            Client.id == client_id, Client.id.in_(visible_client_ids(actor, scope))
        )
    )


def live_deal(session: Session, workspace_id: int, deal_id: int) -> Deal | None:
    return session.scalar(
        select(Deal).where(
            Deal.id == deal_id, Deal.workspace_id == workspace_id, Deal.is_deleted.is_(False)
        )
    )
