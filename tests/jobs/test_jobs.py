"""Jobs: queued with the caller's commit, idempotent by key, one transaction per job,
retried with back-off, resumed from saved state, taken over when their worker dies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from voronka import clock
from voronka.db.session import unit_of_work
from voronka.errors import InvalidInput
from voronka.jobs import JobContext, JobFailed, enqueue, job, queue, registry, run_pending, runner
from voronka.jobs.models import Job, JobStatus
from voronka.user.models import Team
from voronka.workspace.service import ensure_default

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
calls: list[dict[str, Any]] = []


@pytest.fixture(autouse=True)
def _frozen_clock() -> Any:
    clock.freeze(T0)
    calls.clear()
    yield
    clock.freeze(None)


@job("test.add_team")
def add_team(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    ensure_default(ctx.session)
    ctx.session.add(Team(workspace_id=1, name=payload["name"]))
    calls.append({"attempt": ctx.attempt, "state": ctx.state})
    if payload.get("fail_until_attempt", 0) >= ctx.attempt:
        ctx.session.flush()  # the team was written, and must be rolled back
        raise RuntimeError(f"boom on attempt {ctx.attempt}")
    return {"team": payload["name"]}


@job("test.bad_input")
def bad_input(ctx: JobContext, payload: dict[str, Any]) -> None:
    raise JobFailed("row 3, field amount: not a number")


@job("test.batches", max_attempts=2)
def batches(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    start = (ctx.state or {}).get("next", 0)
    calls.append({"attempt": ctx.attempt, "start": start})
    for batch in range(start, 4):
        if batch == 2 and ctx.attempt == 1:
            raise RuntimeError("worker crashed in batch 2")
        ctx.progress(batch + 1, 4, state={"next": batch + 1})
    return {"batches": 4}


def _enqueue(engine: Engine, kind: str, payload: dict[str, Any], **kw: Any) -> int:
    with unit_of_work(engine) as session:
        return enqueue(session, kind, payload, **kw)


def _job(engine: Engine, job_id: int) -> Job:
    with unit_of_work(engine, write=False) as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def _teams(engine: Engine) -> list[str]:
    with unit_of_work(engine, write=False) as session:
        return list(session.scalars(select(Team.name).order_by(Team.name)))


def test_a_job_runs_after_commit_and_its_work_commits_with_the_done_mark(engine: Engine):
    job_id = _enqueue(engine, "test.add_team", {"name": "Sales"})
    assert _job(engine, job_id).status is JobStatus.QUEUED
    assert run_pending(engine) == 1
    done = _job(engine, job_id)
    assert (done.status, done.result, done.attempts) == (JobStatus.DONE, {"team": "Sales"}, 1)
    assert _teams(engine) == ["Sales"]
    assert run_pending(engine) == 0


def test_a_rolled_back_transaction_leaves_no_job(engine: Engine):
    with pytest.raises(ZeroDivisionError), unit_of_work(engine) as session:
        enqueue(session, "test.add_team", {"name": "Ghost"})
        _ = 1 / 0
    with unit_of_work(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_same_key_queues_one_job(engine: Engine):
    first = _enqueue(engine, "test.add_team", {"name": "Once"}, key="team:once")
    second = _enqueue(engine, "test.add_team", {"name": "Once"}, key="team:once")
    assert first == second
    assert run_pending(engine) == 1
    assert _teams(engine) == ["Once"]


def test_an_unknown_kind_is_refused(engine: Engine):
    with pytest.raises(InvalidInput, match="no job kind 'test.nothing'"):
        _enqueue(engine, "test.nothing", {})


def test_a_failure_rolls_back_and_retries_with_backoff_then_fails(engine: Engine):
    job_id = _enqueue(engine, "test.add_team", {"name": "Flaky", "fail_until_attempt": 5})
    assert run_pending(engine) == 1
    after_one = _job(engine, job_id)
    assert after_one.status is JobStatus.QUEUED
    assert after_one.error == "RuntimeError: boom on attempt 1"
    assert after_one.run_after == T0 + timedelta(seconds=2)  # 2 ** attempt
    assert _teams(engine) == []  # the flushed team was rolled back
    assert run_pending(engine) == 0  # not due yet
    clock.freeze(T0 + timedelta(seconds=2))
    assert run_pending(engine) == 1
    clock.freeze(T0 + timedelta(seconds=60))
    assert run_pending(engine) == 1
    failed = _job(engine, job_id)
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 3)
    assert _teams(engine) == []
    with unit_of_work(engine) as session:
        assert queue.requeue(session, job_id)
        assert not queue.requeue(session, job_id)  # only failed jobs


def test_a_retry_that_succeeds_keeps_exactly_one_copy_of_the_work(engine: Engine):
    job_id = _enqueue(engine, "test.add_team", {"name": "Second", "fail_until_attempt": 1})
    run_pending(engine)
    clock.freeze(T0 + timedelta(seconds=5))
    run_pending(engine)
    assert _job(engine, job_id).status is JobStatus.DONE
    assert _teams(engine) == ["Second"]
    assert [c["attempt"] for c in calls] == [1, 2]


def test_job_failed_means_no_retry(engine: Engine):
    job_id = _enqueue(engine, "test.bad_input", {})
    run_pending(engine)
    failed = _job(engine, job_id)
    assert (failed.status, failed.attempts) == (JobStatus.FAILED, 1)
    assert failed.error == "row 3, field amount: not a number"


def test_progress_is_saved_and_a_crashed_job_resumes_from_its_state(engine: Engine):
    job_id = _enqueue(engine, "test.batches", {})
    run_pending(engine)
    crashed = _job(engine, job_id)
    assert crashed.status is JobStatus.QUEUED
    assert (crashed.progress_done, crashed.progress_total, crashed.state) == (2, 4, {"next": 2})
    clock.freeze(T0 + timedelta(seconds=2))
    run_pending(engine)
    done = _job(engine, job_id)
    assert (done.status, done.progress_done) == (JobStatus.DONE, 4)
    assert calls == [{"attempt": 1, "start": 0}, {"attempt": 2, "start": 2}]


def test_a_job_whose_worker_died_is_taken_over_after_its_lease(engine: Engine):
    job_id = _enqueue(engine, "test.add_team", {"name": "Orphan"})
    with unit_of_work(engine) as session:  # a worker claims it and dies
        claimed = queue.claim(session, worker="dead", lease=timedelta(minutes=10))
        assert claimed is not None and claimed.id == job_id
    assert run_pending(engine) == 0  # still leased
    clock.freeze(T0 + timedelta(minutes=11))
    assert run_pending(engine) == 1
    assert _job(engine, job_id).attempts == 2
    assert _teams(engine) == ["Orphan"]


def test_a_periodic_kind_is_queued_once_per_interval(engine: Engine,
                                                     monkeypatch: pytest.MonkeyPatch):
    kind = registry.Kind("test.hourly", add_team, timedelta(hours=1), 3)
    monkeypatch.setattr(registry, "_KINDS", {"test.hourly": kind})
    runner.enqueue_periodic(engine)
    runner.enqueue_periodic(engine)  # a second worker in the same hour
    clock.freeze(T0 + timedelta(minutes=59))
    runner.enqueue_periodic(engine)
    clock.freeze(T0 + timedelta(hours=1))
    runner.enqueue_periodic(engine)
    with unit_of_work(engine, write=False) as session:
        keys = list(session.scalars(select(Job.key).order_by(Job.id)))
    slot = int(T0.timestamp() // 3600)
    assert keys == [f"test.hourly@{slot}", f"test.hourly@{slot + 1}"]
