"""Queries of the site tracker and the number pool."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import client_bound_condition
from voronka.campaign.models import Touchpoint, TouchpointKind, TrackingKind, TrackingNumber
from voronka.tracking.models import (
    NumberReservation,
    Site,
    SiteGoal,
    SitePageView,
    SiteVisit,
    SiteVisitor,
)

# -- sites ------------------------------------------------------------------------------------


def site_by_key(session: Session, site_key: str) -> Site | None:
    return session.scalar(select(Site).where(Site.site_key == site_key))


def sites_of(workspace_id: int) -> Select[Site]:
    return select(Site).where(Site.workspace_id == workspace_id).order_by(Site.id)


def get_site(session: Session, workspace_id: int, site_id: int) -> Site | None:
    return session.scalar(select(Site).where(Site.workspace_id == workspace_id, Site.id == site_id))


# -- visitors and visits ----------------------------------------------------------------------


def visitor_by_key(
    session: Session, site_id: int, visitor_key: str, *, lock: bool = False
) -> SiteVisitor | None:
    query = select(SiteVisitor).where(
        SiteVisitor.site_id == site_id, SiteVisitor.visitor_key == visitor_key
    )
    return session.scalar(query.with_for_update() if lock else query)


def visitor_in_workspace(
    session: Session, workspace_id: int, visitor_key: str
) -> SiteVisitor | None:
    return session.scalar(
        select(SiteVisitor)
        .where(SiteVisitor.workspace_id == workspace_id, SiteVisitor.visitor_key == visitor_key)
        .order_by(SiteVisitor.last_seen_at.desc())
        .limit(1)
    )


def latest_visit(session: Session, visitor_id: int) -> SiteVisit | None:
    return session.scalar(
        select(SiteVisit)
        .where(SiteVisit.visitor_id == visitor_id)
        .order_by(SiteVisit.last_activity_at.desc(), SiteVisit.id.desc())
        .limit(1)
    )


def view_of_visitor(
    session: Session, visitor_id: int, view_key: str
) -> tuple[SitePageView, SiteVisit] | None:
    """The page view with this key among the visitor's visits, with its visit."""
    row = session.execute(
        select(SitePageView, SiteVisit)
        .join(SiteVisit, SiteVisit.id == SitePageView.visit_id)
        .where(SiteVisit.visitor_id == visitor_id, SitePageView.view_key == view_key)
        .order_by(SiteVisit.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def idle_visit_ids(
    session: Session, idle_before: datetime, limit: int, workspace_id: int | None = None
) -> list[int]:
    """Open visits whose last activity is at or before ``idle_before``, oldest first."""
    query = select(SiteVisit.id).where(
        SiteVisit.ended_at.is_(None), SiteVisit.last_activity_at <= idle_before
    )
    if workspace_id is not None:
        query = query.where(SiteVisit.workspace_id == workspace_id)
    return list(session.scalars(query.order_by(SiteVisit.last_activity_at).limit(limit)))


def goal_exists(session: Session, visit_id: int, event_key: str) -> bool:
    return bool(
        session.scalar(
            select(exists().where(SiteGoal.visit_id == visit_id, SiteGoal.event_key == event_key))
        )
    )


def visits_visible_to(actor: Actor, scope: Scope) -> Select[SiteVisit]:
    """Visits of visitors within scope; anonymous visitors only for company-wide scope."""
    return (
        select(SiteVisit)
        .join(SiteVisitor, SiteVisitor.id == SiteVisit.visitor_id)
        .where(
            SiteVisit.workspace_id == actor.workspace_id,
            client_bound_condition(SiteVisitor.client_id, actor, scope),
        )
    )


def visitors_by_id(session: Session, ids: set[int]) -> dict[int, SiteVisitor]:
    if not ids:
        return {}
    return {v.id: v for v in session.scalars(select(SiteVisitor).where(SiteVisitor.id.in_(ids)))}


# -- the number pool --------------------------------------------------------------------------


def pool_numbers(session: Session, workspace_id: int) -> list[TrackingNumber]:
    """Active dynamic numbers of the workspace: the pool."""
    return list(
        session.scalars(
            select(TrackingNumber)
            .where(
                TrackingNumber.workspace_id == workspace_id,
                TrackingNumber.kind == TrackingKind.DYNAMIC,
                TrackingNumber.is_active.is_(True),
            )
            .order_by(TrackingNumber.id)
        )
    )


def _held(at: datetime):  # type: ignore[no-untyped-def]
    return and_(NumberReservation.reserved_at <= at, NumberReservation.held_until > at)


def held_number_ids(session: Session, workspace_id: int, at: datetime) -> set[int]:
    return set(
        session.scalars(
            select(NumberReservation.tracking_number_id).where(
                NumberReservation.workspace_id == workspace_id,
                NumberReservation.tracking_number_id.is_not(None),
                _held(at),
            )
        )
    )


def last_release(session: Session, number_ids: Sequence[int]) -> dict[int, datetime]:
    """When each number was last released (numbers never reserved are absent)."""
    if not number_ids:
        return {}
    rows = session.execute(
        select(NumberReservation.tracking_number_id, func.max(NumberReservation.held_until))
        .where(NumberReservation.tracking_number_id.in_(number_ids))
        .group_by(NumberReservation.tracking_number_id)
    )
    return {number_id: held for number_id, held in rows if number_id is not None}


def lock_number(session: Session, number_id: int) -> bool:
    """Lock a pool number row for this transaction; False when another holds it (PostgreSQL).

    SQLite writers run one at a time (``BEGIN IMMEDIATE``), so there the lock is implicit.
    """
    if session.get_bind().dialect.name != "postgresql":
        return True
    locked = session.scalar(
        select(TrackingNumber.id)
        .where(TrackingNumber.id == number_id)
        .with_for_update(skip_locked=True)
    )
    return locked is not None


def number_is_held(session: Session, number_id: int, at: datetime) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(NumberReservation.tracking_number_id == number_id, _held(at))
            )
        )
    )


