"""Queries on marketing reference data, ad spend and touchpoints.

Channels, campaigns, spend and tracking numbers are shared by the workspace; touchpoints
are visible exactly when their client is, and anonymous ones only with the ``all`` scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import client_bound_condition, visible_client_ids
from voronka.campaign.models import (
    AdSpend,
    Campaign,
    Channel,
    ChannelKind,
    Touchpoint,
    TouchpointKind,
    TrackingNumber,
)
from voronka.client.models import Client
from voronka.deal.models import Deal

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
#: Rows per INSERT statement: keeps bound parameters under SQLite's limit of 32 766.
SPEND_CHUNK = 1000
SpendKey = tuple[int, date]

# -- channels -------------------------------------------------------------------------------


def _matching(*pairs: tuple[Any, Any]) -> list[Any]:
    """``column == value`` for each (column, value) pair whose value was given."""
    return [column == value for column, value in pairs if value is not None]


def channels_of(
    workspace_id: int, *, kind: ChannelKind | None = None, is_paid: bool | None = None
) -> Select[Channel]:
    """Channels of the workspace, optionally of one kind or paid/unpaid only."""
    return select(Channel).where(
        Channel.workspace_id == workspace_id,
        *_matching((Channel.kind, kind), (Channel.is_paid, is_paid)),
    )


def get_channel(session: Session, workspace_id: int, channel_id: int) -> Channel | None:
    return session.scalar(channels_of(workspace_id).where(Channel.id == channel_id))


def slug_taken(
    session: Session, workspace_id: int, slug: str, except_id: int | None = None
) -> bool:
    query = select(Channel.id).where(Channel.workspace_id == workspace_id, Channel.slug == slug)
    if except_id is not None:
        query = query.where(Channel.id != except_id)
    return session.scalar(query.limit(1)) is not None


def _any_exists(session: Session, conditions: Iterable[ColumnElement[bool]]) -> bool:
    return bool(session.scalar(select(or_(*(exists().where(c) for c in conditions)))))


def channel_in_use(session: Session, channel_id: int) -> bool:
    """Whether campaigns, numbers, touchpoints, clients or deals refer to the channel."""
    return _any_exists(
        session,
        [
            Campaign.channel_id == channel_id,
            TrackingNumber.channel_id == channel_id,
            Touchpoint.channel_id == channel_id,
            Client.source_channel_id == channel_id,
            Deal.channel_id == channel_id,
        ],
    )


# -- campaigns ------------------------------------------------------------------------------


def campaigns_of(
    workspace_id: int, *, channel_id: int | None = None, is_active: bool | None = None
) -> Select[Campaign]:
    """Campaigns of the workspace, optionally of one channel or active/inactive only."""
    return select(Campaign).where(
        Campaign.workspace_id == workspace_id,
        *_matching(
            (Campaign.channel_id, channel_id),
            (Campaign.is_active, is_active),
        ),
    )


def get_campaign(session: Session, workspace_id: int, campaign_id: int) -> Campaign | None:
    return session.scalar(campaigns_of(workspace_id).where(Campaign.id == campaign_id))


def existing_campaign_ids(session: Session, workspace_id: int, ids: Iterable[int]) -> set[int]:
    wanted = set(ids)
    if not wanted:
        return set()
    query = select(Campaign.id).where(
        Campaign.workspace_id == workspace_id, Campaign.id.in_(wanted)
    )
    return set(session.scalars(query))


def campaign_in_use(session: Session, campaign_id: int) -> bool:
    """Whether spend, numbers, touchpoints, clients or deals refer to the campaign."""
    return _any_exists(
        session,
        [
            AdSpend.campaign_id == campaign_id,
            TrackingNumber.campaign_id == campaign_id,
            Touchpoint.campaign_id == campaign_id,
            Client.source_campaign_id == campaign_id,
            Deal.campaign_id == campaign_id,
        ],
    )


def utm_candidates(
    session: Session, workspace_id: int, values: dict[str, str | None]
) -> list[Campaign]:
    """Campaigns whose every UTM value is absent or equal to the given one.

    A campaign with no UTM values at all never matches: it would match every visit.
    """
    conditions = []
    for name in UTM_FIELDS:
        column = getattr(Campaign, name)
        given = values.get(name)
        conditions.append(
            column.is_(None) if given is None else or_(column.is_(None), column == given)
        )
    defines_some = or_(*(getattr(Campaign, name).is_not(None) for name in UTM_FIELDS))
    return list(session.scalars(campaigns_of(workspace_id).where(*conditions, defines_some)))


# -- ad spend -------------------------------------------------------------------------------


def spend_conditions(
    workspace_id: int,
    *,
    campaign_id: int | None = None,
    channel_id: int | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
    currency: str | None = None,
) -> list[Any]:
    """WHERE conditions shared by the spend list and its totals (day range inclusive)."""
    conditions: list[Any] = [AdSpend.workspace_id == workspace_id]
    if campaign_id is not None:
        conditions.append(AdSpend.campaign_id == campaign_id)
    if channel_id is not None:
        of_channel = select(Campaign.id).where(Campaign.channel_id == channel_id)
        conditions.append(AdSpend.campaign_id.in_(of_channel))
    if day_from is not None:
        conditions.append(AdSpend.day >= day_from)
    if day_to is not None:
        conditions.append(AdSpend.day <= day_to)
    if currency is not None:
        conditions.append(AdSpend.currency == currency)
    return conditions


def spend_rows(conditions: Sequence[Any]) -> Select[AdSpend]:
    return select(AdSpend).where(*conditions)


def get_spend(session: Session, workspace_id: int, spend_id: int) -> AdSpend | None:
    return session.scalar(
        select(AdSpend).where(AdSpend.workspace_id == workspace_id, AdSpend.id == spend_id)
    )


def spend_totals(session: Session, conditions: Sequence[Any]) -> list[tuple[Any, ...]]:
    """(currency, cost, impressions, clicks, rows) per currency, summed in the database."""
    query = (
        select(
            AdSpend.currency,
            func.sum(AdSpend.cost),
            func.sum(AdSpend.impressions),
            func.sum(AdSpend.clicks),
            func.count(),
        )
        .where(*conditions)
        .group_by(AdSpend.currency)
        .order_by(AdSpend.currency)
    )
    return [tuple(row) for row in session.execute(query)]


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), SPEND_CHUNK):
        yield items[start : start + SPEND_CHUNK]


def stored_spend(session: Session, keys: Sequence[SpendKey]) -> dict[SpendKey, tuple[Any, ...]]:
    """Current values (cost, currency, impressions, clicks, source) of existing rows."""
    found: dict[SpendKey, tuple[Any, ...]] = {}
    for chunk in _chunks(keys):
        query = select(
            AdSpend.campaign_id,
            AdSpend.day,
            AdSpend.cost,
            AdSpend.currency,
            AdSpend.impressions,
            AdSpend.clicks,
            AdSpend.source,
        ).where(tuple_(AdSpend.campaign_id, AdSpend.day).in_(list(chunk)))
        for campaign_id, day, *values in session.execute(query):
            found[(campaign_id, day)] = tuple(values)
    return found


def upsert_spend(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, or overwrite the values of existing (campaign_id, day) rows.

    ``INSERT … ON CONFLICT DO UPDATE`` makes a concurrent re-send of the same rows safe.
    Both engines spell it the same way; only the import differs.
    """
    table = AdSpend.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for chunk in _chunks(rows):
        statement = dialect.insert(table).values(list(chunk))
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.campaign_id, table.c.day],
            set_={
                name: statement.excluded[name]
                for name in ("cost_minor", "currency", "impressions", "clicks", "source")
            },
        )
        session.execute(statement)


