"""Mango Office VPBX notifications: events/call and events/summary (fixtures cite the API)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.integrations.conftest import Hooks, World, count, fixture_text
from voronka.activity.models import Activity, CallStatus
from voronka.db.session import unit_of_work
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.jobs import run_pending


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def test_ringing_answer_and_summary_make_one_answered_call(world: World, hooks: Hooks):
    for kind, name in (("call", "mango_call_appeared.json"), ("call", "mango_call_connected.json"),
                       ("summary", "mango_summary.json")):
        response = hooks.mango(kind, fixture_text(name))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "received"
    assert run_pending(world.engine) == 1  # one job run takes every queued event
    with unit_of_work(world.engine, write=False) as session:
        call = session.scalars(select(Activity)).one()
        assert call.external_id == "mango:MjYxMDI3NjUzMzo0Mg=="  # entry_id names the call
        assert call.owner_id == world.cast.users["M1"]  # to.extension 101
        assert call.call_status is CallStatus.ANSWERED
        assert call.tracking_number == "+74951110001"  # to.line_number / line_number
        # create_time 1763622900, talk_time 1763622912, end_time 1763623200
        assert (call.queued_at, call.answered_at, call.ended_at) == (
            _utc(1763622900), _utc(1763622912), _utc(1763623200))
        assert (call.wait_seconds, call.talk_seconds) == (12, 288)
        event = session.scalars(select(InboundEvent).where(InboundEvent.kind == "summary")).one()
        assert "vpbx_api_key" not in event.body and "mango-key" not in event.body


def test_other_events_are_ignored_and_internal_calls_make_nothing(world: World, hooks: Hooks):
    recording = hooks.mango("recording", fixture_text("mango_recording.json"))
    assert recording.status_code == 200 and recording.json()["status"] == "ignored"
    internal = fixture_text("mango_summary.json").replace('"call_direction": 1',
                                                          '"call_direction": 0')
    assert hooks.mango("summary", internal).json()["status"] == "received"
    assert run_pending(world.engine) == 1
    with unit_of_work(world.engine, write=False) as session:
        statuses = session.scalars(select(InboundEvent.status).order_by(InboundEvent.id)).all()
    assert statuses == [InboundStatus.IGNORED, InboundStatus.IGNORED]
    assert count(world.engine, Activity) == 0


def test_a_wrong_key_or_sign_is_refused_and_stores_nothing(world: World, hooks: Hooks):
    text = fixture_text("mango_summary.json")
    wrong_sign = hooks.mango("summary", text, sign="0" * 64)
    wrong_key = hooks.mango("summary", text, key="someone-else")
    reserialised = hooks.mango("summary", text.replace(", ", ","),
                               sign=hooks.mango_sign(text))  # signed bytes ≠ sent bytes
    for response in (wrong_sign, wrong_key, reserialised):
        assert response.status_code == 401, response.text
    assert count(world.engine, InboundEvent) == 0