def live_reservation(session: Session, visit_id: int, at: datetime) -> NumberReservation | None:
    return session.scalar(
        select(NumberReservation)
        .where(NumberReservation.visit_id == visit_id, _held(at))
        .order_by(NumberReservation.id.desc())
        .limit(1)
    )


def reservation_at(
    session: Session, number_id: int, at: datetime
) -> tuple[NumberReservation, SiteVisit, SiteVisitor] | None:
    row = session.execute(
        select(NumberReservation, SiteVisit, SiteVisitor)
        .join(SiteVisit, SiteVisit.id == NumberReservation.visit_id)
        .join(SiteVisitor, SiteVisitor.id == SiteVisit.visitor_id)
        .where(NumberReservation.tracking_number_id == number_id, _held(at))
        .order_by(NumberReservation.reserved_at.desc())
        .limit(1)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def reservation_counts(
    session: Session, workspace_id: int, since: datetime, until: datetime
) -> tuple[int, int]:
    """(pool reservations, fallbacks to the default number) made in [since, until)."""
    pooled = NumberReservation.tracking_number_id.is_not(None)
    row = session.execute(
        select(
            func.count().filter(pooled),
            func.count().filter(~pooled),
        ).where(
            NumberReservation.workspace_id == workspace_id,
            NumberReservation.reserved_at >= since,
            NumberReservation.reserved_at < until,
        )
    ).one()
    return int(row[0]), int(row[1])


def number_by_e164(
    session: Session, e164: str, workspace_id: int | None
) -> TrackingNumber | None:
    query = select(TrackingNumber).where(TrackingNumber.number == e164)
    if workspace_id is not None:
        query = query.where(TrackingNumber.workspace_id == workspace_id)
    return session.scalar(query.order_by(TrackingNumber.id).limit(1))


def latest_campaign_visit(session: Session, visitor_id: int) -> SiteVisit | None:
    """The visitor's most recent visit that came from a known campaign."""
    return session.scalar(
        select(SiteVisit)
        .where(SiteVisit.visitor_id == visitor_id, SiteVisit.campaign_id.is_not(None))
        .order_by(SiteVisit.started_at.desc(), SiteVisit.id.desc())
        .limit(1)
    )


def unlinked_call_visitors(
    session: Session, limit: int
) -> list[tuple[SiteVisitor, int, datetime]]:
    """Visitors without a client whose cookie id is on a call touchpoint of a known client
    (a call to a number the visit was shown), with that client and the call's time."""
    rows = session.execute(
        select(SiteVisitor, Touchpoint.client_id, Touchpoint.occurred_at)
        .join(
            Touchpoint,
            and_(
                Touchpoint.workspace_id == SiteVisitor.workspace_id,
                Touchpoint.visitor_id == SiteVisitor.visitor_key,
            ),
        )
        .where(
            SiteVisitor.client_id.is_(None),
            Touchpoint.kind == TouchpointKind.CALL,
            Touchpoint.client_id.is_not(None),
        )
        .order_by(Touchpoint.occurred_at, Touchpoint.id)
        .limit(limit)
    ).all()
    return [(visitor, client_id, at) for visitor, client_id, at in rows if client_id is not None]


def lock_row(session: Session, model: Any, row_id: int) -> Any:
    """The row, re-read and locked for this transaction (None when it is gone)."""
    return session.scalar(select(model).where(model.id == row_id).with_for_update()
                          .execution_options(populate_existing=True))
