"""Zadarma notifications from their documented field sets (fixtures cite the source)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.integrations.conftest import Hooks, World, count, fixture_text
from voronka.activity.models import Activity, CallStatus, Direction
from voronka.campaign.models import Touchpoint
from voronka.db.session import unit_of_work
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.integrations.telephony.models import TelephonyCall
from voronka.jobs import run_pending


def _at(hour: int, minute: int, second: int) -> datetime:
    return datetime(2026, 11, 20, hour, minute, second, tzinfo=UTC)


def test_an_inbound_call_from_start_to_end(world: World, hooks: Hooks, frozen):
    # call_start "2026-11-20 10:15:00" is Moscow time (VORONKA_TIMEZONE): 07:15:00 UTC
    steps = [("zadarma_notify_start.txt", _at(7, 15, 0)),
             ("zadarma_notify_internal.txt", _at(7, 15, 1)),
             ("zadarma_notify_answer.txt", _at(7, 15, 12)),
             ("zadarma_notify_end.txt", _at(7, 16, 47))]
    for name, received in steps:
        frozen(received)
        response = hooks.zadarma(fixture_text(name))
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "received"
        assert run_pending(world.engine) == 1
    with unit_of_work(world.engine, write=False) as session:
        call = session.scalars(select(Activity)).one()
        assert call.external_id == "zadarma:in_7c5a1e0f2d"
        assert call.direction is Direction.INBOUND and call.call_status is CallStatus.ANSWERED
        assert call.from_number == "+79161234567" and call.tracking_number == "+74951110001"
        assert call.owner_id == world.cast.users["M1"]  # NOTIFY_INTERNAL rang extension 101
        # answered when NOTIFY_ANSWER came (07:15:12); NOTIFY_END: duration 95 s at 07:16:47
        assert (call.queued_at, call.answered_at, call.ended_at) == (
            _at(7, 15, 0), _at(7, 15, 12), _at(7, 16, 47))
        assert (call.wait_seconds, call.talk_seconds) == (12, 95)
        tracked = session.scalars(select(TelephonyCall)).one()
        assert tracked.campaign_id == world.campaign_id and tracked.is_unique is True
        statuses = session.scalars(select(InboundEvent.status)).all()
    assert statuses == [InboundStatus.PROCESSED] * 4
    assert count(world.engine, Touchpoint) == 1


def test_an_outbound_busy_call_to_a_known_client(world: World, hooks: Hooks, frozen):
    frozen(_at(8, 0, 0))
    assert hooks.zadarma(fixture_text("zadarma_notify_out_start.txt")).status_code == 200
    frozen(_at(8, 0, 20))
    assert hooks.zadarma(fixture_text("zadarma_notify_out_end.txt")).status_code == 200
    assert run_pending(world.engine) == 1  # one job run takes every queued event
    with unit_of_work(world.engine, write=False) as session:
        call = session.scalars(select(Activity)).one()
        assert call.client_id == world.cast.clients["C1"]  # destination 79990000001 is C1's
        assert call.direction is Direction.OUTBOUND and call.call_status is CallStatus.BUSY
        assert call.to_number == "+79990000001" and call.from_number is None
        assert call.owner_id == world.cast.users["M1"]
        # 11:00:00 Moscow = 08:00:00 UTC, hung up at 08:00:20: waited 20 s, talked 0 s
        assert (call.wait_seconds, call.talk_seconds) == (20, 0)
    assert count(world.engine, Touchpoint) == 0  # outbound calls are not marketing touches


def test_other_events_are_acknowledged_and_logged_as_ignored(world: World, hooks: Hooks):
    response = hooks.zadarma(fixture_text("zadarma_notify_record.txt"))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert run_pending(world.engine) == 0
    with unit_of_work(world.engine, write=False) as session:
        event = session.scalars(select(InboundEvent)).one()
        assert (event.kind, event.status, event.handler) == (
            "NOTIFY_RECORD", InboundStatus.IGNORED, None)
        assert event.headers["signature"] == "[redacted]"


def test_the_address_check_echoes(hooks: Hooks):
    response = hooks.http.get("/api/v1/hooks/zadarma", params={"zd_echo": "a1b2c3"})
    assert (response.status_code, response.text) == (200, "a1b2c3")


def test_a_wrong_signature_is_refused_and_stores_nothing(world: World, hooks: Hooks):
    body = fixture_text("zadarma_notify_start.txt")
    forged = hooks.zadarma(body, signature="ZGVhZGJlZWY=")
    tampered = hooks.zadarma(body.replace("79161234567", "79161234568"),
                             signature=hooks.zadarma_signature_of(body))
    for response in (forged, tampered):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    assert count(world.engine, InboundEvent) == 0
