"""Deals, their stage history, and orders with their lines (one row per line).

Deals and orders are visible exactly when their client is (the repositories' ``visible_to``
conditions); a stage change is visible with its deal. The client's primary phone and e-mail
are looked up once per page, not once per row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.campaign.models import Campaign, Channel
from voronka.client.models import Client, ContactKind
from voronka.config import get_settings
from voronka.deal import repository as deal_repository
from voronka.deal.models import Deal, DealStageChange, DealStatus
from voronka.order import repository as order_repository
from voronka.order.models import Order, OrderLine, OrderStatus, OrderStatusChange, Product
from voronka.pipeline.models import Pipeline, Stage
from voronka.transfer.exports import stream
from voronka.transfer.exports.spec import ExportEntity, ExportFilter, ExportSpec, FilterName
from voronka.user.models import User

DEAL_COLUMNS: tuple[str, ...] = (
    *("id", "external_id", "title", "client_name", "phone", "email", "pipeline", "stage"),
    *("status", "amount", "currency", "owner", "source", "utm_source", "utm_campaign"),
    *("created_at", "closed_at", "lost_reason", "won_reason", "stage_history"),
)
STAGE_COLUMNS: tuple[str, ...] = (
    *("deal_id", "deal_title", "pipeline", "from_stage", "to_stage", "changed_at"),
    "changed_by",
)
ORDER_COLUMNS: tuple[str, ...] = (
    *("number", "status", "ordered_at", "paid_at", "status_at", "phone", "email", "owner"),
    *("source", "utm_source", "utm_medium", "utm_campaign", "currency", "total", "sku"),
    *("product_name", "quantity", "unit_price", "unit_cost", "line_total"),
)


def _deals(actor: Actor, scope: Scope, f: ExportFilter) -> stream.Query:
    query = select(Deal.id).where(stream.condition(deal_repository.visible_to(actor, scope)))
    return stream.narrowed(
        query,
        f,
        date=Deal.created_at,
        owner=Deal.owner_id,
        pipeline=Deal.pipeline_id,
        status=Deal.status,
    )


def deal_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    """One row per deal; the client by name, primary phone and e-mail (not by id, so the file
    imports into another workspace too); ``external_id`` is the deal's own, else its id."""
    # an alias: the scope's subquery on ``client`` must not correlate with this join
    owner, channel, client = aliased(User), aliased(Channel), aliased(Client)
    query = (
        _deals(actor, scope, f)
        .with_only_columns(
            Deal.id,
            Deal.external_id,
            Deal.title,
            Deal.client_id,
            client.name,
            Pipeline.name,
            Stage.name,
            Deal.status,
            Deal.amount,
            Deal.currency,
            owner.email,
            channel.slug,
            Campaign.utm_source,
            Campaign.utm_campaign,
            Deal.created_at,
            Deal.closed_at,
            Deal.lost_reason,
            Deal.custom_fields,
        )
        .select_from(Deal)
        .join(client, client.id == Deal.client_id)
        .join(Pipeline, Pipeline.id == Deal.pipeline_id)
        .join(Stage, Stage.id == Deal.stage_id)
        .outerjoin(owner, owner.id == Deal.owner_id)
        .outerjoin(channel, channel.id == Deal.channel_id)
        .outerjoin(Campaign, Campaign.id == Deal.campaign_id)
        .order_by(Deal.id)
    )
    for page in stream.pages(session, query):
        contacts = stream.contacts_of(session, [row[3] for row in page])
        histories = _histories(session, [row[0] for row in page])
        for row in page:
            deal_id, external_id, title, client_id, client_name, *middle = row
            pipeline, stage, status, *money_and_more = middle
            *rest, custom = money_and_more
            yield (
                deal_id,
                external_id or str(deal_id),
                title,
                client_name,
                stream.first_contact(contacts, client_id, ContactKind.PHONE),
                stream.first_contact(contacts, client_id, ContactKind.EMAIL),
                pipeline,
                stage,
                DealStatus(status).value,
                *rest,
                (custom or {}).get("won_reason"),
                histories.get(deal_id),
            )


def _histories(session: Session, deal_ids: list[int]) -> dict[int, str]:
    """Each deal's stage history as the bulk deal import reads it: ``New 2026-03-02T12:00:00
    +03:00; Qualified …`` (times in the workspace's zone, oldest first)."""
    zone = ZoneInfo(get_settings().timezone)
    query = (
        select(DealStageChange.deal_id, Stage.name, DealStageChange.changed_at)
        .join(Stage, Stage.id == DealStageChange.to_stage_id)
        .where(stream.among(session, DealStageChange.deal_id, deal_ids))
        .order_by(DealStageChange.deal_id, DealStageChange.changed_at, DealStageChange.id)
    )
    entries: dict[int, list[str]] = {}
    for deal_id, stage, changed_at in session.connection().execute(query).all():
        entries.setdefault(deal_id, []).append(f"{stage} {changed_at.astimezone(zone).isoformat()}")
    return {deal_id: "; ".join(parts) for deal_id, parts in entries.items()}


def deal_count(session: Session, actor: Actor, scope: Scope, f: ExportFilter) -> int:
    return stream.count(session, _deals(actor, scope, f))


