"""Call processing in batches, and two calls of one unknown number processed at once.

One ``telephony.process_event`` job run takes every queued event (up to ``BATCH_SIZE``) and
applies them in one transaction with the batch's reads asked once; the domain rules are
those of one event at a time. Two workers processing calls of the same unknown number
concurrently make one client and one lead, not two.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from tests.integrations.conftest import Hooks, World, count
from voronka.activity.models import Activity, CallStatus
from voronka.client.models import Client, ClientKind, ContactPoint
from voronka.db.session import unit_of_work
from voronka.deal.models import Deal, DealStatus
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.integrations.telephony import lookups, service, tasks
from voronka.integrations.telephony.models import TelephonyCall
from voronka.jobs import run_one, run_pending
from voronka.jobs.models import Job, JobStatus

NEW = "+79161112233"  # nobody in the cast has this number
C1_PHONE = "+79990000001"


def _call(call_id: str, event: str, at: str, caller: str, **extra: object) -> str:
    return json.dumps(
        {
            "event_id": f"{call_id}-{event}",
            "event": event,
            "call_id": call_id,
            "direction": "inbound",
            "occurred_at": at,
            "started_at": at,
            "caller": caller,
            "tracking_number": "+74951110001",
            **extra,
        }
    )


def _c1_open_deal(world: World) -> int:
    with unit_of_work(world.engine) as session:
        deal = Deal(
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
        session.add(deal)
        session.flush()
        return deal.id


def test_one_job_run_applies_a_batch_with_the_rules_of_one_event_at_a_time(
    world: World, hooks: Hooks
):
    c1_deal = _c1_open_deal(world)
    bodies = [
        _call("b-1", "call.started", "2026-11-20T07:00:00Z", NEW),
        _call("b-2", "call.started", "2026-11-20T08:00:00Z", NEW),  # same new caller
        _call("b-3", "call.started", "2026-11-20T09:00:00Z", C1_PHONE),  # a known client
        _call(
            "b-1",
            "call.ended",
            "2026-11-20T07:03:00Z",
            NEW,
            status="answered",
            started_at="2026-11-20T07:00:00Z",
            ended_at="2026-11-20T07:03:00Z",
            talk_seconds=150,
        ),
    ]
    for body in bodies:
        assert hooks.generic(body).json()["status"] == "received"
    assert run_pending(world.engine) == 1  # the first job took the other three
    with unit_of_work(world.engine, write=False) as session:
        jobs = session.scalars(select(Job).order_by(Job.id)).all()
        assert [j.status for j in jobs] == [JobStatus.DONE] * 4
        errors = [e.error for e in session.scalars(select(InboundEvent))]
        assert jobs[0].result == {"events": 4, "jobs_taken": 3, "failed": 0}, errors
        assert {e.status for e in session.scalars(select(InboundEvent))} == {
            InboundStatus.PROCESSED
        }
        holders = session.scalars(
            select(ContactPoint.client_id).where(ContactPoint.value == NEW)
        ).all()
        assert len(holders) == 1  # one client for the new number, though it called twice
        new_client = holders[0]
        leads = session.scalars(select(Deal).where(Deal.client_id == new_client)).all()
        assert len(leads) == 1  # one lead, in the first stage, from the tracked campaign
        assert (leads[0].stage_id, leads[0].campaign_id) == (
            world.first_stage_id,
            world.campaign_id,
        )
        calls = {c.provider_call_id: c for c in session.scalars(select(TelephonyCall))}
        # b-1 opens the client (unique); b-2 an hour later is a repeat within 30 days
        assert [
            (calls[k].client_id, calls[k].deal_id, calls[k].is_unique, calls[k].created_client)
            for k in ("b-1", "b-2")
        ] == [(new_client, leads[0].id, True, True), (new_client, leads[0].id, False, False)]
        assert (calls["b-3"].client_id, calls["b-3"].deal_id) == (world.cast.clients["C1"], c1_deal)
        ended = session.get(Activity, calls["b-1"].activity_id)
        assert (ended.call_status, calls["b-1"].phase) == (CallStatus.ANSWERED, 3)
    assert count(world.engine, Client) == 4  # the cast's C1–C3 and the new caller


def test_a_failing_event_fails_alone_in_its_batch(
    world: World, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
):
    original = service.apply

    def apply(session, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs["event"].call_id == "f-2":
            session.add(
                Client(
                    workspace_id=1,
                    kind=ClientKind.PERSON,
                    name="half-written",
                    search_text="half-written",
                )
            )  # rolled back with the event
            session.flush()
            raise RuntimeError("provider sent nonsense")
        return original(session, **kwargs)

    monkeypatch.setattr(service, "apply", apply)
    for i, caller in enumerate((NEW, "+79161112244", NEW), start=1):
        hooks.generic(_call(f"f-{i}", "call.started", f"2026-11-20T0{i}:00:00Z", caller))
    assert run_pending(world.engine) == 1
    with unit_of_work(world.engine, write=False) as session:
        status = {e.external_id: (e.status, e.error) for e in session.scalars(select(InboundEvent))}
        assert status == {
            "f-1-call.started": (InboundStatus.PROCESSED, None),
            "f-2-call.started": (InboundStatus.FAILED, "RuntimeError: provider sent nonsense"),
            "f-3-call.started": (InboundStatus.PROCESSED, None),
        }
        assert session.scalars(select(Client).where(Client.name == "half-written")).all() == []
        callers = session.scalars(select(TelephonyCall.caller)).all()
    assert sorted(callers) == [NEW, NEW]  # f-3 found the client f-1 made


def test_a_batch_asks_fewer_questions_than_its_events_one_by_one(world: World, hooks: Hooks):
    """20 new callers: the reads (client, deal, call, repeat-call, extension, tracking) are
    asked once for the batch, so the statements per event fall below one event alone's."""
    hooks.generic(_call("s-0", "call.started", "2026-11-20T06:00:00Z", "+79161110000"))
    alone = _statements(world, lambda: run_pending(world.engine))
    for i in range(1, 21):
        hooks.generic(_call(f"s-{i}", "call.started", "2026-11-20T07:00:00Z", f"+7916111{i:04d}"))
    batch = _statements(world, lambda: run_pending(world.engine))
    assert count(world.engine, TelephonyCall) == 21
    assert batch / 20 < alone - 5, (alone, batch / 20)


