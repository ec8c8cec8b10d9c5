"""A call to a dynamic pool number is attributed to the site visit that held the number
(the site tracker's ``reservation_for``), not to the number's own campaign."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from tests.integrations.conftest import Hooks, World
from voronka.campaign.models import Campaign, Touchpoint, TrackingKind, TrackingNumber
from voronka.db.session import unit_of_work
from voronka.integrations.telephony.models import TelephonyCall
from voronka.jobs import run_pending
from voronka.tracking.models import NumberReservation, Site, SiteVisit, SiteVisitor

POOL_NUMBER = "+74951110099"


def _at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 20, hour, minute, tzinfo=UTC)


def _call(call_id: str, at: str) -> str:
    return json.dumps({"event_id": call_id, "event": "call.started", "call_id": call_id,
                       "direction": "inbound", "occurred_at": at, "started_at": at,
                       "caller": "+79165550011", "tracking_number": POOL_NUMBER})


def test_a_pool_number_call_takes_the_visit_s_campaign_and_visitor(world: World, hooks: Hooks):
    with unit_of_work(world.engine) as session:
        visit_campaign = Campaign(workspace_id=1, channel_id=world.channel_id, name="Retarget",
                                  utm_source="yandex", utm_campaign="retarget")
        session.add(visit_campaign)
        number = TrackingNumber(workspace_id=1, number=POOL_NUMBER, kind=TrackingKind.DYNAMIC,
                                campaign_id=world.campaign_id)
        site = Site(workspace_id=1, site_key="site-key-1", name="Shop")
        session.add_all([number, site])
        session.flush()
        visitor = SiteVisitor(workspace_id=1, site_id=site.id, visitor_key="v-cookie-42",
                              first_seen_at=_at(7, 0), last_seen_at=_at(7, 5))
        session.add(visitor)
        session.flush()
        visit = SiteVisit(workspace_id=1, site_id=site.id, visitor_id=visitor.id,
                          started_at=_at(7, 0), last_activity_at=_at(7, 5),
                          utm_source="yandex", utm_medium="cpc", utm_campaign="retarget",
                          landing_page="https://shop.example/sale",
                          campaign_id=visit_campaign.id, channel_id=world.channel_id)
        session.add(visit)
        session.flush()
        reservation = NumberReservation(workspace_id=1, site_id=site.id, visit_id=visit.id,
                                        tracking_number_id=number.id, reserved_at=_at(7, 0),
                                        held_until=_at(7, 20))
        session.add(reservation)
        session.flush()
        ids = (visit_campaign.id, reservation.id)
    # 07:10 is inside the hold [07:00, 07:20); 07:30 is after it
    assert hooks.generic(_call("pool-1", "2026-11-20T07:10:00Z")).status_code == 200
    assert hooks.generic(_call("pool-2", "2026-11-20T07:30:00Z")).status_code == 200
    assert run_pending(world.engine) == 1  # one job run takes every queued event
    with unit_of_work(world.engine, write=False) as session:
        calls = {c.provider_call_id: c for c in session.scalars(select(TelephonyCall))}
        held = session.get(Touchpoint, calls["pool-1"].touchpoint_id)
        after = session.get(Touchpoint, calls["pool-2"].touchpoint_id)
    assert calls["pool-1"].reservation == f"reservation:{ids[1]}"
    assert calls["pool-1"].campaign_id == ids[0]
    assert (held.visitor_id, held.campaign_id, held.utm_medium, held.landing_page) == (
        "v-cookie-42", ids[0], "cpc", "https://shop.example/sale")
    assert calls["pool-2"].reservation is None
    assert (after.visitor_id, after.campaign_id) == (None, world.campaign_id)
