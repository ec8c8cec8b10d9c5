"""Call tracking: turn normalised call events into clients, lead deals, call activities and
call touchpoints.

The first event of a call opens it: the client is found by normalised phone (or created,
with a lead deal in the default pipeline's first stage, channel and campaign from the
tracking number dialled), the call activity is attached to the client's most recent open
deal, and inbound calls get a touchpoint so that attribution and journeys count them.
Later events advance the call; an event of an earlier phase than the call has reached
(``started`` after ``ended``) changes nothing, so out-of-order delivery ends in the same
state as in-order delivery.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.activity.models import ActivityKind, CallStatus, Direction
from voronka.activity.schemas import ActivityCreate, ActivityUpdate
from voronka.campaign.models import Touchpoint, TouchpointKind, TrackingNumber
from voronka.client.contact import normalize_phone
from voronka.client.models import Client, ContactKind
from voronka.client.schemas import ClientCreate, ContactIn
from voronka.config import get_settings
from voronka.deal.schemas import DealCreate
from voronka.integrations.telephony import repository
from voronka.integrations.telephony.base import CallEvent
from voronka.integrations.telephony.lookups import Lookups, lock_phones
from voronka.integrations.telephony.models import CallPhase, TelephonyCall

SUBJECTS = {Direction.INBOUND: "Входящий звонок / Inbound call",
            Direction.OUTBOUND: "Исходящий звонок / Outbound call"}


def phone_or_none(raw: str | None) -> str | None:
    """The E.164 form of a provider's number, or None for hidden, internal or junk numbers."""
    if not raw:
        return None
    try:
        return normalize_phone(raw, region=get_settings().default_phone_region)
    except ValueError:
        return None


