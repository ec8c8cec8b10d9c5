"""Queries on activities; ``visible_to`` applies the record scope for every read.

An activity with a client is visible exactly when its client is; one without a client (an
internal task or note) is visible by its owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, func, or_, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import client_bound_condition, owner_condition, visible_client_ids
from voronka.activity.models import Activity, ActivityKind, CallStatus
from voronka.client.models import Client
from voronka.deal.models import Deal

#: Name of the Unicode-aware lower() given to SQLite connections (see ``folded``).
SQLITE_LOWER = "voronka_lower"


def visible_condition(actor: Actor, scope: Scope) -> ColumnElement[bool]:
    """SQL condition: the activity is within ``scope`` for ``actor``."""
    return or_(
        and_(
            Activity.client_id.is_not(None),
            client_bound_condition(Activity.client_id, actor, scope),
        ),
        and_(Activity.client_id.is_(None), owner_condition(Activity.owner_id, actor, scope)),
    )


def visible_to(actor: Actor, scope: Scope) -> Select[tuple[Activity]]:
    """Live activities of the actor's workspace within ``scope``."""
    return select(Activity).where(
        Activity.workspace_id == actor.workspace_id,
        Activity.is_deleted.is_(False),
        visible_condition(actor, scope),
    )


def get_visible(session: Session, actor: Actor, scope: Scope, activity_id: int) -> Activity | None:
    return session.scalar(visible_to(actor, scope).where(Activity.id == activity_id))


def by_external_id(
    session: Session, workspace_id: int, kind: ActivityKind, external_id: str
) -> Activity | None:
    """The activity (deleted or not) a provider id names, whoever may see it."""
    return session.scalar(
        select(Activity).where(
            Activity.workspace_id == workspace_id,
            Activity.kind == kind,
            Activity.external_id == external_id,
        )
    )


def client_is_visible(session: Session, actor: Actor, scope: Scope, client_id: int) -> bool:
    """Whether the live client ``client_id`` is within ``scope`` (owner rules as for clients)."""
    visible = visible_client_ids(actor, scope).where(Client.id == client_id)
    return session.scalar(visible) is not None


def deal_of_client(
    session: Session, workspace_id: int, deal_id: int, client_id: int
) -> Deal | None:
    """The live deal ``deal_id`` if it belongs to ``client_id``."""
    return session.scalar(
        select(Deal).where(
            Deal.id == deal_id,
            Deal.workspace_id == workspace_id,
            Deal.client_id == client_id,
            Deal.is_deleted.is_(False),
        )
    )


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def folded(session: Session, column: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """``column`` lower-cased by Unicode rules, identically on SQLite and PostgreSQL.

    SQLite's built-in ``lower()`` only knows ASCII, so each connection gets Python's
    ``str.lower`` under another name. ``lower`` rather than ``casefold`` on both sides because
    PostgreSQL (before 18) has no casefold, and both engines must return the same rows.
    """
    if session.get_bind().dialect.name != "sqlite":
        return func.lower(column)
    raw = session.connection().connection.driver_connection
    raw.create_function(SQLITE_LOWER, 1, _lower, deterministic=True)  # type: ignore[union-attr]
    return getattr(func, SQLITE_LOWER)(column)


def text_matches(
    session: Session, columns: Sequence[SQLColumnExpression[Any]], like: str
) -> ColumnElement[bool]:
    """Any of ``columns`` matches ``like`` (a pre-escaped, lower-cased pattern) ignoring case."""
    return or_(*(folded(session, column).like(like, escape="\\") for column in columns))


def search(session: Session, like: str) -> ColumnElement[bool]:
    """Subject or body contains the text of the pre-escaped, lower-cased ``like`` pattern."""
    return text_matches(session, [Activity.subject, Activity.body], like)


def filtered(
    query: Select[tuple[Activity]],
    *,
    kind: ActivityKind | None = None,
    client_id: int | None = None,
    deal_id: int | None = None,
    owner_id: int | None = None,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
    call_status: CallStatus | None = None,
    is_open: bool | None = None,
    overdue_at: tuple[bool, datetime] | None = None,
    matching: ColumnElement[bool] | None = None,
) -> Select[tuple[Activity]]:
    """Narrow an activity query by the list filters.

    ``is_open`` and ``overdue_at`` (wanted value, now) select tasks only; ``matching`` comes
    from :func:`search`.
    """
    conditions: list[Any] = [] if matching is None else [matching]
    for column, value in (
        (Activity.kind, kind),
        (Activity.client_id, client_id),
        (Activity.deal_id, deal_id),
        (Activity.owner_id, owner_id),
        (Activity.call_status, call_status),
    ):
        if value is not None:
            conditions.append(column == value)
    if occurred_from is not None:
        conditions.append(Activity.occurred_at >= occurred_from)
    if occurred_to is not None:
        conditions.append(Activity.occurred_at < occurred_to)
    if is_open is not None:
        conditions += [Activity.kind == ActivityKind.TASK, _open_condition(is_open)]
    if overdue_at is not None:
        conditions += [Activity.kind == ActivityKind.TASK, _overdue_condition(*overdue_at)]
    return query.where(*conditions)


def _open_condition(is_open: bool) -> ColumnElement[bool]:
    return Activity.completed_at.is_(None) if is_open else Activity.completed_at.is_not(None)


def _overdue_condition(overdue: bool, now: datetime) -> ColumnElement[bool]:
    late = and_(Activity.completed_at.is_(None), Activity.due_at < now)
    if overdue:
        return late
    return or_(
        Activity.completed_at.is_not(None), Activity.due_at.is_(None), Activity.due_at >= now
    )


def open_tasks_of(query: Select[tuple[Activity]], user_id: int) -> Select[tuple[Activity]]:
    """The user's open tasks, soonest due first (tasks without a due time last)."""
    return query.where(
        Activity.kind == ActivityKind.TASK,
        Activity.owner_id == user_id,
        Activity.completed_at.is_(None),
    ).order_by(Activity.due_at.is_(None), Activity.due_at, Activity.id)


def reminders_due(query: Select[tuple[Activity]], now: datetime) -> Select[tuple[Activity]]:
    """Open tasks whose reminder time has come, earliest reminder first."""
    return query.where(
        Activity.kind == ActivityKind.TASK,
        Activity.completed_at.is_(None),
        Activity.remind_at <= now,
    ).order_by(Activity.remind_at, Activity.id)
