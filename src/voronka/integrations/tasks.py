"""Upkeep of the raw inbound log: old processed events are deleted (retention)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from voronka import clock
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.integrations import inbound
from voronka.jobs import JobContext, job

PURGE = "inbound.purge"
PURGE_BATCH = 1000
#: Most batches one run deletes; the next hourly run goes on from there.
PURGE_MAX_BATCHES = 200


@job(PURGE, every=timedelta(hours=1), max_attempts=1)
def purge_old_events(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Delete processed and ignored events older than ``inbound_retention_days``.

    Each batch commits in its own short transaction, so a large backlog never holds locks
    (or SQLite's write lock) for long, and a run stopped half-way keeps what it deleted.
    """
    days = get_settings().inbound_retention_days
    if days == 0:
        return {"deleted": 0, "retention_days": 0}
    cutoff = clock.now() - timedelta(days=days)
    deleted = 0
    for _ in range(PURGE_MAX_BATCHES):
        with unit_of_work(ctx.engine) as session:
            removed = inbound.purge(session, received_before=cutoff, limit=PURGE_BATCH)
        deleted += removed
        if removed < PURGE_BATCH:
            break
    return {"deleted": deleted, "retention_days": days}
