"""Group commit: concurrent events share a transaction; a bad one cannot fail the others."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from voronka.db.session import unit_of_work
from voronka.integrations.group_commit import GroupWriter
from voronka.integrations.inbound import InboundEvent
from voronka.jobs.models import Job
from voronka.workspace.service import ensure_default


@pytest.fixture
def writer(engine: Engine) -> GroupWriter:
    with unit_of_work(engine) as session:
        ensure_default(session)
    return GroupWriter(engine, max_batch=8)


def _fields(external_id: str, body: str | None = "{}") -> dict[str, object]:
    return dict(workspace_id=1, provider="test", kind="call", external_id=external_id,
                body=body, process_with="telephony.process_event")


def test_concurrent_events_and_redeliveries_are_each_stored_once(writer: GroupWriter,
                                                                  engine: Engine):
    ids = [f"e-{i % 10}" for i in range(30)]  # ten events, each delivered three times
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda eid: writer.store(**_fields(eid)), ids))
    assert sum(r.created for r in results) == 10
    by_id: dict[str, set[int]] = {}
    for eid, result in zip(ids, results, strict=True):
        by_id.setdefault(eid, set()).add(result.event.id)
    assert all(len(rows) == 1 for rows in by_id.values())
    with unit_of_work(engine, write=False) as session:
        assert len(session.scalars(select(InboundEvent)).all()) == 10
        assert len(session.scalars(select(Job)).all()) == 10


def test_a_bad_event_fails_alone(writer: GroupWriter, engine: Engine):
    def store(eid: str) -> object:
        try:
            return writer.store(**_fields(eid, body=None if eid == "bad" else "{}"))
        except IntegrityError:
            return "refused"

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(store, ["a", "b", "bad", "c", "d", "e"]))
    assert results[2] == "refused"  # body is NOT NULL
    assert [r.created for i, r in enumerate(results) if i != 2] == [True] * 5
    with unit_of_work(engine, write=False) as session:
        stored = sorted(session.scalars(select(InboundEvent.external_id)).all())
    assert stored == ["a", "b", "c", "d", "e"]


def test_a_batch_costs_three_statements_whatever_its_size(engine: Engine):
    """50 new events, 2 stored before and one key twice in the batch: one insert of the
    events, one insert of the 51 new events' jobs (on PostgreSQL, by the events' statement),
    one select of the two stored before."""
    from sqlalchemy import event

    from voronka.integrations import inbound

    with unit_of_work(engine) as session:
        ensure_default(session)
        inbound.record_many(session, [_fields("old-1"), _fields("old-2")])
    batch = [_fields(f"n-{i}") for i in range(50)] + [
        _fields("old-1"), _fields("n-7"), _fields("old-2"), _fields("n-50")]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        with unit_of_work(engine) as session:
            results = inbound.record_many(session, batch)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    sent = [s for s in statements if s in {"INSERT", "SELECT", "WITH"}]
    if engine.dialect.name == "postgresql":
        assert sent == ["WITH", "SELECT"]
    else:
        assert sent == ["INSERT", "INSERT", "SELECT"]
    created = [r.created for r in results]
    assert created == [True] * 50 + [False, False, False, True]
    assert results[51].event.id == results[7].event.id  # n-7 again: the first one's row
    with unit_of_work(engine, write=False) as session:
        assert len(session.scalars(select(InboundEvent)).all()) == 53
        assert len(session.scalars(select(Job)).all()) == 53
