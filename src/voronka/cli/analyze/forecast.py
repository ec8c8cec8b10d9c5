"""``voronka analyze forecast FILE``: forecast a dated series from a plain file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from voronka.analytics.forecast.model import CANDIDATES, SalesForecaster
from voronka.cli.analyze.base import app, load, print_result, user_errors
from voronka.cli.output import OutputFormat

GRAINS = {"day": "D", "week": "W-MON", "month": "MS"}
SEASON = {"day": 7, "week": 52, "month": 12}


@app.command("forecast")
@user_errors
def forecast(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or XLSX with a date and a value.")],
    date: Annotated[str, typer.Option(help="Column with the date (or timestamp) of each row.")],
    value: Annotated[str, typer.Option(help="Column with the amount; summed per bucket.")],
    grain: Annotated[str, typer.Option(help="Bucket: day, week (from Monday) or month.")] = "month",
    horizon: Annotated[int, typer.Option(help="Buckets to forecast.")] = 12,
    season_length: Annotated[int | None, typer.Option(
        help="Buckets per season (default 7 days, 52 weeks, 12 months).")] = None,
    models: Annotated[str, typer.Option(help="Candidates, comma-separated.")] = ",".join(
        CANDIDATES),
    folds: Annotated[int, typer.Option(help="Backtest origins.")] = 3,
    level: Annotated[float, typer.Option(help="Prediction interval coverage.")] = 0.95,
    separator: Annotated[str, typer.Option(help="CSV field separator.")] = ",",
    format: Annotated[OutputFormat, typer.Option("--format")] = OutputFormat.TABLE,
) -> None:
    """Backtest seasonal naive, ETS, Theta and ARIMA; forecast with the best, with intervals."""
    if grain not in GRAINS:
        raise ValueError(f"--grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    frame = load(file, [date, value], separator=separator)
    series = bucketed(frame, date, value, grain, file.name)
    model = SalesForecaster(horizon=horizon, season_length=season_length or SEASON[grain],
                            candidates=tuple(m.strip() for m in models.split(",") if m.strip()),
                            folds=folds, level=level).fit(series.to_numpy())
    future = pd.date_range(series.index[-1], periods=horizon + 1, freq=GRAINS[grain])[1:]
    result: dict[str, Any] = {
        "model": model.best_,
        "grain": grain,
        "season_length": model.season_length,
        "level": level,
        "backtest": [{**b, "chosen": b["model"] == model.best_} for b in model.backtest_],
        "history": [{"period": p.date().isoformat(), "value": float(v)}
                    for p, v in series.items()],
        "forecast": [{"period": p.date().isoformat(), "forecast": float(m), "lower": float(lo),
                      "upper": float(up)}
                     for p, m, lo, up in zip(future, model.forecast_.mean, model.forecast_.lower,
                                             model.forecast_.upper, strict=True)],
    }
    if format is not OutputFormat.JSON:
        result["forecast"] = [{k: round(v, 4) if isinstance(v, float) else v
                               for k, v in row.items()} for row in result["forecast"]]
    print_result(result, format, table_key="forecast")


def bucketed(frame: pd.DataFrame, date: str, value: str, grain: str, name: str) -> pd.Series:
    """Sum ``value`` per ``grain`` bucket of ``date``; empty buckets between are 0."""
    when = pd.to_datetime(frame[date], errors="coerce", format="mixed")
    amount = pd.to_numeric(frame[value], errors="coerce")
    for column, parsed, kind in ((date, when, "a date"), (value, amount, "a number")):
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            row = int(bad[0])
            raise ValueError(f"{name}: column {column!r}, row {row + 2}: "
                             f"{frame[column].iloc[row]!r} is not {kind}")
    if getattr(when.dt, "tz", None) is not None:
        when = when.dt.tz_localize(None)
    start = when.dt.to_period({"day": "D", "week": "W-SUN", "month": "M"}[grain]).dt.start_time
    sums = amount.groupby(start.to_numpy()).sum()
    full = pd.date_range(sums.index.min(), sums.index.max(), freq=GRAINS[grain])
    return sums.reindex(full, fill_value=0.0).astype(float)
