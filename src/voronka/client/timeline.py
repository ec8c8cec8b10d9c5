"""One client's timeline: every interaction from every domain, newest first."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from voronka.activity.models import Activity
from voronka.campaign.models import Touchpoint
from voronka.client.models import ConsentRecord
from voronka.client.schemas import TimelineItem
from voronka.deal.models import Deal, DealStageChange
from voronka.order.models import Order, OrderStatusChange
from voronka.pipeline.models import Stage
from voronka.support.models import Feedback, Ticket

Source = Callable[[Session, int, datetime | None, int], list[TimelineItem]]


def _newest(
    session: Session, query: Any, at: ColumnElement[datetime], before: datetime | None, limit: int
) -> list[Any]:
    if before is not None:
        query = query.where(at < before)
    return list(session.execute(query.order_by(at.desc()).limit(limit)))


def _deals(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    rows = _newest(
        session, select(Deal).where(Deal.client_id == client_id), Deal.created_at, before, limit
    )
    return [
        TimelineItem(
            at=d.created_at,
            type="deal",
            id=d.id,
            summary=d.title,
            data={
                "amount": str(d.amount),
                "currency": d.currency,
                "status": d.status.value,
                "stage_id": d.stage_id,
            },
        )
        for (d,) in rows
    ]


def _stage_changes(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    query = (
        select(DealStageChange, Stage.name)
        .join(Deal, Deal.id == DealStageChange.deal_id)
        .join(Stage, Stage.id == DealStageChange.to_stage_id)
        .where(Deal.client_id == client_id, DealStageChange.from_stage_id.is_not(None))
    )
    rows = _newest(session, query, DealStageChange.changed_at, before, limit)
    return [
        TimelineItem(
            at=c.changed_at,
            type="stage_change",
            id=c.id,
            summary=f"→ {name}",
            data={
                "deal_id": c.deal_id,
                "from_stage_id": c.from_stage_id,
                "to_stage_id": c.to_stage_id,
                "by": c.changed_by_id,
            },
        )
        for c, name in rows
    ]


def _activities(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    query = select(Activity).where(Activity.client_id == client_id, Activity.is_deleted.is_(False))
    rows = _newest(session, query, Activity.occurred_at, before, limit)
    return [
        TimelineItem(
            at=a.occurred_at,
            type=a.kind.value,
            id=a.id,
            summary=a.subject or (a.body or "")[:120],
            data={
                k: v
                for k, v in {
                    "deal_id": a.deal_id,
                    "owner_id": a.owner_id,
                    "direction": a.direction.value if a.direction else None,
                    "call_status": a.call_status.value if a.call_status else None,
                    "talk_seconds": a.talk_seconds,
                    "wait_seconds": a.wait_seconds,
                    "due_at": a.due_at.isoformat() if a.due_at else None,
                    "completed_at": a.completed_at.isoformat() if a.completed_at else None,
                }.items()
                if v is not None
            },
        )
        for (a,) in rows
    ]


def _orders(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    query = select(Order).where(Order.client_id == client_id, Order.is_deleted.is_(False))
    rows = _newest(session, query, Order.created_at, before, limit)
    return [
        TimelineItem(
            at=o.created_at,
            type="order",
            id=o.id,
            summary=f"№ {o.number}",
            data={"total": str(o.total), "currency": o.currency, "status": o.status.value},
        )
        for (o,) in rows
    ]


def _order_statuses(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    query = (
        select(OrderStatusChange)
        .join(Order, Order.id == OrderStatusChange.order_id)
        .where(Order.client_id == client_id, OrderStatusChange.from_status.is_not(None))
    )
    rows = _newest(session, query, OrderStatusChange.changed_at, before, limit)
    return [
        TimelineItem(
            at=c.changed_at,
            type="order_status",
            id=c.id,
            summary=f"{c.from_status.value if c.from_status else ''} → {c.to_status.value}",
            data={"order_id": c.order_id, "to_status": c.to_status.value},
        )
        for (c,) in rows
    ]


def _tickets(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    query = select(Ticket).where(Ticket.client_id == client_id, Ticket.is_deleted.is_(False))
    rows = _newest(session, query, Ticket.created_at, before, limit)
    return [
        TimelineItem(
            at=t.created_at,
            type="ticket",
            id=t.id,
            summary=t.subject,
            data={"status": t.status.value, "priority": t.priority.value},
        )
        for (t,) in rows
    ]


def _feedback(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    rows = _newest(
        session,
        select(Feedback).where(Feedback.client_id == client_id),
        Feedback.created_at,
        before,
        limit,
    )
    return [
        TimelineItem(
            at=f.created_at,
            type="feedback",
            id=f.id,
            summary=f"{f.kind.value.upper()} {f.score}",
            data={"kind": f.kind.value, "score": f.score, "comment": f.comment},
        )
        for (f,) in rows
    ]


def _touchpoints(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    rows = _newest(
        session,
        select(Touchpoint).where(Touchpoint.client_id == client_id),
        Touchpoint.occurred_at,
        before,
        limit,
    )
    return [
        TimelineItem(
            at=t.occurred_at,
            type="touchpoint",
            id=t.id,
            summary=f"{t.kind.value}: {t.utm_source or t.referrer or 'direct'}",
            data={
                "kind": t.kind.value,
                "channel_id": t.channel_id,
                "campaign_id": t.campaign_id,
                "pages": t.pages,
                "seconds_on_site": t.seconds_on_site,
                "landing_page": t.landing_page,
            },
        )
        for (t,) in rows
    ]


def _consents(
    session: Session, client_id: int, before: datetime | None, limit: int
) -> list[TimelineItem]:
    rows = _newest(
        session,
        select(ConsentRecord).where(ConsentRecord.client_id == client_id),
        ConsentRecord.occurred_at,
        before,
        limit,
    )
    return [
        TimelineItem(
            at=c.occurred_at,
            type="consent",
            id=c.id,
            summary=f"{c.purpose.value}: {'granted' if c.granted else 'withdrawn'}",
            data={"purpose": c.purpose.value, "granted": c.granted, "method": c.method.value},
        )
        for (c,) in rows
    ]


SOURCES: tuple[Source, ...] = (
    _deals,
    _stage_changes,
    _activities,
    _orders,
    _order_statuses,
    _tickets,
    _feedback,
    _touchpoints,
    _consents,
)


def timeline(
    session: Session, client_id: int, *, before: datetime | None, limit: int
) -> tuple[list[TimelineItem], datetime | None]:
    """Newest ``limit`` items older than ``before``, and the cursor for the next page.

    Each source returns at most ``limit`` newest rows, so merging them is exact.
    """
    streams: list[Iterator[TimelineItem]] = [
        iter(source(session, client_id, before, limit + 1)) for source in SOURCES
    ]
    merged = list(
        heapq.merge(*streams, key=lambda item: (item.at, item.type, item.id), reverse=True)
    )
    page = merged[:limit]
    more = len(merged) > limit
    # Items sharing the cursor instant would be skipped by `at < before`; stop before them.
    if more and page and merged[limit].at == page[-1].at:
        cut = page[-1].at
        page = [item for item in page if item.at > cut] or page
    return page, (page[-1].at if more and page else None)