def _statements(world: World, work) -> int:  # type: ignore[no-untyped-def]
    sent = [0]

    def counted(*args):  # type: ignore[no-untyped-def]
        sent[0] += 1

    sa_event.listen(world.engine, "before_cursor_execute", counted)
    try:
        work()
    finally:
        sa_event.remove(world.engine, "before_cursor_execute", counted)
    return sent[0]


def test_two_workers_racing_on_one_unknown_number_make_one_client(
    world: World, hooks: Hooks, monkeypatch: pytest.MonkeyPatch
):
    """Two worker threads (two connections) each claim one job of the same new caller. The
    batch's reads are slowed down so that, without the number's lock, both would read "no
    client" before either commits and both would create one (checked by hand: with
    ``lock_phones`` made a no-op this test finds two clients on PostgreSQL)."""
    original = lookups.Lookups.prefetch

    def slow_prefetch(self, **kwargs):  # type: ignore[no-untyped-def]
        original(self, **kwargs)
        time.sleep(0.5)  # the window between reading and writing, made wide

    monkeypatch.setattr(lookups.Lookups, "prefetch", slow_prefetch)
    monkeypatch.setattr(tasks, "BATCH_SIZE", 1)  # one event per job: the two jobs race
    for i in (1, 2):
        hooks.generic(_call(f"r-{i}", "call.started", f"2026-11-20T07:0{i}:00Z", NEW))
    start = threading.Barrier(2)
    ran: list[bool] = []

    def worker() -> None:
        start.wait(timeout=10)
        ran.append(run_one(world.engine))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert ran == [True, True]
    with unit_of_work(world.engine, write=False) as session:
        assert {e.status for e in session.scalars(select(InboundEvent))} == {
            InboundStatus.PROCESSED
        }
        holders = session.scalars(
            select(ContactPoint.client_id).where(ContactPoint.value == NEW)
        ).all()
        assert len(holders) == 1
        assert count(world.engine, Deal, Deal.client_id == holders[0]) == 1
        created = session.scalars(select(TelephonyCall.created_client)).all()
    assert sorted(created) == [False, True]
