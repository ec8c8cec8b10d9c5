"""Merging duplicate clients: every fact moves to the survivor, nothing is lost."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.activity.models import Activity
from voronka.audit import service as audit
from voronka.campaign.models import Touchpoint
from voronka.client.models import Client, ClientTag, ConsentRecord, ContactPoint
from voronka.deal.models import Deal
from voronka.errors import ErrorDetail, InvalidInput
from voronka.order.models import Order
from voronka.support.models import Feedback, Ticket

#: Tables whose rows belong to a client through ``client_id`` and simply move.
CLIENT_FACTS = (Deal, Activity, Order, Ticket, Feedback, ConsentRecord, Touchpoint)


def _move_unique_children(session: Session, target: Client, source_ids: list[int]) -> None:
    """Move contact points and tags, dropping values the survivor already has."""
    kept_contacts = {(c.kind, c.value) for c in target.contacts}
    kept_tags = {t.tag for t in target.tags}
    for point in session.scalars(
        select(ContactPoint).where(ContactPoint.client_id.in_(source_ids))
    ):
        if (point.kind, point.value) in kept_contacts:
            session.delete(point)
        else:
            kept_contacts.add((point.kind, point.value))
            point.client_id, point.is_primary = target.id, False
    for tag in session.scalars(select(ClientTag).where(ClientTag.client_id.in_(source_ids))):
        if tag.tag in kept_tags:
            session.delete(tag)
        else:
            kept_tags.add(tag.tag)
            tag.client_id = target.id


def merge(session: Session, *, actor: Actor, target: Client, sources: list[Client]) -> Client:
    """Merge ``sources`` into ``target``; sources become deleted and point at the target."""
    source_ids = [s.id for s in sources]
    if target.id in source_ids:
        raise InvalidInput(
            "a client cannot be merged into itself",
            [ErrorDetail("contains the target", field="source_ids")],
        )
    _move_unique_children(session, target, source_ids)
    session.flush()
    for model in CLIENT_FACTS:
        session.execute(
            update(model).where(model.client_id.in_(source_ids)).values(client_id=target.id),
            execution_options={"synchronize_session": False},
        )
    session.execute(
        update(Client).where(Client.company_id.in_(source_ids)).values(company_id=target.id),
        execution_options={"synchronize_session": False},
    )
    # Clients merged earlier into a source now point at the survivor, so one lookup of
    # merged_into_id always lands on a live client (the analytics snapshot relies on it).
    session.execute(
        update(Client)
        .where(Client.merged_into_id.in_(source_ids))
        .values(merged_into_id=target.id),
        execution_options={"synchronize_session": False},
    )
    now = clock.now()
    for source in sources:
        source.is_deleted, source.deleted_at, source.merged_into_id = True, now, target.id
        audit.record(
            session,
            actor,
            action="merge",
            entity="client",
            entity_id=source.id,
            detail={"merged_into": target.id},
        )
    target.updated_at = now
    session.flush()
    session.expire(target)
    audit.record(
        session,
        actor,
        action="merge",
        entity="client",
        entity_id=target.id,
        detail={"merged_from": source_ids},
    )
    return target


__all__ = ["CLIENT_FACTS", "merge"]
