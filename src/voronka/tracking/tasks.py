"""Jobs of the site tracker: closing idle visits, replaying failed hits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from voronka import clock
from voronka.integrations import intake
from voronka.jobs import JobContext, job
from voronka.tracking import receive, service

#: Visits closed per job run; a backlog is taken over the next runs.
CLOSE_BATCH = 2000

job(receive.HANDLER)(intake.replay_handler(receive.process_hit, receive.HANDLER))


@job("tracking.close_visits", every=timedelta(minutes=5))
def close_visits(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Link visitors known by their calls, then write the touchpoints of visits idle for the
    configured minutes (so a caller's visit is written with the client)."""
    linked = service.link_visitors_from_calls(ctx.session, limit=CLOSE_BATCH)
    closed = service.close_idle_visits(ctx.session, now=clock.now(), limit=CLOSE_BATCH)
    return {"linked": linked, "closed": closed}