def display(e164: str) -> str:
    """``+79991234567`` → ``+7 999 123-45-67`` (the name of a client known only by phone)."""
    return phonenumbers.format_number(
        phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def _source(look: Lookups, number: TrackingNumber | None) -> tuple[int | None, int | None]:
    """(channel id, campaign id) a tracking number stands for."""
    if number is None:
        return None, None
    channel_id = number.channel_id
    if channel_id is None and number.campaign_id is not None:
        campaign = look.campaign(number.campaign_id)
        channel_id = campaign.channel_id if campaign else None
    return channel_id, number.campaign_id


def _tracking(look: Lookups, raw: str | None) -> TrackingNumber | None:
    e164 = phone_or_none(raw)
    found = look.tracking_number(e164) if e164 else None
    return found if found is not None and found.is_active else None


def dynamic_reservation(session: Session, number: TrackingNumber | None, at: datetime) -> Any:
    """The site visit that held this dynamic pool number at ``at``, if any.

    Asks the site tracker's number pool (``voronka.tracking.pool.reservation_for``); None for
    static numbers, and when the site tracker is not installed.
    """
    if number is None or number.kind != "dynamic":
        return None
    try:
        from voronka.tracking.pool import reservation_for
    except ImportError:
        return None
    return reservation_for(session, number, at, workspace_id=number.workspace_id)


def _client(
    session: Session, look: Lookups, actor: Actor, number: str, owner_id: int | None,
    source: tuple[int | None, int | None],
) -> tuple[Client, bool]:
    lock_phones(session, actor.workspace_id, [number])  # before looking: see lookups.py
    found = look.client_with_phone(number)
    if found is not None:
        return found, False
    data = ClientCreate(
        name=display(number),
        owner_id=owner_id,
        source_channel_id=source[0],
        source_campaign_id=source[1],
        contacts=[ContactIn(kind=ContactKind.PHONE, value=number, is_primary=True)],
    )
    return look.writes.client(actor, data), True


def _lead_deal(
    look: Lookups, actor: Actor, client: Client, owner_id: int | None,
    source: tuple[int | None, int | None],
) -> int:
    data = DealCreate(
        title=f"Звонок / Call {client.name}",
        client_id=client.id,
        owner_id=owner_id,
        channel_id=source[0],
        campaign_id=source[1],
    )
    return look.writes.lead_deal(actor, data)


def _timing(event: CallEvent, status: CallStatus | None) -> dict[str, Any]:
    """Activity timing fields of ``event``; seconds only where timestamps cannot give them."""
    answered_at = event.answered_at
    if status is CallStatus.ANSWERED and answered_at is None and event.ended_at is not None:
        answered_at = event.ended_at - timedelta(seconds=event.talk_seconds or 0)
    values: dict[str, Any] = {"answered_at": answered_at if status in (None, CallStatus.ANSWERED) else None}
    if event.started_at is not None:
        values["queued_at"] = event.started_at
    if event.ended_at is not None:
        values["ended_at"] = event.ended_at
    if event.started_at is None and event.wait_seconds is not None:
        values["wait_seconds"] = event.wait_seconds
    if (answered_at is None or event.ended_at is None) and event.talk_seconds is not None:
        values["talk_seconds"] = event.talk_seconds
    if event.recording_url:
        values["recording_url"] = event.recording_url
    return {k: v for k, v in values.items() if v is not None}


def _initial_status(event: CallEvent) -> CallStatus:
    """The activity status of a call's first event; an unfinished call counts as missed
    until it is answered, so that every call row has a status."""
    if event.status is not None:
        return event.status
    return CallStatus.ANSWERED if event.phase is CallPhase.ANSWERED else CallStatus.MISSED


def _visit_fields(reservation: Any) -> dict[str, Any]:
    """Touchpoint fields taken from the site visit that reserved the dialled number."""
    if reservation is None:
        return {}
    return {
        "visitor_id": reservation.visitor_key,
        "utm_source": reservation.utm_source,
        "utm_medium": reservation.utm_medium,
        "utm_campaign": reservation.utm_campaign,
        "landing_page": reservation.landing_page,
    }


def _client_and_deal(
    session: Session, look: Lookups, actor: Actor, number: str, user_id: int | None,
    source: tuple[int | None, int | None],
) -> tuple[Client, bool, int | None]:
    """The caller's client (created when unknown, with a lead deal) and the deal to attach to:
    the most recent open one."""
    client, created = _client(session, look, actor, number, user_id, source)
    deal_id = None if created else look.open_deal(client.id)
    if deal_id is None and created:
        deal_id = _lead_deal(look, actor, client, user_id, source)
    look.remember_client(number, client, deal_id)
    return client, created, deal_id


def _open(
    session: Session, look: Lookups, actor: Actor, provider: str, event: CallEvent
) -> TelephonyCall | None:
    settings = get_settings()
    number = phone_or_none(event.client_number)
    user_id = look.user_for_extension(event.extension) if event.extension else None
    if number is None and user_id is None:
        return None
    inbound = event.direction is Direction.INBOUND
    tracking = _tracking(look, event.tracking_number) if inbound else None
    started_at = event.started_at or event.answered_at or event.occurred_at
    reservation = dynamic_reservation(session, tracking, started_at)
    source = _source(look, tracking)
    if reservation is not None:  # the visit that saw the number says where the caller came from
        source = (reservation.channel_id, reservation.campaign_id)
    client, created_client, deal_id = (
        _client_and_deal(session, look, actor, number, user_id, source)
        if number is not None else (None, False, None)
    )
    unique = inbound and number is not None and not look.called_since(
        number, started_at - timedelta(days=settings.call_unique_days), started_at
    )
    status = _initial_status(event)
    activity = look.writes.activity(
        actor,
        ActivityCreate(
            kind=ActivityKind.CALL,
            external_id=f"{provider}:{event.call_id}"[:128],
            client_id=client.id if client else None,
            deal_id=deal_id,
            owner_id=user_id,
            subject=SUBJECTS[event.direction],
            occurred_at=started_at,
            direction=event.direction,
            from_number=number if inbound else None,
            to_number=phone_or_none(event.tracking_number) if inbound else number,
            tracking_number=tracking.number if tracking else None,
            call_status=status,
            **_timing(event, status),
        ),
    )
    touchpoint_id = None
    if inbound and client is not None:
        touchpoint_id = look.writes.touchpoint(Touchpoint(
            workspace_id=actor.workspace_id, client_id=client.id, kind=TouchpointKind.CALL,
            occurred_at=started_at, channel_id=source[0], campaign_id=source[1],
            **_visit_fields(reservation),
        ))
    call = TelephonyCall(
        workspace_id=actor.workspace_id, provider=provider, provider_call_id=event.call_id[:128],
        activity_id=activity.id, client_id=client.id if client else None, deal_id=deal_id,
        touchpoint_id=touchpoint_id,
        tracking_number_id=tracking.id if tracking else None,
        channel_id=source[0], campaign_id=source[1], user_id=user_id, caller=number,
        is_inbound=inbound, manager_extension=event.extension, started_at=started_at,
        phase=int(event.phase), is_unique=unique, created_client=created_client,
        reservation=f"reservation:{reservation.reservation_id}" if reservation else None,
    )
    look.writes.call(call)
    look.remember_call(call)
    return call


def _advance(
    session: Session, look: Lookups, actor: Actor, call: TelephonyCall, event: CallEvent
) -> None:
    activity = look.writes.get_activity(call.activity_id)
    assert activity is not None
    patch: dict[str, Any] = {}
    if call.user_id is None and event.extension:
        user_id = look.user_for_extension(event.extension)
        if user_id is not None:
            call.user_id, call.manager_extension = user_id, event.extension
            patch["owner_id"] = user_id
    if event.phase > call.phase:
        status = event.status
        if event.phase is CallPhase.ANSWERED:
            status = CallStatus.ANSWERED
        elif status is None:  # a hang-up that does not say how the call went
            status = CallStatus.ANSWERED if activity.answered_at else CallStatus.MISSED
        timing = _timing(event, status)
        if status is CallStatus.ANSWERED:
            # the answer the provider reported live beats one inferred from the talk time
            answered_at = activity.answered_at or timing.get("answered_at") or event.occurred_at
            timing["answered_at"] = answered_at
            if timing.get("ended_at") or activity.ended_at:
                timing.pop("talk_seconds", None)
        # durations are derived again from the timestamps unless the provider gave them
        patch.update(answered_at=None, wait_seconds=None, talk_seconds=None)
        patch.update(timing, call_status=status)
        call.phase = int(event.phase)
    if patch:
        look.writes.update_activity(actor, activity, ActivityUpdate(**patch))
    look.writes.flush()


def apply(
    session: Session, *, workspace_id: int, provider: str, event: CallEvent,
    lookups: Lookups | None = None,
) -> TelephonyCall | None:
    """Apply one call event; return the call, or None when there is nothing to attach it to
    (a hidden number and no known manager). ``lookups`` answers the reads of a batch
    (see :mod:`voronka.integrations.telephony.lookups`); without it each read is a query."""
    actor = Actor.system(workspace_id)
    look = lookups or Lookups(session, workspace_id)
    call = look.call(provider, event.call_id[:128])
    if call is None:
        return _open(session, look, actor, provider, event)
    _advance(session, look, actor, call, event)
    return call


def set_extension(session: Session, *, actor: Actor, extension: str, user_id: int | None) -> None:
    """Route calls on ``extension`` to ``user_id`` (None removes the extension)."""
    from voronka.audit import service as audit
    from voronka.errors import ErrorDetail, InvalidInput
    from voronka.integrations.telephony.models import TelephonyExtension
    from voronka.user.models import User

    extension = extension.strip()
    if not extension or len(extension) > 32:
        raise InvalidInput("extension: 1 to 32 characters",
                           [ErrorDetail("1 to 32 characters", field="extension")])
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or user.workspace_id != actor.workspace_id:
            raise InvalidInput("user: no such user", [ErrorDetail("unknown user", field="user")])
    row = repository.extension(session, actor.workspace_id, extension)
    if user_id is None:
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(TelephonyExtension(workspace_id=actor.workspace_id, extension=extension,
                                       user_id=user_id))
    else:
        row.user_id = user_id
    session.flush()
    audit.record(session, actor, action="update", entity="telephony_extension",
                 detail={"extension": extension, "user_id": user_id})
