"""Queries on deals; ``visible_to`` applies the record scope for every read.

A deal is visible exactly when its client is (``access.scope.client_bound_condition``).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import client_bound_condition
from voronka.db.functions import unicode_lower
from voronka.deal.models import Deal, DealStageChange, DealStatus

#: Name of the SQL function that lower-cases text by Unicode rules on SQLite (whose own
#: ``lower()`` only knows ASCII); registered on the connection before a title search.


@dataclass(frozen=True)
class DealFilter:
    """The list filters; ``None`` means "any". ``title_like`` is a pre-escaped LIKE pattern
    of lower-case text (see ``web.listing.like_pattern``)."""

    pipeline_id: int | None = None
    stage_id: int | None = None
    status: DealStatus | None = None
    owner_id: int | None = None
    client_id: int | None = None
    channel_id: int | None = None
    campaign_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    closed_from: datetime | None = None
    closed_to: datetime | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    title_like: str | None = None


def visible_to(actor: Actor, scope: Scope) -> Select[Deal]:
    """Live deals of the actor's workspace whose client is within ``scope``."""
    return select(Deal).where(
        Deal.workspace_id == actor.workspace_id,
        Deal.is_deleted.is_(False),
        client_bound_condition(Deal.client_id, actor, scope),
    )


def get_visible(session: Session, actor: Actor, scope: Scope, deal_id: int) -> Deal | None:
    return session.scalar(visible_to(actor, scope).where(Deal.id == deal_id))


def holder_of_external_id(session: Session, workspace_id: int, external_id: str) -> int | None:
    """The id of the workspace's deal (deleted ones too) with this external id, if any."""
    return session.scalar(
        select(Deal.id).where(Deal.workspace_id == workspace_id, Deal.external_id == external_id)
    )


def _equal_to(deal_filter: DealFilter) -> list[Any]:
    pairs: list[tuple[Any, Any]] = [
        (Deal.pipeline_id, deal_filter.pipeline_id),
        (Deal.stage_id, deal_filter.stage_id),
        (Deal.status, deal_filter.status),
        (Deal.owner_id, deal_filter.owner_id),
        (Deal.client_id, deal_filter.client_id),
        (Deal.channel_id, deal_filter.channel_id),
        (Deal.campaign_id, deal_filter.campaign_id),
    ]
    return [column == value for column, value in pairs if value is not None]


def _in_ranges(deal_filter: DealFilter) -> list[Any]:
    bounds: list[tuple[Any, Any, Any]] = [
        (Deal.created_at, deal_filter.created_from, deal_filter.created_to),
        (Deal.closed_at, deal_filter.closed_from, deal_filter.closed_to),
    ]
    conditions = [column >= low for column, low, _ in bounds if low is not None]
    conditions += [column < high for column, _, high in bounds if high is not None]
    if deal_filter.amount_min is not None:
        conditions.append(Deal.amount >= deal_filter.amount_min)
    if deal_filter.amount_max is not None:
        conditions.append(Deal.amount <= deal_filter.amount_max)
    return conditions


def filtered(session: Session, query: Select[Deal], deal_filter: DealFilter) -> Select[Deal]:
    """Narrow a deal query by the list filters."""
    conditions = _equal_to(deal_filter) + _in_ranges(deal_filter)
    if deal_filter.title_like is not None:
        conditions.append(unicode_lower(Deal.title).like(deal_filter.title_like, escape="\\"))
    return query.where(*conditions)


def history(session: Session, deal_id: int, limit: int) -> list[DealStageChange]:
    """The deal's stage changes, oldest first (at most ``limit``)."""
    return list(
        session.scalars(
            select(DealStageChange)
            .where(DealStageChange.deal_id == deal_id)
            .order_by(DealStageChange.changed_at, DealStageChange.id)
            .limit(limit)
        )
    )


def count_open_in(
    session: Session,
    actor: Actor,
    *,
    stage_ids: Collection[int] = (),
    pipeline_id: int | None = None,
) -> int:
    """Open live deals in any of ``stage_ids`` or in ``pipeline_id``, whoever owns them."""
    query = select(func.count()).where(
        Deal.workspace_id == actor.workspace_id,
        Deal.is_deleted.is_(False),
        Deal.status == DealStatus.OPEN,
    )
    if pipeline_id is not None:
        query = query.where(Deal.pipeline_id == pipeline_id)
    if stage_ids:
        query = query.where(Deal.stage_id.in_(list(stage_ids)))
    return session.scalar(query) or 0


def stage_totals(
    session: Session, visible: Select[Deal], pipeline_id: int
) -> list[tuple[int, str, int, Decimal]]:
    """(stage id, currency, number of deals, exact sum) of the visible deals of a pipeline."""
    query = (
        visible.where(Deal.pipeline_id == pipeline_id)
        .with_only_columns(Deal.stage_id, Deal.currency, func.count(), func.sum(Deal.amount))
        .group_by(Deal.stage_id, Deal.currency)
        .order_by(Deal.stage_id, Deal.currency)
    )
    return [(row[0], row[1], row[2], row[3]) for row in session.execute(query)]


def newest_per_stage(
    session: Session, visible: Select[Deal], pipeline_id: int, per_stage: int
) -> list[Deal]:
    """Up to ``per_stage`` visible deals of each stage, most recently entered first."""
    newest_first = (Deal.stage_entered_at.desc(), Deal.id.desc())
    ranked = (
        visible.where(Deal.pipeline_id == pipeline_id)
        .with_only_columns(
            Deal.id,
            func.row_number().over(partition_by=Deal.stage_id, order_by=newest_first).label("rank"),
        )
        .subquery()
    )
    return list(
        session.scalars(
            select(Deal)
            .join(ranked, ranked.c.id == Deal.id)
            .where(ranked.c.rank <= per_stage)
            .order_by(Deal.stage_id, *newest_first)
        )
    )
