"""Queries of saved segments."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Select, delete, insert, select
from sqlalchemy.orm import Session, selectinload

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import owner_condition, visible_client_ids
from voronka.client.models import Client, ContactKind, ContactPoint
from voronka.segment.models import Segment, SegmentMember

INSERT_BATCH = 5000
YIELD_PER = 500


def visible_to(actor: Actor, scope: Scope) -> Select[Any]:
    """Segments of the actor's workspace within ``scope`` (own/team: by their creator)."""
    return select(Segment).where(Segment.workspace_id == actor.workspace_id,
                                 owner_condition(Segment.created_by_id, actor, scope))


def by_name(session: Session, workspace_id: int, name: str) -> Segment | None:
    return session.scalar(select(Segment).where(Segment.workspace_id == workspace_id,
                                                Segment.name == name))


def live_client_ids(session: Session, workspace_id: int, ids: Iterable[int]) -> list[int]:
    """Those of ``ids`` that are live clients of the workspace, sorted."""
    wanted = sorted(set(ids))
    found: list[int] = []
    for start in range(0, len(wanted), INSERT_BATCH):
        chunk = wanted[start:start + INSERT_BATCH]
        found += session.scalars(select(Client.id).where(
            Client.workspace_id == workspace_id, Client.is_deleted.is_(False),
            Client.id.in_(chunk)))
    return sorted(found)


def add_members(session: Session, segment_id: int, client_ids: list[int]) -> None:
    for start in range(0, len(client_ids), INSERT_BATCH):
        session.execute(insert(SegmentMember), [
            {"segment_id": segment_id, "client_id": c}
            for c in client_ids[start:start + INSERT_BATCH]])


def delete_members(session: Session, segment_id: int) -> None:
    session.execute(delete(SegmentMember).where(SegmentMember.segment_id == segment_id))


def member_ids(segment_id: int) -> Select[Any]:
    return select(SegmentMember.client_id).where(SegmentMember.segment_id == segment_id)


def members_with_contacts(session: Session, segment_id: int, actor: Actor,
                          client_scope: Scope) -> Iterator[tuple[Any, ...]]:
    """``(id, name, phones, e-mails)`` of the members the actor may read, by client id."""
    query = (select(Client)
             .where(Client.id.in_(member_ids(segment_id)),
                    Client.id.in_(visible_client_ids(actor, client_scope)))
             .options(selectinload(Client.contacts))
             .order_by(Client.id)
             .execution_options(yield_per=YIELD_PER))
    for client in session.scalars(query):
        yield (client.id, client.name, _joined(client.contacts, ContactKind.PHONE),
               _joined(client.contacts, ContactKind.EMAIL))


def _joined(contacts: list[ContactPoint], kind: ContactKind) -> str | None:
    """The client's phones (or e-mails), primary first, in one cell."""
    chosen = sorted((c for c in contacts if c.kind is kind), key=lambda c: (not c.is_primary, c.id))
    return ", ".join(c.value for c in chosen) or None
