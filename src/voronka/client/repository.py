"""Queries on clients; ``visible_to`` applies the record scope for every read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, func, select, tuple_
from sqlalchemy.orm import Session, selectinload

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import owner_condition
from voronka.client.models import (
    Client,
    ClientKind,
    ClientTag,
    ConsentRecord,
    ContactKind,
    ContactPoint,
)


def visible_to(actor: Actor, scope: Scope) -> Select[tuple[Client]]:
    """Live clients of the actor's workspace within ``scope``."""
    return (
        select(Client)
        .where(
            Client.workspace_id == actor.workspace_id,
            Client.is_deleted.is_(False),
            owner_condition(Client.owner_id, actor, scope),
        )
        .options(selectinload(Client.contacts), selectinload(Client.tags))
    )


def get_visible(session: Session, actor: Actor, scope: Scope, client_id: int) -> Client | None:
    return session.scalar(visible_to(actor, scope).where(Client.id == client_id))


def filtered(
    query: Select[tuple[Client]],
    *,
    search: str | None = None,
    kind: ClientKind | None = None,
    owner_id: int | None = None,
    tag: str | None = None,
    company_id: int | None = None,
    source_channel_id: int | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    contact: tuple[ContactKind, str] | None = None,
    like: str | None = None,
) -> Select[tuple[Client]]:
    """Narrow a client query by the list filters (``like`` is a pre-escaped pattern)."""
    if like is not None:
        query = query.where(Client.search_text.like(like, escape="\\"))
    conditions: list[Any] = []
    if kind is not None:
        conditions.append(Client.kind == kind)
    if owner_id is not None:
        conditions.append(Client.owner_id == owner_id)
    if company_id is not None:
        conditions.append(Client.company_id == company_id)
    if source_channel_id is not None:
        conditions.append(Client.source_channel_id == source_channel_id)
    if created_from is not None:
        conditions.append(Client.created_at >= created_from)
    if created_to is not None:
        conditions.append(Client.created_at < created_to)
    if tag is not None:
        conditions.append(
            exists().where(ClientTag.client_id == Client.id, ClientTag.tag == tag.casefold())
        )
    if contact is not None:
        conditions.append(
            exists().where(
                ContactPoint.client_id == Client.id,
                ContactPoint.kind == contact[0],
                ContactPoint.value == contact[1],
            )
        )
    return query.where(*conditions)


def holders_of(
    session: Session, workspace_id: int, values: Sequence[tuple[ContactKind, str]]
) -> list[tuple[int, ContactKind, str]]:
    """Live clients holding any of these normalised contact values: (client id, kind, value)."""
    if not values:
        return []
    rows = session.execute(
        select(ContactPoint.client_id, ContactPoint.kind, ContactPoint.value)
        .join(Client, Client.id == ContactPoint.client_id)
        .where(
            ContactPoint.workspace_id == workspace_id,
            Client.is_deleted.is_(False),
            tuple_(ContactPoint.kind, ContactPoint.value).in_(list(values)),
        )
    )
    return [(r[0], r[1], r[2]) for r in rows]


def duplicate_groups(
    session: Session, actor: Actor, scope: Scope, limit: int
) -> list[tuple[ContactKind, str, list[int]]]:
    """Contact values shared by two or more clients visible to the actor."""
    visible = visible_to(actor, scope).with_only_columns(Client.id).options()
    shared = (
        select(ContactPoint.kind, ContactPoint.value)
        .where(ContactPoint.client_id.in_(visible))
        .group_by(ContactPoint.kind, ContactPoint.value)
        .having(func.count(func.distinct(ContactPoint.client_id)) > 1)
        .order_by(ContactPoint.kind, ContactPoint.value)
        .limit(limit)
    ).subquery()
    rows = session.execute(
        select(ContactPoint.kind, ContactPoint.value, ContactPoint.client_id)
        .join(shared, (shared.c.kind == ContactPoint.kind) & (shared.c.value == ContactPoint.value))
        .where(ContactPoint.client_id.in_(visible))
        .order_by(ContactPoint.kind, ContactPoint.value, ContactPoint.client_id)
    )
    groups: dict[tuple[ContactKind, str], list[int]] = {}
    for kind, value, client_id in rows:
        ids = groups.setdefault((kind, value), [])
        if client_id not in ids:
            ids.append(client_id)
    return [(kind, value, ids) for (kind, value), ids in groups.items()]


def consent_history(session: Session, client_id: int) -> list[ConsentRecord]:
    return list(
        session.scalars(
            select(ConsentRecord)
            .where(ConsentRecord.client_id == client_id)
            .order_by(ConsentRecord.occurred_at, ConsentRecord.id)
        )
    )
