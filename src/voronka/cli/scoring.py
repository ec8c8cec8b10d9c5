"""``voronka models``: retrain the lead scorer and see how its runs did."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from voronka.cli.output import OutputFormat, emit, fail
from voronka.config import get_settings
from voronka.db.session import get_engine, unit_of_work
from voronka.errors import VoronkaError

app = typer.Typer(help="Lead-scoring model: retrain, status.", no_args_is_help=True)


def _figures(metrics: dict[str, Any] | None) -> dict[str, Any]:
    backtest = (metrics or {}).get("backtest", {})
    return {key: round(backtest[key], 4) if isinstance(backtest.get(key), float) else None
            for key in ("auc", "brier", "baseline_brier", "log_loss")}


@app.command()
def retrain(
    queue: Annotated[bool, typer.Option("--queue", help="Queue a job for the worker instead "
                                        "of training now.")] = False,
) -> None:
    """Train on the closed deals, backtest, and score the open deals."""
    from voronka.analytics.scoring import service
    from voronka.analytics.scoring.tasks import RETRAIN
    from voronka.jobs import enqueue

    engine, settings = get_engine(), get_settings()
    if queue:
        with unit_of_work(engine) as session:
            job_id = enqueue(session, RETRAIN, {"workspace_id": 1}, workspace_id=1)
        typer.echo(f"queued job {job_id}")
        return
    try:
        training = service.train_on_store(
            engine.url.render_as_string(hide_password=False), settings)
    except VoronkaError as exc:
        fail(exc.message)
    with unit_of_work(engine) as session:
        run = service.record(session, training, workspace_id=1,
                             directory=service.model_dir(settings))
        summary = {"version": run.version, "training_deals": run.training_rows,
                   "scored_open_deals": run.scored_rows, **_figures(run.metrics)}
    emit([summary], OutputFormat.TABLE)


@app.command()
def status(
    limit: Annotated[int, typer.Option(help="How many runs, newest first.", min=1, max=100)]
    = 10,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")]
    = OutputFormat.TABLE,
) -> None:
    """The newest lead-scoring runs with their backtest figures."""
    from voronka.analytics.scoring import repository

    with unit_of_work(get_engine(), write=False) as session:
        rows = [{"version": r.version, "status": r.status.value,
                 "trained_at": r.trained_at.isoformat() if r.trained_at else None,
                 "training_deals": r.training_rows, "scored_open_deals": r.scored_rows,
                 **_figures(r.metrics), "error": r.error}
                for r in repository.runs(session, 1, limit)]
    if not rows and format is OutputFormat.TABLE:
        typer.echo("no lead-scoring model has been trained yet")
        return
    emit(rows, format)
