"""Activities and touchpoints: the bulk imports' columns, the client named by its contacts.

The client is given by its primary phone and e-mail (the keys the imports link by), not by
its id, so a file imports back into any workspace that holds the clients, a new one too.
Activities and touchpoints are visible exactly when their client is; touchpoints of unknown
visitors only within the ``all`` scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.activity import repository as activity_repository
from voronka.activity.models import Activity, ActivityKind, CallStatus, Direction
from voronka.campaign import repository as campaign_repository
from voronka.campaign.models import Channel, Touchpoint, TouchpointKind
from voronka.client.models import ContactKind
from voronka.transfer.exports import stream
from voronka.transfer.exports.spec import ExportEntity, ExportFilter, ExportSpec, FilterName
from voronka.user.models import User

ACTIVITY_COLUMNS: tuple[str, ...] = (
    *("kind", "occurred_at", "phone", "email", "owner", "subject", "body", "external_id"),
    *("direction", "call_status", "wait_seconds", "talk_seconds", "due_at"),
)
TOUCHPOINT_COLUMNS: tuple[str, ...] = (
    *("occurred_at", "kind", "visitor_id", "phone", "email", "source", "utm_source"),
    *("utm_medium", "utm_campaign", "referrer", "landing_page", "pages", "seconds_on_site"),
)


def _activities(actor: Actor, scope: Scope, f: ExportFilter) -> stream.Query:
    query = select(Activity.id).where(
        stream.condition(activity_repository.visible_to(actor, scope))
    )
    return stream.narrowed(
        query, f, date=Activity.occurred_at, owner=Activity.owner_id, kind=Activity.kind
    )


def activity_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    owner = aliased(User)
    query = (
        _activities(actor, scope, f)
        .with_only_columns(
            Activity.kind,
            Activity.occurred_at,
            Activity.client_id,
            owner.email,
            Activity.subject,
            Activity.body,
            Activity.external_id,
            Activity.direction,
            Activity.call_status,
            Activity.wait_seconds,
            Activity.talk_seconds,
            Activity.due_at,
        )
        .select_from(Activity)
        .outerjoin(owner, owner.id == Activity.owner_id)
        .order_by(Activity.id)
    )
    for page in stream.pages(session, query):
        contacts = stream.contacts_of(session, [r[2] for r in page if r[2] is not None])
        for kind, occurred, client_id, *rest in page:
            owner_email, subject, body, external, direction, status, *tail = rest
            yield (
                ActivityKind(kind).value,
                occurred,
                stream.first_contact(contacts, client_id, ContactKind.PHONE),
                stream.first_contact(contacts, client_id, ContactKind.EMAIL),
                owner_email,
                subject,
                body,
                external,
                Direction(direction).value if direction is not None else None,
                CallStatus(status).value if status is not None else None,
                *tail,
            )


def activity_count(session: Session, actor: Actor, scope: Scope, f: ExportFilter) -> int:
    return stream.count(session, _activities(actor, scope, f))


def _touchpoints(actor: Actor, scope: Scope, f: ExportFilter) -> stream.Query:
    visible = stream.condition(campaign_repository.touchpoints_visible_to(actor, scope))
    query = select(Touchpoint.id).where(visible)
    return stream.narrowed(query, f, date=Touchpoint.occurred_at, kind=Touchpoint.kind)


def touchpoint_rows(
    session: Session, actor: Actor, scope: Scope, f: ExportFilter
) -> Iterator[tuple[Any, ...]]:
    channel = aliased(Channel)
    query = (
        _touchpoints(actor, scope, f)
        .with_only_columns(
            Touchpoint.occurred_at,
            Touchpoint.kind,
            Touchpoint.visitor_id,
            Touchpoint.client_id,
            channel.slug,
            Touchpoint.utm_source,
            Touchpoint.utm_medium,
            Touchpoint.utm_campaign,
            Touchpoint.referrer,
            Touchpoint.landing_page,
            Touchpoint.pages,
            Touchpoint.seconds_on_site,
        )
        .select_from(Touchpoint)
        .outerjoin(channel, channel.id == Touchpoint.channel_id)
        .order_by(Touchpoint.id)
    )
    for page in stream.pages(session, query):
        contacts = stream.contacts_of(session, [r[3] for r in page if r[3] is not None])
        for occurred, kind, visitor, client_id, *rest in page:
            yield (
                occurred,
                TouchpointKind(kind).value,
                visitor,
                stream.first_contact(contacts, client_id, ContactKind.PHONE),
                stream.first_contact(contacts, client_id, ContactKind.EMAIL),
                *rest,
            )


def touchpoint_count(session: Session, actor: Actor, scope: Scope, f: ExportFilter) -> int:
    return stream.count(session, _touchpoints(actor, scope, f))


ACTIVITIES = ExportSpec(
    entity=ExportEntity.ACTIVITIES,
    resource="activity",
    columns=ACTIVITY_COLUMNS,
    filters=frozenset({FilterName.OWNER, FilterName.PERIOD, FilterName.KIND}),
    date_column="occurred_at",
    rows=activity_rows,
    count=activity_count,
    kinds=frozenset(k.value for k in ActivityKind),
)
TOUCHPOINTS = ExportSpec(
    entity=ExportEntity.TOUCHPOINTS,
    resource="touchpoint",
    columns=TOUCHPOINT_COLUMNS,
    filters=frozenset({FilterName.PERIOD, FilterName.KIND}),
    date_column="occurred_at",
    rows=touchpoint_rows,
    count=touchpoint_count,
    kinds=frozenset(k.value for k in TouchpointKind),
)
