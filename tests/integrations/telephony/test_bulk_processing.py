"""Call events applied in bulk (``telephony.batch``): the same rows as one event at a time,
an unparseable event failing alone inside the bulk write, and the fall back to one event at
a time when a rule refuses an event or the bulk write fails."""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.integrations.conftest import Hooks, World, count
from voronka.activity.models import Activity
from voronka.audit.models import AuditEvent
from voronka.campaign.models import Campaign, Channel, ChannelKind, Touchpoint, TrackingNumber
from voronka.client.models import Client, ContactPoint
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStageChange, DealStatus
from voronka.integrations import inbound
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.integrations.telephony import batch, tasks
from voronka.integrations.telephony.models import TelephonyCall
from voronka.jobs import run_pending

NEW = "+79161112233"
OTHER_NEW = "+79161112244"
C1_PHONE = "+79990000001"
ONE_BY_ONE = "applied one by one"


def _call(call_id: str, event: str, at: str, caller: str | None, **extra: object) -> str:
    body = {
        "event_id": f"{call_id}-{event}",
        "event": event,
        "call_id": call_id,
        "direction": "inbound",
        "occurred_at": at,
        "tracking_number": "+74951110001",
        **extra,
    }
    if caller is not None:
        body["caller"] = caller
    return json.dumps(body)


def _c1_open_deal(world: World) -> None:
    with unit_of_work(world.engine) as session:
        session.add(
            Deal(
                workspace_id=1,
                title="C1's deal",
                client_id=world.cast.clients["C1"],
                pipeline_id=world.pipeline_id,
                stage_id=world.first_stage_id,
                status=DealStatus.OPEN,
                amount=0,
                stage_entered_at=datetime(2026, 11, 1, tzinfo=UTC),
                created_at=datetime(2026, 11, 1, tzinfo=UTC),
            )
        )


#: Every kind of change in one batch: a new caller's call started, answered and ended (its
#: activity is written once, with the final state), the same caller again, a known client
#: with an open deal, calls opened by an earlier batch advanced (the stored activity gets
#: its manager from the extension and is ended), a hidden number on a manager's line, and
#: a hidden number on no line (nothing to attach: ignored).
MIXED = [
    _call("n-1", "call.started", "2026-11-20T07:00:00Z", NEW, started_at="2026-11-20T07:00:00Z"),
    _call(
        "p-1",
        "call.answered",
        "2026-11-20T06:00:20Z",
        C1_PHONE,
        extension="101",
        answered_at="2026-11-20T06:00:20Z",
    ),
    _call(
        "n-1",
        "call.answered",
        "2026-11-20T07:00:15Z",
        NEW,
        extension="101",
        answered_at="2026-11-20T07:00:15Z",
    ),
    _call("n-2", "call.started", "2026-11-20T08:00:00Z", NEW),
    _call("k-1", "call.started", "2026-11-20T09:00:00Z", C1_PHONE),
    _call(
        "n-1",
        "call.ended",
        "2026-11-20T07:03:15Z",
        NEW,
        status="answered",
        started_at="2026-11-20T07:00:00Z",
        ended_at="2026-11-20T07:03:15Z",
    ),
    _call(
        "p-1",
        "call.ended",
        "2026-11-20T06:02:20Z",
        C1_PHONE,
        status="answered",
        ended_at="2026-11-20T06:02:20Z",
    ),
    _call(
        "p-2",
        "call.ended",
        "2026-11-20T06:30:40Z",
        OTHER_NEW,
        status="missed",
        ended_at="2026-11-20T06:30:40Z",
        wait_seconds=40,
    ),
    _call("h-1", "call.started", "2026-11-20T10:00:00Z", None, extension="101"),
    _call("x-1", "call.started", "2026-11-20T11:00:00Z", None),
]
EARLIER = [
    _call(
        "p-1", "call.started", "2026-11-20T06:00:00Z", C1_PHONE, started_at="2026-11-20T06:00:00Z"
    ),
    _call(
        "p-2", "call.started", "2026-11-20T06:30:00Z", OTHER_NEW, started_at="2026-11-20T06:30:00Z"
    ),
]


