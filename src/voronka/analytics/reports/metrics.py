"""The metrics report: any metrics of the registry for a period and breakdown, with growth
against the previous period and the same period a year earlier.

All measures of all compared periods are aggregated in one query (a UNION ALL), so the report
costs one round trip to the engine whatever the number of metrics.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import ibis.expr.types as ir
from pydantic import Field, field_validator

from voronka.analytics.catalog import Report
from voronka.analytics.labels import labels
from voronka.analytics.metrics.measures import MEASURES, measure_rows
from voronka.analytics.metrics.registry import METRICS, Metric, get, ratio
from voronka.analytics.query import Breakdown, Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner

CURRENT, PREVIOUS, YEAR_AGO = "current", "previous", "year_ago"


class MetricsQuery(Strict):
    period: Period
    metrics: tuple[str, ...] = Field(default=tuple(METRICS), min_length=1, max_length=40)
    breakdown: Breakdown | None = None
    filters: Filters = Filters()
    compare: bool = True

    @field_validator("metrics")
    @classmethod
    def _known(cls, slugs: tuple[str, ...]) -> tuple[str, ...]:
        for slug in slugs:
            get(slug)
        return tuple(dict.fromkeys(slugs))


def periods(query: MetricsQuery) -> dict[str, Period]:
    out = {CURRENT: query.period}
    if query.compare:
        out[PREVIOUS] = query.period.previous()
        out[YEAR_AGO] = query.period.year_before()
    return out


def measure_union(runner: Runner, query: MetricsQuery, metrics: list[Metric]) -> ir.Table:
    needed = sorted({name for metric in metrics for name in metric.measures})
    return measure_rows(runner.sources, {name: MEASURES[name] for name in needed},
                        periods(query), query.breakdown, query.filters)


def growth(current: float | None, before: float | None) -> float | None:
    """(current − before) ÷ before × 100%, or None when undefined."""
    return None if current is None else ratio(current - (before or 0.0), before, 100.0)


def run(runner: Runner, query: MetricsQuery) -> Result:
    """Compute the metrics; one row per (breakdown key, metric)."""
    metrics = [METRICS[slug] for slug in query.metrics]
    values: dict[tuple[str, Any], dict[str, float | None]] = defaultdict(dict)
    row_counts: dict[str, int] = defaultdict(int)
    for row in runner.rows(measure_union(runner, query, metrics)):
        values[(row["period"], row["key"])][row["measure"]] = row["value"]
        if row["period"] == CURRENT:
            row_counts[row["measure"]] += int(row["rows"] or 0)
    keys = sorted({key for (_, key) in values}, key=lambda k: (k is None, k or 0))
    names = labels(runner, query.breakdown, {k for k in keys if k is not None}) \
        if query.breakdown else {}
    days = {label: p.days for label, p in periods(query).items()}
    rows = [
        _row(metric, key, names, values, days, query.compare)
        for key in (keys or [None])
        for metric in metrics
    ]
    return Result(
        report="metrics", engine=runner.engine, columns=list(rows[0]) if rows else [],
        rows=rows, formula={m.slug: m.formula for m in metrics}, sql=runner.sql,
        seconds=runner.seconds, row_counts=dict(row_counts),
        drilldown={"endpoint": "/api/v1/analytics/drilldown",
                   "measures": {m.slug: list(m.measures) for m in metrics}},
        query=query.model_dump(mode="json"),
    )


def _filled(metric: Metric, found: dict[str, float | None]) -> dict[str, float | None]:
    """Measures with no fact for a key: counts and sums are 0, medians undefined."""
    return {name: found.get(name, MEASURES[name].empty) for name in metric.measures}


def _row(metric: Metric, key: Any, names: dict[int, str],
         values: dict[tuple[str, Any], dict[str, float | None]], days: dict[str, int],
         compare: bool) -> dict[str, Any]:
    current = metric.value(_filled(metric, values.get((CURRENT, key), {})), days[CURRENT])
    row: dict[str, Any] = {
        "key": key, "label": names.get(key, "—") if key is not None else "total",
        "metric": metric.slug, "unit": metric.unit.value, "value": current,
    }
    if compare:
        previous = metric.value(_filled(metric, values.get((PREVIOUS, key), {})), days[PREVIOUS])
        year_ago = metric.value(_filled(metric, values.get((YEAR_AGO, key), {})), days[YEAR_AGO])
        row.update(previous=previous, growth_pct=growth(current, previous),
                   year_ago=year_ago, yoy_pct=growth(current, year_ago))
    return row


REPORT = Report(
    name="metrics",
    title_en="Metrics with growth",
    title_ru="Показатели и их динамика",
    query=MetricsQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal",),  # plus each requested metric's own resources, checked per query
)
