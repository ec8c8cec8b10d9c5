"""The ``forecast`` report: revenue, orders or units by day/week/month, forecast ahead.

The engine aggregates the history (revenue orders paid in the period, per local calendar
bucket, optionally per product group); Python fills empty buckets with 0, drops buckets the
period clips (a half month would look like a slump) and fits the candidate models on the
short aggregated series (``model.SalesForecaster``).

Sections:

* ``series`` — history and forecast, one row per bucket (``kind`` history | forecast);
* ``backtest`` — each candidate's rolling-origin MASE and sMAPE, the chosen one marked;
* ``groups`` — per product group: the chosen model, its backtest error, the total of the
  forecast horizon and the annual growth rate, i.e. the forecast total ÷ the actual total of
  the same buckets one year earlier − 1, next to the last year's actual growth
  (last ``season`` buckets ÷ the ``season`` buckets before − 1).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
from pydantic import Field, field_validator

from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.forecast.model import CANDIDATES, SalesForecaster
from voronka.analytics.labels import labels
from voronka.analytics.query import Breakdown, Filters, Grain, Period, Strict
from voronka.analytics.reports.dynamics import calendar, shift
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput

SEASON = {Grain.DAY: 7, Grain.WEEK: 52, Grain.MONTH: 12}
_TRUNCATE = {Grain.WEEK: "W", Grain.MONTH: "M"}


class SalesMeasure(StrEnum):
    REVENUE = "revenue"
    ORDERS = "orders"
    UNITS = "units"


class ForecastSection(StrEnum):
    SERIES = "series"
    BACKTEST = "backtest"
    GROUPS = "groups"


class ForecastQuery(Strict):
    period: Period = Field(description="The history the models learn from.")
    filters: Filters = Filters()
    measure: SalesMeasure = SalesMeasure.REVENUE
    grain: Grain = Grain.MONTH
    horizon: int = Field(6, ge=1, le=400, description="Buckets to forecast.")
    season_length: int | None = Field(None, ge=1, le=400,
                                      description="Default: 7 days, 52 weeks, 12 months.")
    models: tuple[str, ...] = Field(CANDIDATES, min_length=1, max_length=len(CANDIDATES))
    folds: int = Field(3, ge=1, le=10, description="Backtest origins.")
    level: float = Field(0.95, gt=0, lt=1, description="Prediction interval coverage.")
    section: ForecastSection = ForecastSection.SERIES

    @field_validator("grain")
    @classmethod
    def _grain(cls, grain: Grain) -> Grain:
        if grain not in SEASON:
            raise ValueError("forecasts are by day, week or month")
        return grain

    @field_validator("models")
    @classmethod
    def _models(cls, models: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in models if m not in CANDIDATES]
        if unknown:
            raise ValueError(f"unknown model {unknown[0]!r}; models: {', '.join(CANDIDATES)}")
        return models

    @property
    def season(self) -> int:
        return self.season_length or SEASON[self.grain]


def _bucket(when: ir.TimestampValue, grain: Grain) -> ir.DateValue:
    if grain is Grain.DAY:
        return when.cast("date")
    return when.truncate(_TRUNCATE[grain]).cast("date")


def history(s: Sources, query: ForecastQuery, by_group: bool) -> ir.Table:
    """``(bucket, key, value)``: the measure per local bucket (and product group)."""
    lines = query.measure is SalesMeasure.UNITS or by_group
    fact = facts.Fact("order lines", facts.order_lines(s), "paid_at") if lines else \
        facts.Fact("paid orders", facts.orders(s), "paid_at")
    rows = fact.within(s, query.period, query.filters)
    key = rows.dim_product_group.cast("int64") if by_group else ibis.null("int64")
    rows = rows.mutate(bucket=_bucket(s.local(rows.paid_at), query.grain), key=key)
    if lines:
        value = {SalesMeasure.REVENUE: rows.line_minor.sum() / 100.0,
                 SalesMeasure.UNITS: rows.quantity.sum(),
                 SalesMeasure.ORDERS: rows.order_id.nunique()}[query.measure]
    else:
        value = rows.total_minor.sum() / 100.0 if query.measure is SalesMeasure.REVENUE \
            else rows.count()
    return rows.group_by("bucket", "key").aggregate(value=value.cast("float64"))


def whole_buckets(period: Period, grain: Grain) -> list[date]:
    """Starts of the buckets lying wholly inside ``period``."""
    return [b.start for b in calendar(period, grain) if not b.partial]


def series_of(rows: list[dict[str, Any]], buckets: list[date]) -> dict[Any, np.ndarray]:
    """Per key, the values over ``buckets`` with 0 where the engine had no row."""
    position = {b: i for i, b in enumerate(buckets)}
    out: dict[Any, np.ndarray] = {}
    for r in rows:
        day = r["bucket"].date() if hasattr(r["bucket"], "date") else r["bucket"]
        if day in position:
            out.setdefault(r["key"], np.zeros(len(buckets)))[position[day]] = r["value"] or 0.0
    return out


def _fit(y: np.ndarray, query: ForecastQuery) -> SalesForecaster:
    model = SalesForecaster(horizon=query.horizon, season_length=query.season,
                            candidates=query.models, folds=query.folds, level=query.level)
    try:
        return model.fit(y)
    except ValueError as exc:
        raise InvalidInput(str(exc), [ErrorDetail(str(exc), field="period")]) from exc


def _series_rows(y: np.ndarray, buckets: list[date], fitted: SalesForecaster,
                 grain: Grain) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"bucket": b, "kind": "history", "actual": float(v), "forecast": None, "lower": None,
         "upper": None, "model": None} for b, v in zip(buckets, y, strict=True)]
    f = fitted.forecast_
    for step in range(len(f.mean)):
        rows.append({"bucket": shift(buckets[-1], grain, step + 1), "kind": "forecast",
                     "actual": None, "forecast": float(f.mean[step]),
                     "lower": float(f.lower[step]), "upper": float(f.upper[step]),
                     "model": fitted.best_})
    return rows


def _backtest_rows(fitted: SalesForecaster) -> list[dict[str, Any]]:
    return [{**b, "chosen": b["model"] == fitted.best_} for b in fitted.backtest_]


def growth(numerator: float, denominator: float) -> float | None:
    """``numerator ÷ denominator − 1`` in percent; None without a base."""
    return None if denominator <= 0 else 100.0 * (numerator / denominator - 1)


def group_row(name: str, key: Any, y: np.ndarray, fitted: SalesForecaster,
              season: int) -> dict[str, Any]:
    """One product group: model, error, forecast total and the annual growth rates."""
    horizon = len(fitted.forecast_.mean)
    forecast_total = float(np.sum(fitted.forecast_.mean))
    # the same buckets one season (year) before the forecast ones
    start = len(y) + np.arange(horizon) - season
    year_ago = float(np.sum(y[start[start >= 0]])) if np.all(start >= 0) else None
    last, before = float(np.sum(y[-season:])), float(np.sum(y[-2 * season:-season]))
    chosen = next(b for b in fitted.backtest_ if b["model"] == fitted.best_)
    return {"group_id": key, "group": name, "model": fitted.best_, "mase": chosen["mase"],
            "smape": chosen["smape"], "forecast_total": forecast_total,
            "same_buckets_year_ago": year_ago,
            "forecast_growth_pct": growth(forecast_total, year_ago) if year_ago else None,
            "last_year": last,
            "year_before": before if len(y) >= 2 * season else None,
            "actual_growth_pct": growth(last, before) if len(y) >= 2 * season else None}


FORMULA = {
    "actual": "the measure in the bucket (revenue of paid revenue orders, their number, or "
              "units on their lines)",
    "forecast": "mean forecast of the model chosen by the backtest",
    "lower": "lower bound of the prediction interval (level)",
    "upper": "upper bound of the prediction interval (level)",
    "mase": "mean over backtest origins of MAE ÷ in-sample MAE of the seasonal naive forecast",
    "smape": "mean over backtest origins of mean(200·|y − ŷ| ÷ (|y| + |ŷ|)), percent",
    "forecast_growth_pct": "forecast total ÷ actual of the same buckets a year earlier − 1",
    "actual_growth_pct": "last season of buckets ÷ the season before − 1",
}


def run(runner: Runner, query: ForecastQuery) -> Result:
    """Forecast the measure; the section chooses what is returned."""
    by_group = query.section is ForecastSection.GROUPS
    buckets = whole_buckets(query.period, query.grain)
    found = series_of(runner.rows(history(runner.sources, query, by_group)), buckets)
    if by_group:
        names = labels(runner, Breakdown.PRODUCT_GROUP, {k for k in found if k})
        rows = [group_row(names.get(key, f"#{key}"), key, y, _fit(y, query), query.season)
                for key, y in sorted(found.items(), key=lambda kv: -float(kv[1].sum()))
                if key is not None]
    else:
        y = next(iter(found.values()), np.zeros(len(buckets)))
        fitted = _fit(y, query)
        rows = (_series_rows(y, buckets, fitted, query.grain)
                if query.section is ForecastSection.SERIES else _backtest_rows(fitted))
    return Result(report="forecast", engine=runner.engine,
                  columns=list(rows[0]) if rows else [], rows=rows, formula=FORMULA,
                  sql=runner.sql, seconds=runner.seconds,
                  row_counts={"buckets": len(buckets), "series": len(found)},
                  query=query.model_dump(mode="json"))


REPORT = Report(
    name="forecast",
    title_en="Sales forecast",
    title_ru="Прогноз продаж",
    query=ForecastQuery,
    run=run,  # type: ignore[arg-type]
    resources=("order",),
)