def _snapshot(session: Session) -> dict[str, Any]:
    """What processing wrote, without ids and clock readings (they differ between runs),
    nor row versions: in bulk an activity started and ended in one batch is written once."""
    session.flush()
    names: dict[int, str] = dict(session.execute(select(Client.id, Client.name)).all())
    deals: dict[int, str] = dict(session.execute(select(Deal.id, Deal.title)).all())
    calls = {}
    for call in session.scalars(select(TelephonyCall).order_by(TelephonyCall.provider_call_id)):
        a = session.get(Activity, call.activity_id)
        assert a is not None
        touch = session.get(Touchpoint, call.touchpoint_id) if call.touchpoint_id else None
        calls[call.provider_call_id] = (
            names.get(call.client_id),
            deals.get(call.deal_id),
            call.caller,
            call.is_unique,
            call.created_client,
            call.phase,
            call.user_id,
            call.channel_id,
            call.campaign_id,
            a.call_status,
            a.queued_at,
            a.answered_at,
            a.ended_at,
            a.wait_seconds,
            a.talk_seconds,
            a.owner_id,
            a.subject,
            a.direction,
            a.from_number,
            a.to_number,
            a.tracking_number,
            a.occurred_at,
            names.get(a.client_id),
            deals.get(a.deal_id),
            touch and (touch.kind, touch.occurred_at, touch.channel_id, touch.campaign_id),
        )
    by_call = {c.id: c.provider_call_id for c in session.scalars(select(TelephonyCall))}
    events = {
        e.external_id: (
            e.status,
            e.error,
            e.attempts,
            [by_call[i] for i in (e.result or {}).get("calls", [])],
        )
        for e in session.scalars(select(InboundEvent))
    }
    audits = Counter(
        (a.action, a.entity, json.dumps(a.changes, sort_keys=True))
        for a in session.scalars(
            select(AuditEvent).where(AuditEvent.entity != "telephony_extension")
        )
    )
    return {
        "calls": calls,
        "events": events,
        "audits": audits,
        "clients": sorted(names.values()),
        "contacts": sorted(session.scalars(select(ContactPoint.value))),
        "deals": sorted(
            (deals[d.id], names[d.client_id], d.stage_id, d.channel_id, d.campaign_id, d.owner_id)
            for d in session.scalars(select(Deal))
        ),
        "stage_changes": session.scalars(select(DealStageChange.to_stage_id)).all(),
    }


def _process_and_look(world: World, *, bulk: bool) -> dict[str, Any]:
    """Process the queued events in one transaction, look, and roll it back."""
    looked: dict[str, Any] = {}
    with pytest.raises(RuntimeError), unit_of_work(world.engine) as session:
        events = list(
            session.scalars(
                select(InboundEvent)
                .where(InboundEvent.status == InboundStatus.RECEIVED)
                .order_by(InboundEvent.id)
            )
        )
        tasks.process_batch(session, events, bulk=bulk)
        looked.update(_snapshot(session))
        raise RuntimeError("roll back")
    return looked


def test_bulk_writes_the_rows_one_event_at_a_time_writes(
    world: World, hooks: Hooks, caplog: pytest.LogCaptureFixture
):
    _c1_open_deal(world)
    for body in EARLIER:
        hooks.generic(body)
    run_pending(world.engine)
    for body in MIXED:
        assert hooks.generic(body).json()["status"] == "received"
    caplog.set_level(logging.INFO, logger=tasks.__name__)
    one_by_one = _process_and_look(world, bulk=False)
    in_bulk = _process_and_look(world, bulk=True)
    assert ONE_BY_ONE not in caplog.text  # the bulk write went through
    for key, rows in one_by_one["calls"].items():
        assert in_bulk["calls"][key] == rows, key
    assert in_bulk == one_by_one
    # spot checks against the rules, by hand: n-1 made the client and its lead, n-2 an
    # hour later is a repeat; x-1 had nothing to attach to
    calls = in_bulk["calls"]
    assert [calls[k][:5] for k in ("n-1", "n-2")] == [
        ("+7 916 111-22-33", "Звонок / Call +7 916 111-22-33", NEW, True, True),
        ("+7 916 111-22-33", "Звонок / Call +7 916 111-22-33", NEW, False, False),
    ]
    assert calls["k-1"][:2] == ("Client C1", "C1's deal")
    # n-1: queued 07:00:00, answered 07:00:15, ended 07:03:15 → wait 15 s, talk 180 s
    assert calls["n-1"][10:15] == (
        datetime(2026, 11, 20, 7, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 7, 0, 15, tzinfo=UTC),
        datetime(2026, 11, 20, 7, 3, 15, tzinfo=UTC),
        15,
        180,
    )
    assert calls["p-1"][6] == world.cast.users["M1"]  # the manager who answered on 101
    assert in_bulk["events"]["x-1-call.started"][0] is InboundStatus.IGNORED
    assert {s for s, *_ in in_bulk["events"].values()} == {
        InboundStatus.PROCESSED,
        InboundStatus.IGNORED,
    }


