"""Queries on tickets and feedback; both are visible exactly when their client is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, case, func, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import client_bound_condition, visible_client_ids
from voronka.activity.repository import text_matches
from voronka.client.models import Client
from voronka.order.models import Order
from voronka.support.models import Feedback, FeedbackKind, Ticket, TicketPriority, TicketStatus

#: Priorities in their real order, so sorting by priority isn't alphabetical.
PRIORITY_RANK = case(
    {p: rank for rank, p in enumerate(TicketPriority)}, value=Ticket.priority, else_=-1
)


def client_is_visible(session: Session, actor: Actor, scope: Scope, client_id: int) -> bool:
    """Whether the live client ``client_id`` is within ``scope``."""
    return (
        session.scalar(visible_client_ids(actor, scope).where(Client.id == client_id)) is not None
    )


def order_of_client(
    session: Session, workspace_id: int, order_id: int, client_id: int
) -> Order | None:
    return session.scalar(
        select(Order).where(
            Order.id == order_id,
            Order.workspace_id == workspace_id,
            Order.client_id == client_id,
            Order.is_deleted.is_(False),
        )
    )


def ticket_of_client(
    session: Session, workspace_id: int, ticket_id: int, client_id: int
) -> Ticket | None:
    return session.scalar(
        select(Ticket).where(
            Ticket.id == ticket_id,
            Ticket.workspace_id == workspace_id,
            Ticket.client_id == client_id,
            Ticket.is_deleted.is_(False),
        )
    )


def tickets_visible_to(actor: Actor, scope: Scope) -> Select[tuple[Ticket]]:
    """Live tickets of the actor's workspace within ``scope``."""
    return select(Ticket).where(
        Ticket.workspace_id == actor.workspace_id,
        Ticket.is_deleted.is_(False),
        client_bound_condition(Ticket.client_id, actor, scope),
    )


def get_visible_ticket(
    session: Session, actor: Actor, scope: Scope, ticket_id: int
) -> Ticket | None:
    return session.scalar(tickets_visible_to(actor, scope).where(Ticket.id == ticket_id))


def ticket_search(session: Session, like: str) -> ColumnElement[bool]:
    """Subject or body contains the text of the pre-escaped, lower-cased ``like`` pattern."""
    return text_matches(session, [Ticket.subject, Ticket.body], like)


def _created_between(
    column: SQLColumnExpression[datetime], since: datetime | None, until: datetime | None
) -> list[Any]:
    conditions: list[Any] = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


def filtered_tickets(
    query: Select[tuple[Ticket]],
    *,
    status: TicketStatus | None = None,
    priority: TicketPriority | None = None,
    client_id: int | None = None,
    owner_id: int | None = None,
    order_id: int | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    matching: ColumnElement[bool] | None = None,
) -> Select[tuple[Ticket]]:
    """Narrow a ticket query by the list filters (``matching`` from :func:`ticket_search`)."""
    conditions = _created_between(Ticket.created_at, created_from, created_to)
    if matching is not None:
        conditions.append(matching)
    for column, value in (
        (Ticket.status, status),
        (Ticket.priority, priority),
        (Ticket.client_id, client_id),
        (Ticket.owner_id, owner_id),
        (Ticket.order_id, order_id),
    ):
        if value is not None:
            conditions.append(column == value)
    return query.where(*conditions)


def feedback_visible_to(actor: Actor, scope: Scope) -> Select[tuple[Feedback]]:
    """Feedback of the actor's workspace within ``scope``."""
    return select(Feedback).where(
        Feedback.workspace_id == actor.workspace_id,
        client_bound_condition(Feedback.client_id, actor, scope),
    )


def filtered_feedback(
    query: Select[tuple[Feedback]],
    *,
    kind: FeedbackKind | None = None,
    client_id: int | None = None,
    ticket_id: int | None = None,
    order_id: int | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> Select[tuple[Feedback]]:
    """Narrow a feedback query by the list filters."""
    conditions = _created_between(Feedback.created_at, created_from, created_to)
    for column, value in (
        (Feedback.kind, kind),
        (Feedback.client_id, client_id),
        (Feedback.ticket_id, ticket_id),
        (Feedback.order_id, order_id),
    ):
        if value is not None:
            conditions.append(column == value)
    return query.where(*conditions)


@dataclass(frozen=True)
class FeedbackCounts:
    """Counts behind the CSAT and NPS figures of one scope and period."""

    csat_count: int
    csat_total: int
    nps_count: int
    promoters: int
    detractors: int


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def feedback_counts(
    session: Session, actor: Actor, scope: Scope, since: datetime | None, until: datetime | None
) -> FeedbackCounts:
    """Count CSAT answers and their score sum, and NPS answers by group, in one query."""
    csat, nps = Feedback.kind == FeedbackKind.CSAT, Feedback.kind == FeedbackKind.NPS
    query = select(
        _count_where(csat),
        func.coalesce(func.sum(case((csat, Feedback.score), else_=0)), 0),
        _count_where(nps),
        _count_where(and_(nps, Feedback.score >= 9)),
        _count_where(and_(nps, Feedback.score <= 6)),
    ).where(
        Feedback.workspace_id == actor.workspace_id,
        client_bound_condition(Feedback.client_id, actor, scope),
        *_created_between(Feedback.created_at, since, until),
    )
    row = session.execute(query).one()
    return FeedbackCounts(*(int(value) for value in row))