def _stage_changes(actor: Actor, scope: Scope, f: ExportFilter) -> stream.Query:
    query = (
        select(DealStageChange.id)
        .join(Deal, Deal.id == DealStageChange.deal_id)
        .where(stream.condition(deal_repository.visible_to(actor, scope)))
    )
    return stream.narrowed(
        query,
        f,
        date=DealStageChange.changed_at,
        owner=Deal.owner_id,
        pipeline=Deal.pipeline_id,
    )


def stage_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    before, after, by = aliased(Stage), aliased(Stage), aliased(User)
    query = (
        _stage_changes(actor, scope, f)
        .with_only_columns(
            Deal.id,
            Deal.title,
            Pipeline.name,
            before.name,
            after.name,
            DealStageChange.changed_at,
            by.email,
        )
        .join(Pipeline, Pipeline.id == Deal.pipeline_id)
        .outerjoin(before, before.id == DealStageChange.from_stage_id)
        .join(after, after.id == DealStageChange.to_stage_id)
        .outerjoin(by, by.id == DealStageChange.changed_by_id)
        .order_by(DealStageChange.id)
    )
    for page in stream.pages(session, query):
        yield from (tuple(row) for row in page)


def stage_count(session: Session, actor: Actor, scope: Scope, f: ExportFilter) -> int:
    return stream.count(session, _stage_changes(actor, scope, f))


def _orders(actor: Actor, scope: Scope, f: ExportFilter) -> stream.Query:
    query = select(Order.id).where(stream.condition(order_repository.visible_to(actor, scope)))
    return stream.narrowed(
        query, f, date=Order.created_at, owner=Order.owner_id, status=Order.status
    )


def order_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    """One row per order line with the order's cells repeated (an order without lines: one
    row, line cells blank); the client by primary phone and e-mail, as for deals."""
    owner, channel = aliased(User), aliased(Channel)
    query = (
        _orders(actor, scope, f)
        .with_only_columns(
            Order.id,
            Order.number,
            Order.status,
            Order.created_at,
            Order.paid_at,
            Order.client_id,
            owner.email,
            channel.slug,
            Campaign.utm_source,
            Campaign.utm_medium,
            Campaign.utm_campaign,
            Order.currency,
            Order.total,
            Product.sku,
            Product.name,
            OrderLine.quantity,
            OrderLine.unit_price,
            OrderLine.unit_cost,
        )
        .select_from(Order)
        .outerjoin(owner, owner.id == Order.owner_id)
        .outerjoin(channel, channel.id == Order.channel_id)
        .outerjoin(Campaign, Campaign.id == Order.campaign_id)
        .outerjoin(OrderLine, OrderLine.order_id == Order.id)
        .outerjoin(Product, Product.id == OrderLine.product_id)
        .order_by(Order.id, OrderLine.id)
    )
    for page in stream.pages(session, query):
        contacts = stream.contacts_of(session, [row[5] for row in page])
        reached = _status_times(session, [row[0] for row in page])
        for row in page:
            order_id, number, status, ordered, paid, client_id, *middle = row
            *middle, quantity, price, cost = middle
            yield (
                number,
                OrderStatus(status).value,
                ordered,
                paid,
                reached.get(order_id),
                stream.first_contact(contacts, client_id, ContactKind.PHONE),
                stream.first_contact(contacts, client_id, ContactKind.EMAIL),
                *middle,
                quantity,
                price,
                cost,
                _line_total(quantity, price),
            )


def _status_times(session: Session, order_ids: list[int]) -> dict[int, datetime]:
    """When each order reached its current status (its last status change)."""
    query = (
        select(OrderStatusChange.order_id, func.max(OrderStatusChange.changed_at))
        .where(stream.among(session, OrderStatusChange.order_id, sorted(set(order_ids))))
        .group_by(OrderStatusChange.order_id)
    )
    return {
        order_id: _aware_utc(moment)
        for order_id, moment in session.connection().execute(query).all()
        if moment is not None
    }


def _aware_utc(moment: datetime | str) -> datetime:
    """``max()`` loses the column type on SQLite (text comes back): read it as stored UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _line_total(quantity: int | None, price: Decimal | None) -> Decimal | None:
    return None if quantity is None or price is None else price * quantity


def order_count(session: Session, actor: Actor, scope: Scope, f: ExportFilter) -> int:
    query = (
        _orders(actor, scope, f)
        .with_only_columns(Order.id, OrderLine.id)
        .select_from(Order)
        .outerjoin(OrderLine, OrderLine.order_id == Order.id)
    )
    return stream.count(session, query)


DEALS = ExportSpec(
    entity=ExportEntity.DEALS,
    resource="deal",
    columns=DEAL_COLUMNS,
    filters=frozenset(FilterName) - {FilterName.KIND},
    date_column="created_at",
    rows=deal_rows,
    count=deal_count,
    statuses=frozenset(s.value for s in DealStatus),
)
DEAL_STAGES = ExportSpec(
    entity=ExportEntity.DEAL_STAGES,
    resource="deal",
    columns=STAGE_COLUMNS,
    filters=frozenset({FilterName.OWNER, FilterName.PERIOD, FilterName.PIPELINE}),
    date_column="changed_at",
    rows=stage_rows,
    count=stage_count,
)
ORDERS = ExportSpec(
    entity=ExportEntity.ORDERS,
    resource="order",
    columns=ORDER_COLUMNS,
    filters=frozenset({FilterName.OWNER, FilterName.PERIOD, FilterName.STATUS}),
    date_column="created_at (ordered_at)",
    rows=order_rows,
    count=order_count,
    statuses=frozenset(s.value for s in OrderStatus),
)
