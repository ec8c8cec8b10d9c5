"""The job table as a queue: enqueue inside a caller's transaction, claim, finish."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from voronka import clock
from voronka.errors import ErrorDetail, InvalidInput
from voronka.jobs.models import Job, JobStatus
from voronka.jobs.registry import kind as kind_named


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, key: str | None = None,
            run_after: datetime | None = None, workspace_id: int | None = None,
            created_by_id: int | None = None) -> int:
    """Queue a job in the caller's transaction and return its id.

    The job exists only if the caller commits, so it never runs on data that was rolled
    back. A second call with the same ``key`` returns the first job instead of a new one.
    """
    registered = kind_named(kind)
    if registered is None:
        raise InvalidInput(f"no job kind {kind!r}", [ErrorDetail("unknown job kind",
                                                                field="kind", value=kind)])
    values = {
        "kind": kind, "key": key, "payload": payload, "status": JobStatus.QUEUED,
        "attempts": 0, "max_attempts": registered.max_attempts, "workspace_id": workspace_id,
        "created_by_id": created_by_id, "created_at": clock.now(),
        "run_after": run_after or clock.now(), "progress_done": 0,
    }
    statement = _insert_ignoring_key(session).values(**values).returning(Job.id)
    created = session.execute(statement).scalar_one_or_none()
    if created is not None:
        return created
    return session.execute(select(Job.id).where(Job.key == key)).scalar_one()


def enqueue_many(session: Session, kind: str, items: Sequence[tuple[dict[str, Any], str]],
                 *, workspace_id: int | None = None) -> None:
    """Queue many jobs of one kind, each ``(payload, key)``, in one statement (keys already
    queued are skipped), in the caller's transaction."""
    if not items:
        return
    registered = kind_named(kind)
    if registered is None:
        raise InvalidInput(f"no job kind {kind!r}", [ErrorDetail("unknown job kind",
                                                                field="kind", value=kind)])
    now = clock.now()
    rows = [{"kind": kind, "key": key, "payload": payload, "status": JobStatus.QUEUED,
             "attempts": 0, "max_attempts": registered.max_attempts,
             "workspace_id": workspace_id, "created_by_id": None, "created_at": now,
             "run_after": now, "progress_done": 0} for payload, key in items]
    session.execute(_insert_ignoring_key(session), rows)  # one multi-row INSERT, cached


def _insert_ignoring_key(session: Session) -> Any:
    table = Job.__table__
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["key"])
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["key"])
    return insert(table)


def claim(session: Session, *, worker: str, lease: timedelta) -> Job | None:
    """Take the oldest due job (queueing again jobs of workers that died) and lease it."""
    now = clock.now()
    session.execute(
        update(Job)
        .where(Job.status == JobStatus.RUNNING, Job.lease_until < now)
        .values(status=JobStatus.QUEUED, worker=None, lease_until=None)
    )
    due = (select(Job).where(Job.status == JobStatus.QUEUED, Job.run_after <= now)
           .order_by(Job.run_after, Job.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    job = session.execute(due).scalar_one_or_none()
    if job is None:
        return None
    job.status, job.worker, job.started_at = JobStatus.RUNNING, worker, now
    job.attempts += 1
    job.lease_until = now + lease
    return job


def take_queued(session: Session, kind: str, *, limit: int) -> list[Job]:
    """Up to ``limit`` due queued jobs of ``kind``, for the caller to run inside its own job.

    They are locked for the caller's transaction (other workers skip them on PostgreSQL;
    SQLite has one writer) and stay ``queued``: the caller marks them done with
    :func:`finish_many` in that same transaction, so if it rolls back they simply run later.
    """
    if limit <= 0:
        return []
    due = (select(Job).where(Job.kind == kind, Job.status == JobStatus.QUEUED,
                             Job.run_after <= clock.now())
           .order_by(Job.run_after, Job.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return list(session.scalars(due))


def finish_many(session: Session, job_ids: Sequence[int], result: dict[str, Any] | None) -> None:
    """Mark jobs taken with :func:`take_queued` done (in the taking transaction)."""
    if job_ids:
        now = clock.now()
        session.execute(update(Job).where(Job.id.in_(job_ids)).values(
            status=JobStatus.DONE, started_at=now, finished_at=now, result=result,
            attempts=Job.attempts + 1, lease_until=None, error=None))


def finish(session: Session, job_id: int, result: dict[str, Any] | None) -> None:
    session.execute(update(Job).where(Job.id == job_id).values(
        status=JobStatus.DONE, finished_at=clock.now(), result=result, lease_until=None,
        error=None))


def fail(session: Session, job_id: int, error: str, *, retry_in: timedelta | None) -> None:
    """Record a failure: queue the job again after ``retry_in``, or fail it for good."""
    values: dict[str, Any] = {"error": error[:4000], "lease_until": None, "worker": None}
    if retry_in is None:
        values |= {"status": JobStatus.FAILED, "finished_at": clock.now()}
    else:
        values |= {"status": JobStatus.QUEUED, "run_after": clock.now() + retry_in}
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def save_progress(session: Session, job_id: int, done: int, total: int | None,
                  state: dict[str, Any] | None, lease: timedelta) -> None:
    values: dict[str, Any] = {"progress_done": done, "progress_total": total,
                              "lease_until": clock.now() + lease}
    if state is not None:
        values["state"] = state
    session.execute(update(Job).where(Job.id == job_id).values(**values))


def requeue(session: Session, job_id: int) -> bool:
    """Queue a failed job again (``voronka jobs retry``); False when it is not failed."""
    changed = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.FAILED)
        .values(status=JobStatus.QUEUED, run_after=clock.now(), attempts=0, error=None,
                finished_at=None)
    )
    return bool(changed.rowcount)


def get(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)
