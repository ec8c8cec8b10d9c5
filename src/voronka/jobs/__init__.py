"""Background jobs: reminders, imports, webhook processing, refits, scheduled reports.

Usage::

    from voronka.jobs import JobContext, enqueue, job

    @job("hooks.process_event")            # its module is listed in HANDLER_MODULES
    def process_event(ctx: JobContext, payload: dict) -> dict | None:
        ...                                 # ctx.session is the job's transaction

    enqueue(session, "hooks.process_event", {"event_id": 5}, key="hooks:5")

Jobs run after the enqueueing transaction commits: in ``voronka worker`` processes, in a
thread of ``voronka serve`` (setting ``embedded_worker``), or, in tests, by
:func:`run_pending`. See docs/jobs.md.
"""

from voronka.jobs.queue import enqueue
from voronka.jobs.registry import HANDLER_MODULES, job
from voronka.jobs.runner import JobContext, JobFailed, run_one, run_pending

__all__ = ["HANDLER_MODULES", "JobContext", "JobFailed", "enqueue", "job", "run_one",
           "run_pending"]
