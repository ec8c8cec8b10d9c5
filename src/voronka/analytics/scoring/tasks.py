"""The retrain job: train on the analytics engine first, then write in one short transaction.

The handler touches its transaction (``ctx.session``) only after training, so on SQLite the
write lock is held for the few milliseconds of the insert, not for the training.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from voronka.analytics.scoring import service
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.errors import VoronkaError
from voronka.jobs import JobContext, JobFailed, job

RETRAIN = "scoring.retrain"


@job(RETRAIN, every=timedelta(days=1), max_attempts=2)
def retrain(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Retrain the lead scorer and rescore the open deals."""
    settings = get_settings()
    workspace_id = int(payload.get("workspace_id", 1))
    created_by_id = payload.get("created_by_id")
    url = ctx.engine.url.render_as_string(hide_password=False)
    try:
        training = service.train_on_store(url, settings)
    except VoronkaError as exc:
        with unit_of_work(ctx.engine) as session:
            service.record_failure(session, workspace_id=workspace_id, error=exc.message,
                                   created_by_id=created_by_id)
        raise JobFailed(exc.message) from exc
    run = service.record(ctx.session, training, workspace_id=workspace_id,
                         directory=service.model_dir(settings), created_by_id=created_by_id)
    backtest = run.metrics["backtest"] if run.metrics else {}
    return {"model_run_id": run.id, "version": run.version, "scored": run.scored_rows,
            "auc": backtest.get("auc")}
