"""Running jobs: one transaction per job, progress in its own short transactions.

A handler's work and the job's ``done`` mark commit together, so a job is never counted done
without its work, nor its work kept without the mark. A failure rolls the work back and
queues the job again with a growing delay, up to its ``max_attempts``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from voronka import clock
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.jobs import queue
from voronka.jobs.registry import load_handlers

log = logging.getLogger(__name__)


class JobFailed(Exception):
    """Raised by a handler when retrying cannot help (bad input): the job fails at once."""


@dataclass
class JobContext:
    """What a handler gets besides its payload."""

    job_id: int
    attempt: int
    engine: Engine
    session: Session
    state: dict[str, Any] | None
    lease: timedelta = field(default_factory=lambda: _lease())

    def progress(self, done: int, total: int | None = None,
                 state: dict[str, Any] | None = None) -> None:
        """Record progress (and the state to resume from) where others can see it now.

        SQLite has one writer: when this job's own transaction already writes, the progress
        goes into that transaction instead of waiting for it.
        """
        if self.engine.dialect.name == "sqlite" and self.session.in_transaction():
            queue.save_progress(self.session, self.job_id, done, total, state, self.lease)
            return
        with unit_of_work(self.engine) as session:
            queue.save_progress(session, self.job_id, done, total, state, self.lease)
        if state is not None:
            self.state = state


def _lease() -> timedelta:
    return timedelta(seconds=get_settings().job_lease_seconds)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_pending(engine: Engine, *, limit: int | None = None) -> int:
    """Run due jobs one after another until none is left (or ``limit``); return how many.

    Periodic kinds are queued by :func:`work` (the worker loop), not here, so that a test
    running its own jobs does not also run every periodic job of the product.
    """
    ran = 0
    while limit is None or ran < limit:
        if not run_one(engine):
            break
        ran += 1
    return ran


def run_one(engine: Engine) -> bool:
    """Claim and run the next due job; False when there is none."""
    with unit_of_work(engine) as session:
        job = queue.claim(session, worker=worker_name(), lease=_lease())
        if job is None:
            return False
        job_id, name, payload = job.id, job.kind, dict(job.payload)
        attempt, attempts_max, state = job.attempts, job.max_attempts, job.state
    registered = load_handlers().get(name)
    try:
        if registered is None:
            raise JobFailed(f"no handler for job kind {name!r}")
        with unit_of_work(engine) as session:
            context = JobContext(job_id, attempt, engine, session, state)
            result = registered.handler(context, payload)
            queue.finish(session, job_id, result)
    except Exception as exc:
        permanent = isinstance(exc, JobFailed) or attempt >= attempts_max
        log.warning("job %s (%s) failed, attempt %s: %s", job_id, name, attempt, exc)
        with unit_of_work(engine) as session:
            queue.fail(session, job_id, _describe(exc),
                       retry_in=None if permanent else timedelta(seconds=2 ** attempt))
    return True


def _describe(exc: Exception) -> str:
    if isinstance(exc, JobFailed):
        return str(exc)
    return "".join(traceback.format_exception_only(exc)).strip()


def enqueue_periodic(engine: Engine) -> None:
    """Queue each periodic kind once per interval; the key makes workers agree on it."""
    periodic = [k for k in load_handlers().values() if k.every is not None]
    if not periodic:
        return
    now = clock.now()
    with unit_of_work(engine) as session:
        for registered in periodic:
            assert registered.every is not None
            slot = int(now.timestamp() // registered.every.total_seconds())
            queue.enqueue(session, registered.name, {}, key=f"{registered.name}@{slot}")


def work(engine: Engine, stop: threading.Event, *, poll_seconds: float | None = None) -> None:
    """Run jobs until ``stop`` is set, waiting ``poll_seconds`` whenever the queue is empty."""
    wait = poll_seconds if poll_seconds is not None else get_settings().job_poll_seconds
    while not stop.is_set():
        try:
            enqueue_periodic(engine)
            ran = run_pending(engine, limit=100)
        except Exception:  # a database outage must not kill the worker
            log.exception("job worker: cannot reach the queue")
            ran = 0
        if not ran:
            stop.wait(wait)


def start_embedded(engine: Engine) -> threading.Event:
    """Run a worker in a daemon thread of this process; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=work, args=(engine, stop), name="voronka-jobs", daemon=True).start()
    return stop
