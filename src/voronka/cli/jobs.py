"""``voronka worker`` and ``voronka jobs``: run background jobs and look after them."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from sqlalchemy import select

from voronka.cli.output import OutputFormat, emit, fail
from voronka.db.session import get_engine, unit_of_work

app = typer.Typer(help="Background jobs: list them, retry failed ones.", no_args_is_help=True)


def worker(
    once: Annotated[bool, typer.Option(help="Run what is due now, then exit.")] = False,
    poll_seconds: Annotated[float | None, typer.Option(
        help="Wait between polls of an empty queue (default: VORONKA_JOB_POLL_SECONDS).")] = None,
) -> None:
    """Run queued jobs (imports, webhook processing, refits, alerts) until stopped."""
    from voronka.db import migrate
    from voronka.jobs import runner

    engine = get_engine()
    migrate.ensure_current(engine)
    if once:
        runner.enqueue_periodic(engine)
        typer.echo(f"ran {runner.run_pending(engine)} job(s)")
        return
    logging.basicConfig(level=logging.INFO)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    runner.work(engine, stop, poll_seconds=poll_seconds)


@app.command("list")
def list_jobs(
    status: Annotated[str | None, typer.Option(help="queued, running, done or failed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Newest jobs shown.")] = 50,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
    = OutputFormat.TABLE,
) -> None:
    """List the newest jobs with their status, progress and error."""
    from voronka.jobs.models import Job, JobStatus

    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if status is not None:
        if status not in {s.value for s in JobStatus}:
            fail(f"--status must be one of {', '.join(s.value for s in JobStatus)}")
        query = query.where(Job.status == status)
    with unit_of_work(get_engine(), write=False) as session:
        rows = [_row(job) for job in session.execute(query).scalars()]
    emit(rows, format)


def _row(job: object) -> dict[str, object]:
    fields = ("id", "kind", "status", "attempts", "progress_done", "progress_total",
              "created_at", "finished_at", "error")
    return {name: getattr(job, name) for name in fields}


@app.command("retry")
def retry(job_id: Annotated[int, typer.Argument(help="Id of a failed job.")]) -> None:
    """Queue a failed job again; it resumes from its last saved state."""
    from voronka.jobs import queue

    with unit_of_work(get_engine()) as session:
        if not queue.requeue(session, job_id):
            fail(f"job {job_id} does not exist or has not failed")
    typer.echo(f"job {job_id} queued again")
