"""The raw inbound log API that every ingestion path uses (RELIABILITY 71, 104, 124)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select

from voronka.db.session import unit_of_work
from voronka.integrations import inbound
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.jobs.models import Job
from voronka.workspace.service import ensure_default

HANDLER = "telephony.process_event"


@pytest.fixture
def store(engine: Engine) -> Engine:
    with unit_of_work(engine) as session:
        ensure_default(session)
    return engine


def _store(engine: Engine, external_id: str = "e-1", **extra: object) -> inbound.Stored:
    fields: dict[str, object] = dict(
        workspace_id=1, provider="test", kind="call", external_id=external_id, body="{}",
        headers={"Authorization": "Bearer abc", "X-Api-Key": "k", "X-Hub-Signature": "s",
                 "Content-Type": "application/json", "User-Agent": "pbx/1.0"},
        process_with=HANDLER)
    fields.update(extra)
    return inbound.store_raw(engine, **fields)


def test_store_raw_commits_the_row_and_its_job_once(store: Engine):
    first = _store(store)
    again = _store(store, body='{"changed": true}')  # a redelivery, even with another body
    assert (first.created, again.created) == (True, False)
    assert again.event.id == first.event.id and again.event.body == "{}"
    with unit_of_work(store, write=False) as session:
        event = session.scalars(select(InboundEvent)).one()
        jobs = session.scalars(select(Job)).all()
    assert event.headers == {"authorization": "[redacted]", "x-api-key": "[redacted]",
                             "x-hub-signature": "[redacted]", "content-type": "application/json",
                             "user-agent": "pbx/1.0"}
    assert (event.status, event.handler, event.attempts) == (InboundStatus.RECEIVED, HANDLER, 0)
    assert [(j.kind, j.payload, j.key) for j in jobs] == [
        (HANDLER, {"event_id": event.id}, f"inbound:{event.id}:0")]


def test_ignored_events_queue_nothing_and_are_not_replayed(store: Engine):
    stored = _store(store, ignored=True)
    assert stored.event.status is InboundStatus.IGNORED and stored.event.handler is None
    with unit_of_work(store) as session:
        events = inbound.replayable(session, status=InboundStatus.IGNORED)
        assert inbound.replay(session, events) == 0
        assert session.scalars(select(Job)).all() == []


def test_a_failed_event_is_replayed_with_a_new_job(store: Engine):
    event_id = _store(store).event.id
    with unit_of_work(store) as session:
        event = inbound.get(session, event_id)
        inbound.begin_attempt(event)
        inbound.mark_failed(event, error="ValueError: " + "x" * 5000)
    with unit_of_work(store) as session:
        event = inbound.find(session, workspace_id=1, provider="test", external_id="e-1")
        assert event.status is InboundStatus.FAILED and len(event.error) == 4000
        assert [e.id for e in inbound.replayable(session, provider="test")] == [event_id]
        assert inbound.replayable(session, provider="other") == []
        assert inbound.replay(session, [event]) == 1
    with unit_of_work(store, write=False) as session:
        event = inbound.get(session, event_id)
        keys = session.scalars(select(Job.key).order_by(Job.id)).all()
    assert (event.status, event.error, event.attempts) == (InboundStatus.RECEIVED, None, 1)
    assert keys == [f"inbound:{event_id}:0", f"inbound:{event_id}:1"]


def test_concurrent_deliveries_of_one_event_store_one_row(store: Engine):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: _store(store, "same"), range(16)))
    assert sorted(r.created for r in results) == [False] * 15 + [True]
    assert len({r.event.id for r in results}) == 1
    with unit_of_work(store, write=False) as session:
        assert len(session.scalars(select(Job)).all()) == 1
