"""The dynamic call-tracking number pool.

Tracking numbers of kind ``dynamic`` form the pool of their workspace. The snippet asks which
number to show; the visit gets a free pool number (the one released longest ago) for as long
as it is active plus ``tracking_number_hold_minutes``. When every number is held the site's
default number is shown and the shortage is recorded (a reservation without a number).
A call to a pool number is tied to the visit holding it at the call's time by
:func:`reservation_for`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import phonenumbers
from sqlalchemy.orm import Session

from voronka.campaign.models import TrackingNumber
from voronka.client.contact import normalize_phone
from voronka.config import get_settings
from voronka.tracking import repository
from voronka.tracking.models import NumberReservation, SiteVisit
from voronka.tracking.schemas import NumberOut, PoolStatus

if TYPE_CHECKING:  # the service imports this module
    from voronka.tracking.service import SiteRef

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Reservation:
    """Who was shown a pool number at a moment: the visit, its browser and its campaign."""

    reservation_id: int
    site_id: int
    visit_id: int
    visitor_id: int
    visitor_key: str
    client_id: int | None
    campaign_id: int | None
    channel_id: int | None
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    landing_page: str | None
    reserved_at: datetime
    held_until: datetime


def _hold() -> timedelta:
    return timedelta(minutes=get_settings().tracking_number_hold_minutes)


def display(e164: str | None) -> str | None:
    """The number as people write it (``+7 495 123-45-67``)."""
    if not e164:
        return None
    try:
        parsed = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _default(site: SiteRef) -> NumberOut:
    return NumberOut(
        number=site.default_number, display=display(site.default_number), pooled=False
    )


def _free_number(session: Session, workspace_id: int, now: datetime) -> TrackingNumber | None:
    """Lock and return the free pool number released longest ago, if any."""
    numbers = repository.pool_numbers(session, workspace_id)
    held = repository.held_number_ids(session, workspace_id, now)
    free = [n for n in numbers if n.id not in held]
    released = repository.last_release(session, [n.id for n in free])
    for number in sorted(free, key=lambda n: (released.get(n.id, _NEVER), n.id)):
        # Lock, then look again: a reservation committed since the first look is seen now.
        if repository.lock_number(session, number.id) and not repository.number_is_held(
            session, number.id, now
        ):
            return number
    return None


def number_for(session: Session, *, site: SiteRef, visit: SiteVisit, now: datetime) -> NumberOut:
    """The number this visit should show, reserving a pool number when one is free."""
    held_until = now + _hold()
    live = repository.live_reservation(session, visit.id, now)
    if live is not None and live.tracking_number_id is not None:
        live.held_until = max(live.held_until, held_until)
        number = session.get(TrackingNumber, live.tracking_number_id)
        assert number is not None  # FK
        return NumberOut(
            number=number.number, display=display(number.number), pooled=True,
            held_until=live.held_until,
        )
    free = _free_number(session, site.workspace_id, now)
    if free is None:
        if live is None:  # count a visit's shortage once, not every page it asks again
            session.add(_reservation(site, visit, None, now, held_until))
        else:
            live.held_until = max(live.held_until, held_until)
        session.flush()
        return _default(site)
    if live is not None:  # the visit had the default number; the pool has one again
        live.held_until = now
    session.add(_reservation(site, visit, free.id, now, held_until))
    session.flush()
    return NumberOut(
        number=free.number, display=display(free.number), pooled=True, held_until=held_until
    )


def _reservation(
    site: SiteRef, visit: SiteVisit, number_id: int | None, now: datetime, held_until: datetime
) -> NumberReservation:
    return NumberReservation(
        workspace_id=site.workspace_id,
        site_id=site.id,
        visit_id=visit.id,
        tracking_number_id=number_id,
        reserved_at=now,
        held_until=held_until,
    )


def extend_hold(session: Session, *, visit: SiteVisit, now: datetime) -> None:
    """Keep the visit's number while the visit is active."""
    live = repository.live_reservation(session, visit.id, now)
    if live is not None:
        live.held_until = max(live.held_until, now + _hold())


def _number_id(
    session: Session, number: TrackingNumber | int | str, workspace_id: int | None
) -> int | None:
    if isinstance(number, TrackingNumber):
        return number.id
    if isinstance(number, int):
        return number
    try:
        e164 = normalize_phone(number, region=get_settings().default_phone_region)
    except ValueError:
        return None
    found = repository.number_by_e164(session, e164, workspace_id)
    return found.id if found is not None else None


def reservation_for(
    session: Session,
    number: TrackingNumber | int | str,
    at: datetime,
    *,
    workspace_id: int | None = None,
) -> Reservation | None:
    """The visit a call to ``number`` at ``at`` belongs to, or ``None``.

    ``number`` is a tracking number, its id, or the dialled number as any text (normalised
    to E.164; give ``workspace_id`` when several workspaces could use the same number).
    The reservation whose [reserved_at, held_until) contains ``at`` answers; ``None`` for
    static numbers, numbers not reserved at that time, and unknown numbers.
    """
    number_id = _number_id(session, number, workspace_id)
    if number_id is None:
        return None
    found = repository.reservation_at(session, number_id, at)
    if found is None:
        return None
    reservation, visit, visitor = found
    return Reservation(
        reservation_id=reservation.id,
        site_id=visit.site_id,
        visit_id=visit.id,
        visitor_id=visitor.id,
        visitor_key=visitor.visitor_key,
        client_id=visitor.client_id,
        campaign_id=visit.campaign_id,
        channel_id=visit.channel_id,
        utm_source=visit.utm_source,
        utm_medium=visit.utm_medium,
        utm_campaign=visit.utm_campaign,
        landing_page=visit.landing_page,
        reserved_at=reservation.reserved_at,
        held_until=reservation.held_until,
    )


def status(session: Session, *, workspace_id: int, since: datetime, until: datetime,
           now: datetime) -> PoolStatus:
    """Pool size and use now; reservations and fallbacks in [since, until)."""
    size = len(repository.pool_numbers(session, workspace_id))
    in_use = len(repository.held_number_ids(session, workspace_id, now))
    reservations, fallbacks = repository.reservation_counts(session, workspace_id, since, until)
    return PoolStatus(
        pool_size=size, in_use=in_use, free=max(size - in_use, 0), reservations=reservations,
        fallbacks=fallbacks, since=since, until=until,
    )
