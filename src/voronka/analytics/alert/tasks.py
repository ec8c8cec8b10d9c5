"""The daily alerts job: judge yesterday's metrics, store the sharp drops.

Like the retrain job, it reads through the analytics engine before it touches its own
transaction, so on SQLite the write lock is held only while the alerts are inserted.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from voronka.analytics.alert import service
from voronka.analytics.alert.report import AlertsQuery
from voronka.config import get_settings
from voronka.jobs import JobContext, job

DETECT = "alerts.detect"


@job(DETECT, every=timedelta(hours=6))
def detect(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Check ``payload["day"]`` (default: yesterday, company time) for sharp drops."""
    settings = get_settings()
    day = (date.fromisoformat(payload["day"]) if payload.get("day")
           else service.last_complete_day(settings.timezone))
    query = AlertsQuery(day=day, **{k: v for k, v in payload.items()
                                     if k in ("metrics", "weeks", "threshold", "min_change")})
    rows = service.detect_on_store(ctx.engine.url.render_as_string(hide_password=False),
                                   settings, query)
    created = service.store(ctx.session, rows, workspace_id=int(payload.get("workspace_id", 1)))
    return {"day": day.isoformat(), "alerts": len(rows), "new": len(created)}