def test_bulk_sends_a_handful_of_statements_per_batch(world: World, hooks: Hooks):
    """40 events (20 new callers, each started and ended) in one job: about 30 statements in
    all (the queue, the batch's reads, one insert per table), not 30 per event."""
    for i in range(20):
        number = f"+7916333{i:04d}"
        hooks.generic(_call(f"s-{i}", "call.started", "2026-11-20T07:00:00Z", number))
        hooks.generic(
            _call(
                f"s-{i}",
                "call.ended",
                "2026-11-20T07:01:00Z",
                number,
                status="missed",
                ended_at="2026-11-20T07:01:00Z",
            )
        )
    sent = [0]

    statements: list[str] = []

    def counted(*args: object) -> None:
        sent[0] += 1
        statements.append(str(args[2])[:100])

    from sqlalchemy import event as sa_event

    sa_event.listen(world.engine, "before_cursor_execute", counted)
    try:
        assert run_pending(world.engine) == 1
    finally:
        sa_event.remove(world.engine, "before_cursor_execute", counted)
    assert count(world.engine, TelephonyCall) == 20
    assert count(world.engine, InboundEvent, InboundEvent.status == InboundStatus.PROCESSED) == 40
    assert sent[0] < 45, "\n".join(statements)


def test_an_unparseable_event_fails_alone_inside_the_bulk_write(
    world: World, hooks: Hooks, caplog: pytest.LogCaptureFixture
):
    hooks.generic(_call("u-1", "call.started", "2026-11-20T07:00:00Z", NEW))
    with unit_of_work(world.engine) as session:  # stored by an older version, say: no direction
        inbound.record(
            session,
            workspace_id=1,
            provider="generic",
            kind="call.started",
            external_id="u-2-call.started",
            process_with=tasks.PROCESS_EVENT,
            body=json.dumps(
                {"event": "call.started", "call_id": "u-2", "occurred_at": "2026-11-20T07:30:00Z"}
            ),
        )
    hooks.generic(_call("u-3", "call.started", "2026-11-20T08:00:00Z", NEW))
    caplog.set_level(logging.INFO, logger=tasks.__name__)
    assert run_pending(world.engine) == 1
    assert ONE_BY_ONE not in caplog.text
    with unit_of_work(world.engine, write=False) as session:
        status = {
            e.external_id: (e.status, e.error, e.attempts)
            for e in session.scalars(select(InboundEvent))
        }
        callers = session.scalars(select(TelephonyCall.caller)).all()
    assert status == {
        "u-1-call.started": (InboundStatus.PROCESSED, None, 1),
        "u-2-call.started": (InboundStatus.FAILED, "BadRequest: direction: required", 1),
        "u-3-call.started": (InboundStatus.PROCESSED, None, 1),
    }
    assert callers == [NEW, NEW]


def _mismatched_number(world: World) -> str:
    """A tracking number whose channel is not its campaign's: deal rules refuse its leads."""
    with unit_of_work(world.engine) as session:
        other = Channel(workspace_id=1, slug="seo", name="SEO", kind=ChannelKind.ORGANIC)
        session.add(other)
        session.flush()
        session.add(
            TrackingNumber(
                workspace_id=1,
                number="+74951110002",
                channel_id=other.id,
                campaign_id=world.campaign_id,
            )
        )
    assert count(world.engine, Campaign) == 1
    return "+74951110002"


