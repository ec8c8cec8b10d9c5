"""Products: the bulk product import's columns, so the catalogue moves as one file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.order.models import Product, ProductGroup
from voronka.transfer.exports import stream
from voronka.transfer.exports.spec import ExportEntity, ExportFilter, ExportSpec, FilterName

COLUMNS = ("sku", "name", "group", "price", "cost_price", "currency", "unit")


def _products(actor: Actor, f: ExportFilter) -> stream.Query:
    """The workspace's products (reference data: every role that may export sees all)."""
    query = select(Product.id).where(Product.workspace_id == actor.workspace_id)
    return stream.narrowed(query, f, date=Product.created_at)


def product_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    query = (
        _products(actor, f)
        .with_only_columns(
            Product.sku,
            Product.name,
            ProductGroup.name,
            Product.price,
            Product.cost_price,
            Product.currency,
            Product.unit,
        )
        .select_from(Product)
        .outerjoin(ProductGroup, ProductGroup.id == Product.group_id)
        .order_by(Product.id)
    )
    for page in stream.pages(session, query):
        yield from (tuple(row) for row in page)


def product_count(session: Session, actor: Actor, scope: Scope, f: ExportFilter) -> int:
    return stream.count(session, _products(actor, f))


PRODUCTS = ExportSpec(
    entity=ExportEntity.PRODUCTS,
    resource="product",
    columns=COLUMNS,
    filters=frozenset({FilterName.PERIOD}),
    date_column="created_at",
    rows=product_rows,
    count=product_count,
    personal=False,
)
