"""The generic JSON format end to end: webhook → raw log → job → client, deal, call, touchpoint."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.integrations.conftest import TRACKING, Hooks, World, fixture_text
from voronka.activity.models import Activity, CallStatus, Direction
from voronka.campaign.models import Touchpoint, TouchpointKind
from voronka.client.models import Client, ContactPoint
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.integrations.telephony.models import TelephonyCall
from voronka.jobs import run_pending


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_call_from_an_unknown_number_makes_a_client_a_lead_deal_and_a_call(
    world: World, hooks: Hooks
):
    for name in ("generic_call_started.json", "generic_call_answered.json",
                 "generic_call_ended.json"):
        response = hooks.generic(fixture_text(name))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "received"
    assert run_pending(world.engine) == 1  # one job run takes every queued event

    with unit_of_work(world.engine, write=False) as session:
        # the caller "8 (916) 123-45-67" normalises to +79161234567 (RU region)
        contact = session.scalars(
            select(ContactPoint).where(ContactPoint.value == "+79161234567")).one()
        client = session.get(Client, contact.client_id)
        assert client.name == "+7 916 123-45-67"
        assert client.owner_id == world.cast.users["M1"]  # extension 101 is M1's
        assert (client.source_channel_id, client.source_campaign_id) == (
            world.channel_id, world.campaign_id)
        deal = session.scalars(select(Deal).where(Deal.client_id == client.id)).one()
        assert (deal.pipeline_id, deal.stage_id) == (world.pipeline_id, world.first_stage_id)
        assert (deal.channel_id, deal.campaign_id) == (world.channel_id, world.campaign_id)
        call = session.scalars(select(Activity).where(Activity.client_id == client.id)).one()
        assert call.deal_id == deal.id
        assert call.external_id == "generic:g-100"
        assert call.direction is Direction.INBOUND
        assert call.call_status is CallStatus.ANSWERED
        assert call.tracking_number == TRACKING
        assert call.from_number == "+79161234567"
        assert call.queued_at == _utc("2026-11-20T07:15:00Z")
        assert call.answered_at == _utc("2026-11-20T07:15:12Z")
        assert call.ended_at == _utc("2026-11-20T07:20:00Z")
        # 07:15:00 → 07:15:12 rang 12 s; 07:15:12 → 07:20:00 talked 288 s
        assert (call.wait_seconds, call.talk_seconds) == (12, 288)
        assert call.recording_url == "https://records.example.com/g-100.mp3"
        tracked = session.scalars(select(TelephonyCall)).one()
        assert tracked.is_unique is True and tracked.created_client is True
        assert tracked.phase == 3 and tracked.user_id == world.cast.users["M1"]
        touch = session.get(Touchpoint, tracked.touchpoint_id)
        assert touch.kind is TouchpointKind.CALL and touch.client_id == client.id
        assert touch.campaign_id == world.campaign_id
        statuses = session.scalars(select(InboundEvent.status)).all()
        assert statuses == [InboundStatus.PROCESSED] * 3
