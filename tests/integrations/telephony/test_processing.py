"""Call tracking rules: redelivery, known clients, repeat calls, out-of-order events, and a
crash in the middle of processing followed by a replay."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.integrations.conftest import Hooks, World, count, fixture_text
from voronka.activity.models import Activity, CallStatus
from voronka.audit.models import AuditEvent
from voronka.campaign.models import Touchpoint
from voronka.client.models import Client
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStatus
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.integrations.telephony.models import TelephonyCall
from voronka.jobs import run_pending
from voronka.pipeline.models import Pipeline, Stage


def _call(call_id: str, event: str, at: str, *, caller: str = "+79990000001",
          status: str | None = None, event_id: str | None = None, **extra: object) -> str:
    body: dict[str, object] = {
        "event_id": event_id or f"{call_id}-{event}", "event": event, "call_id": call_id,
        "direction": "inbound", "occurred_at": at, "caller": caller,
        "tracking_number": "+74951110001", **extra,
    }
    if status is not None:
        body["status"] = status
    return json.dumps(body)


def test_a_redelivered_event_changes_nothing(world: World, hooks: Hooks):
    body = fixture_text("generic_call_ended.json")
    first = hooks.generic(body)
    assert first.status_code == 200 and first.json()["status"] == "received"
    assert run_pending(world.engine) == 1
    second = hooks.generic(body)  # the provider did not see our answer and retries
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}
    assert run_pending(world.engine) == 0  # no second job
    assert count(world.engine, InboundEvent) == 1
    assert count(world.engine, TelephonyCall) == 1
    assert count(world.engine, Activity) == 1
    assert count(world.engine, Client) == 4  # the cast's C1–C3 plus the caller


def test_a_known_client_gets_the_call_on_their_most_recent_open_deal(world: World, hooks: Hooks):
    c1 = world.cast.clients["C1"]
    with unit_of_work(world.engine) as session:
        deals = [
            Deal(workspace_id=1, title=title, client_id=c1, pipeline_id=world.pipeline_id,
                 stage_id=world.first_stage_id, status=DealStatus.OPEN, amount=0,
                 stage_entered_at=datetime(2026, 11, day, tzinfo=UTC),
                 created_at=datetime(2026, 11, day, tzinfo=UTC))
            for title, day in (("older", 1), ("newer", 10))
        ]
        session.add_all(deals)
    assert hooks.generic(_call("k-1", "call.ended", "2026-11-20T07:00:00Z",
                               status="missed")).status_code == 200
    run_pending(world.engine)
    with unit_of_work(world.engine, write=False) as session:
        call = session.scalars(select(Activity)).one()
        newer = session.scalars(select(Deal).where(Deal.title == "newer")).one()
        assert (call.client_id, call.deal_id) == (c1, newer.id)
        assert call.call_status is CallStatus.MISSED and call.talk_seconds == 0
        assert session.scalars(select(TelephonyCall.created_client)).one() is False
    assert count(world.engine, Client) == 3 and count(world.engine, Deal) == 2


def test_a_call_is_unique_unless_the_number_called_within_the_window(world: World, hooks: Hooks):
    # VORONKA_CALL_UNIQUE_DAYS defaults to 30: 1 Nov → 20 Nov is 19 days (repeat),
    # 20 Nov → 25 Dec is 35 days (unique again)
    for call_id, at in (("u-1", "2026-11-01T10:00:00Z"), ("u-2", "2026-11-20T10:00:00Z"),
                        ("u-3", "2026-12-25T10:00:00Z")):
        assert hooks.generic(_call(call_id, "call.started", at, started_at=at)).status_code == 200
    run_pending(world.engine)
    with unit_of_work(world.engine, write=False) as session:
        rows = session.execute(
            select(TelephonyCall.provider_call_id, TelephonyCall.is_unique)
            .order_by(TelephonyCall.started_at)).all()
        touches = session.scalars(select(Touchpoint.client_id)).all()
    assert [tuple(r) for r in rows] == [("u-1", True), ("u-2", False), ("u-3", True)]
    assert touches == [world.cast.clients["C1"]] * 3  # every inbound call is a touchpoint


def _final(world: World) -> tuple[object, ...]:
    with unit_of_work(world.engine, write=False) as session:
        call = session.scalars(select(Activity)).one()
        tracked = session.scalars(select(TelephonyCall)).one()
        return (call.call_status, call.queued_at, call.answered_at, call.ended_at,
                call.wait_seconds, call.talk_seconds, tracked.phase)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 0, 1), (2, 1, 0), (1, 2, 0)],
                         ids=["in-order", "end-first", "reversed", "answer-first"])
def test_events_out_of_order_end_in_the_in_order_state(world: World, hooks: Hooks, order):
    started = _call("o-1", "call.started", "2026-11-20T07:00:00Z", extension="101",
                    started_at="2026-11-20T07:00:00Z")
    answered = _call("o-1", "call.answered", "2026-11-20T07:00:10Z",
                     answered_at="2026-11-20T07:00:10Z", extension="101")
    ended = _call("o-1", "call.ended", "2026-11-20T07:02:10Z", status="answered",
                  started_at="2026-11-20T07:00:00Z", answered_at="2026-11-20T07:00:10Z",
                  ended_at="2026-11-20T07:02:10Z")
    events = (started, answered, ended)
    for index in order:
        assert hooks.generic(events[index]).status_code == 200
        run_pending(world.engine)
    out_of_order = _final(world)
    # 07:00:00 → 07:00:10 wait 10 s, 07:00:10 → 07:02:10 talk 120 s, phase 3 (ended)
    assert out_of_order == (
        CallStatus.ANSWERED, datetime(2026, 11, 20, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 7, 0, 10, tzinfo=UTC), datetime(2026, 11, 20, 7, 2, 10, tzinfo=UTC),
        10, 120, 3)


def test_a_crash_mid_processing_writes_nothing_and_replay_succeeds(
    world: World, hooks: Hooks, cli
):
    with unit_of_work(world.engine) as session:  # no pipeline: the lead deal cannot be made
        session.query(Stage).delete()
        session.query(Pipeline).delete()
    response = hooks.generic(fixture_text("generic_call_ended.json"))
    assert response.status_code == 200
    run_pending(world.engine)
    with unit_of_work(world.engine, write=False) as session:
        event = session.scalars(select(InboundEvent)).one()
        assert event.status is InboundStatus.FAILED and event.attempts == 1
        assert "there is no active pipeline" in (event.error or "")
        # the client was created before the deal failed: it must be gone with the rest
        assert session.scalars(select(AuditEvent).where(AuditEvent.entity == "client")).all() == []
    assert count(world.engine, Client) == 3
    assert count(world.engine, Deal) == 0 and count(world.engine, Activity) == 0
    assert count(world.engine, TelephonyCall) == 0 and count(world.engine, Touchpoint) == 0

    with unit_of_work(world.engine) as session:  # the operator fixes the cause …
        pipeline = Pipeline(workspace_id=1, name="Sales", is_default=True)
        session.add(pipeline)
        session.flush()
        session.add(Stage(workspace_id=1, pipeline_id=pipeline.id, name="Lead", position=0,
                          kind="open"))
    listed = json.loads(cli("list", "--format", "json").stdout)
    assert [(row["provider"], row["status"], row["attempts"]) for row in listed] == [
        ("generic", "failed", 1)]
    replayed = cli("replay", "--provider", "generic")  # … and replays
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout.strip() == "queued 1 event(s) for processing"
    assert run_pending(world.engine) == 1
    with unit_of_work(world.engine, write=False) as session:
        event = session.scalars(select(InboundEvent)).one()
        assert event.status is InboundStatus.PROCESSED and event.attempts == 2
    assert count(world.engine, Client) == 4 and count(world.engine, Deal) == 1
    assert count(world.engine, Activity) == 1 and count(world.engine, TelephonyCall) == 1
    nothing = cli("replay", "--id", "999999")
    assert nothing.exit_code == 1
    assert nothing.stderr.strip() == "error: no failed event with id 999999"


def test_twenty_concurrent_deliveries_store_one_event(world: World, hooks: Hooks):
    from concurrent.futures import ThreadPoolExecutor

    body = fixture_text("generic_call_started.json")
    stamp = int(time.time())
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: hooks.generic(body, at=stamp), range(20)))
    assert sorted(a.status_code for a in answers) == [200] * 20
    assert sorted(a.json()["status"] for a in answers) == ["duplicate"] * 19 + ["received"]
    assert run_pending(world.engine) == 1
    assert count(world.engine, InboundEvent) == 1 and count(world.engine, Activity) == 1
