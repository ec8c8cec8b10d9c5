"""Builders the attribution tests need beyond ``factory.World``: channels of any kind,
touchpoints with a campaign, tracking numbers and inbound calls to them.

Times are Moscow wall-clock strings, as in ``factory``.
"""

from __future__ import annotations

from tests.analytics.factory import World, at
from voronka.activity.models import Activity, ActivityKind, CallStatus, Direction
from voronka.campaign.models import Channel, ChannelKind, Touchpoint, TouchpointKind, TrackingNumber


def channel(w: World, slug: str, kind: ChannelKind) -> int:
    w.channels[slug] = w.add(Channel(workspace_id=1, slug=slug, name=slug.title(), kind=kind,
                                     is_paid=kind is ChannelKind.PAID_SEARCH)).id
    return w.channels[slug]


def touch(w: World, client: str, when: str, channel: str, *,
          kind: TouchpointKind = TouchpointKind.VISIT, campaign: str | None = None) -> None:
    """A touchpoint of a known client."""
    w.add(Touchpoint(workspace_id=1, client_id=w.clients[client], kind=kind,
                     occurred_at=at(when), channel_id=w.channels[channel],
                     campaign_id=w.campaigns[campaign] if campaign else None))


def tracking_number(w: World, number: str, channel: str, campaign: str | None = None) -> None:
    w.add(TrackingNumber(workspace_id=1, number=number, channel_id=w.channels[channel],
                         campaign_id=w.campaigns[campaign] if campaign else None))


def inbound_call(w: World, client: str, when: str, number: str) -> None:
    """An answered inbound call of ``client`` to tracking ``number``."""
    w.add(Activity(workspace_id=1, kind=ActivityKind.CALL, direction=Direction.INBOUND,
                   call_status=CallStatus.ANSWERED, occurred_at=at(when), queued_at=at(when),
                   client_id=w.clients[client], tracking_number=number, to_number=number))