def spend_by_keys(session: Session, keys: Sequence[SpendKey]) -> dict[SpendKey, AdSpend]:
    """Rows for the keys, re-read so that values written by ``upsert_spend`` show."""
    found: dict[SpendKey, AdSpend] = {}
    for chunk in _chunks(keys):
        query = (
            select(AdSpend)
            .where(tuple_(AdSpend.campaign_id, AdSpend.day).in_(list(chunk)))
            .execution_options(populate_existing=True)
        )
        for row in session.scalars(query):
            found[(row.campaign_id, row.day)] = row
    return found


# -- tracking numbers -----------------------------------------------------------------------


def numbers_of(
    workspace_id: int,
    *,
    campaign_id: int | None = None,
    channel_id: int | None = None,
    is_active: bool | None = None,
) -> Select[TrackingNumber]:
    """Tracking numbers of the workspace, optionally narrowed."""
    return select(TrackingNumber).where(
        TrackingNumber.workspace_id == workspace_id,
        *_matching(
            (TrackingNumber.campaign_id, campaign_id),
            (TrackingNumber.channel_id, channel_id),
            (TrackingNumber.is_active, is_active),
        ),
    )


def get_number(session: Session, workspace_id: int, number_id: int) -> TrackingNumber | None:
    return session.scalar(numbers_of(workspace_id).where(TrackingNumber.id == number_id))


def find_number(session: Session, workspace_id: int, e164: str) -> TrackingNumber | None:
    return session.scalar(numbers_of(workspace_id).where(TrackingNumber.number == e164))


def number_taken(
    session: Session, workspace_id: int, e164: str, except_id: int | None = None
) -> bool:
    found = find_number(session, workspace_id, e164)
    return found is not None and found.id != except_id


# -- touchpoints ----------------------------------------------------------------------------


def touchpoints_visible_to(actor: Actor, scope: Scope) -> Select[Touchpoint]:
    """Touchpoints of the workspace within ``scope``; narrower scopes see only known clients'."""
    return select(Touchpoint).where(
        Touchpoint.workspace_id == actor.workspace_id,
        client_bound_condition(Touchpoint.client_id, actor, scope),
    )


def filtered_touchpoints(
    query: Select[Touchpoint],
    *,
    client_id: int | None = None,
    visitor_id: str | None = None,
    campaign_id: int | None = None,
    channel_id: int | None = None,
    kind: TouchpointKind | None = None,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
) -> Select[Touchpoint]:
    """Narrow a touchpoint query (the time range includes ``from`` and excludes ``to``)."""
    conditions = _matching(
        (Touchpoint.client_id, client_id),
        (Touchpoint.visitor_id, visitor_id),
        (Touchpoint.campaign_id, campaign_id),
        (Touchpoint.channel_id, channel_id),
        (Touchpoint.kind, kind),
    )
    if occurred_from is not None:
        conditions.append(Touchpoint.occurred_at >= occurred_from)
    if occurred_to is not None:
        conditions.append(Touchpoint.occurred_at < occurred_to)
    return query.where(*conditions)


def client_is_visible(session: Session, actor: Actor, scope: Scope, client_id: int) -> bool:
    query = visible_client_ids(actor, scope).where(Client.id == client_id)
    return session.scalar(query) is not None
