"""Retention of the raw inbound log: the hourly ``inbound.purge`` job deletes processed and
ignored events older than ``inbound_retention_days``, in batches; failed and unprocessed
events are never deleted, whatever their age."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from voronka import clock
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.integrations import inbound, tasks
from voronka.integrations.inbound import InboundEvent, InboundStatus
from voronka.jobs import enqueue, run_pending
from voronka.jobs.models import Job, JobStatus
from voronka.jobs.registry import kind
from voronka.workspace.service import ensure_default

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("VORONKA_INBOUND_RETENTION_DAYS", "90")
    get_settings.cache_clear()
    with unit_of_work(engine) as session:
        ensure_default(session)
    clock.freeze(NOW)
    yield engine
    clock.freeze(None)
    monkeypatch.undo()
    get_settings.cache_clear()


def _event(session, name: str, status: InboundStatus, age_days: float) -> None:
    session.add(
        InboundEvent(
            workspace_id=1,
            provider="test",
            kind="call",
            external_id=name,
            body="{}",
            headers={},
            received_at=NOW - timedelta(days=age_days),
            status=status,
            attempts=1,
        )
    )


def _names(engine: Engine) -> set[str]:
    with unit_of_work(engine, write=False) as session:
        return set(session.scalars(select(InboundEvent.external_id)))


def _purge(engine: Engine) -> dict:
    with unit_of_work(engine) as session:
        job_id = enqueue(session, tasks.PURGE, {})
    assert run_pending(engine) == 1
    with unit_of_work(engine, write=False) as session:
        job = session.get(Job, job_id)
        assert job.status is JobStatus.DONE, job.error
        return job.result


def test_only_old_processed_and_ignored_events_are_deleted(store: Engine):
    with unit_of_work(store) as session:
        # 90 days is the cutoff: 90.5 days old goes, 89 days old stays
        _event(session, "old-processed", InboundStatus.PROCESSED, 90.5)
        _event(session, "old-ignored", InboundStatus.IGNORED, 400)
        _event(session, "old-failed", InboundStatus.FAILED, 400)
        _event(session, "old-received", InboundStatus.RECEIVED, 400)
        _event(session, "new-processed", InboundStatus.PROCESSED, 89)
    assert _purge(store) == {"deleted": 2, "retention_days": 90}
    assert _names(store) == {"old-failed", "old-received", "new-processed"}
    assert _purge(store) == {"deleted": 0, "retention_days": 90}  # nothing more to do


def test_a_backlog_is_deleted_in_batches(store: Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(tasks, "PURGE_BATCH", 3)
    with unit_of_work(store) as session:
        for i in range(8):
            _event(session, f"p{i}", InboundStatus.PROCESSED, 100 + i)
        _event(session, "failed", InboundStatus.FAILED, 100)
    deletes: list[int] = []
    original = inbound.purge

    def counting(session, **kwargs):  # type: ignore[no-untyped-def]
        deletes.append(original(session, **kwargs))
        return deletes[-1]

    monkeypatch.setattr(inbound, "purge", counting)
    assert _purge(store)["deleted"] == 8
    assert deletes == [3, 3, 2]  # 8 rows in batches of 3: three transactions
    assert _names(store) == {"failed"}


def test_zero_days_keeps_everything(store: Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VORONKA_INBOUND_RETENTION_DAYS", "0")
    get_settings.cache_clear()
    with unit_of_work(store) as session:
        _event(session, "ancient", InboundStatus.PROCESSED, 10_000)
    assert _purge(store) == {"deleted": 0, "retention_days": 0}
    assert _names(store) == {"ancient"}


def test_the_purge_is_periodic():
    registered = kind(tasks.PURGE)
    assert registered is not None and registered.every == timedelta(hours=1)