def test_a_refused_event_sends_the_batch_one_by_one_and_fails_alone(
    world: World, hooks: Hooks, caplog: pytest.LogCaptureFixture
):
    refusing = _mismatched_number(world)
    hooks.generic(_call("r-1", "call.started", "2026-11-20T07:00:00Z", NEW))
    hooks.generic(
        _call("r-2", "call.started", "2026-11-20T07:10:00Z", OTHER_NEW, tracking_number=refusing)
    )
    hooks.generic(_call("r-3", "call.started", "2026-11-20T07:20:00Z", NEW))
    caplog.set_level(logging.INFO, logger=tasks.__name__)
    assert run_pending(world.engine) == 1
    assert ONE_BY_ONE in caplog.text
    with unit_of_work(world.engine, write=False) as session:
        status = {e.external_id: (e.status, e.error) for e in session.scalars(select(InboundEvent))}
        holders = session.scalars(select(ContactPoint.value)).all()
    assert status == {
        "r-1-call.started": (InboundStatus.PROCESSED, None),
        "r-2-call.started": (
            InboundStatus.FAILED,
            "InvalidInput: campaign_id: the campaign belongs to another channel",
        ),
        "r-3-call.started": (InboundStatus.PROCESSED, None),
    }
    assert OTHER_NEW not in holders  # its client went with its failed deal
    assert holders.count(NEW) == 1
    assert count(world.engine, TelephonyCall) == 2


def test_a_failed_bulk_write_leaves_nothing_and_the_events_go_one_by_one(
    world: World, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
):
    original = batch.Deferred.write

    def write_then_fail(self: batch.Deferred) -> None:
        original(self)  # every row is sent …
        raise RuntimeError("connection lost")  # … and the savepoint fails after all

    monkeypatch.setattr(batch.Deferred, "write", write_then_fail)
    hooks.generic(_call("w-1", "call.started", "2026-11-20T07:00:00Z", NEW))
    hooks.generic(_call("w-2", "call.started", "2026-11-20T07:10:00Z", NEW))
    assert run_pending(world.engine) == 1
    with unit_of_work(world.engine, write=False) as session:
        status = {(e.status, e.attempts) for e in session.scalars(select(InboundEvent))}
    assert status == {(InboundStatus.PROCESSED, 1)}  # attempts counted once, not twice
    assert count(world.engine, ContactPoint, ContactPoint.value == NEW) == 1
    assert count(world.engine, Deal) == 1 and count(world.engine, TelephonyCall) == 2
    assert count(world.engine, AuditEvent, AuditEvent.entity == "client") == 1


def test_an_activity_changed_meanwhile_is_not_overwritten_in_bulk(
    world: World, hooks: Hooks, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The bulk UPDATE of stored activities checks the version it read: a row whose version
    moved on (here bumped inside the batch's savepoint, as another writer would) makes the
    batch go one by one, and the call still ends as it should."""
    hooks.generic(_call("v-1", "call.started", "2026-11-20T07:00:00Z", NEW))
    run_pending(world.engine)
    original = batch.Deferred._update_stored_activities

    def someone_else_first(self: batch.Deferred) -> None:
        self.session.execute(update(Activity).values(version=Activity.version + 1))
        original(self)

    monkeypatch.setattr(batch.Deferred, "_update_stored_activities", someone_else_first)
    hooks.generic(
        _call(
            "v-1",
            "call.ended",
            "2026-11-20T07:02:00Z",
            NEW,
            status="missed",
            started_at="2026-11-20T07:00:00Z",
            ended_at="2026-11-20T07:02:00Z",
        )
    )
    caplog.set_level(logging.INFO, logger=tasks.__name__)
    assert run_pending(world.engine) == 1
    assert "changed meanwhile" in caplog.text
    with unit_of_work(world.engine, write=False) as session:
        activity = session.scalars(select(Activity)).one()
        event = session.scalars(
            select(InboundEvent).where(InboundEvent.external_id == "v-1-call.ended")
        ).one()
    # created (1), then ended one by one (2): the bulk attempt left nothing behind
    assert (activity.ended_at, activity.wait_seconds, activity.version) == (
        datetime(2026, 11, 20, 7, 2, tzinfo=UTC),
        120,
        2,
    )
    assert (event.status, event.attempts) == (InboundStatus.PROCESSED, 1)
