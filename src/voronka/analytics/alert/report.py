"""The "alerts" report: registry metrics that dropped sharply on a day, and why.

For each metric, the day is judged against the same weekday of the previous ``weeks`` weeks
(``detect.judge``: median and MAD, robust z-score). The engine aggregates the metric's
measures per day — in total and per channel, campaign and manager — for those few days only,
in one UNION ALL query; Python then explains the change: for each segment of each breakdown,
how much of the change would vanish had that segment behaved as usual (its measures at their
same-weekday medians, the rest as they were). The breakdown whose top segment explains the
largest share of the change is reported, with its top segments.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field, field_validator

from voronka.analytics.alert.detect import judge
from voronka.analytics.catalog import Report
from voronka.analytics.labels import labels
from voronka.analytics.metrics.measures import MEASURES, RepeatBuyers
from voronka.analytics.metrics.registry import METRICS, Metric, get
from voronka.analytics.query import Breakdown, Filters, Grain, Strict
from voronka.analytics.reports.dynamics import Window, bucketed, empty_value
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources

DEFAULT_METRICS = ("leads", "won_deals", "revenue", "paid_orders", "average_check",
                   "lead_to_sale")
DEFAULT_BREAKDOWNS = (Breakdown.CHANNEL, Breakdown.CAMPAIGN, Breakdown.MANAGER)
#: Measures whose per-segment values do not add up to the total (distinct counts).
NON_ADDITIVE = frozenset({"buyers", "visitors", "repeat_buyers"})
TOTAL = "total"
TOP_SEGMENTS = 5


class AlertsQuery(Strict):
    """Judge ``day`` (a company-local date) for each metric against past same weekdays."""

    day: date
    metrics: tuple[str, ...] = Field(DEFAULT_METRICS, min_length=1, max_length=26)
    weeks: int = Field(6, ge=3, le=12, description="Past same weekdays compared with.")
    threshold: float = Field(3.5, gt=0, le=20, description="Robust z-score that alerts.")
    min_change: float = Field(0.2, gt=0, lt=1, description="Smallest relative change that "
                              "alerts (0.2 = 20 %).")
    breakdowns: tuple[Breakdown, ...] = Field(DEFAULT_BREAKDOWNS, max_length=5)
    filters: Filters = Filters()

    @field_validator("metrics")
    @classmethod
    def _known(cls, slugs: tuple[str, ...]) -> tuple[str, ...]:
        for slug in slugs:
            get(slug)
        return tuple(dict.fromkeys(slugs))

    def days(self) -> list[date]:
        """The comparison days (oldest first), then the day itself."""
        return [self.day - timedelta(weeks=k) for k in range(self.weeks, 0, -1)] + [self.day]


def _additive(metric: Metric) -> bool:
    return all(MEASURES[m].empty is not None and m not in NON_ADDITIVE for m in metric.measures)


def _breakdowns(metric: Metric, sources: Sources, wanted: tuple[Breakdown, ...]
                ) -> list[Breakdown]:
    if not _additive(metric):
        return []
    return [b for b in wanted
            if all(b in MEASURES[m].fact(sources).dimensions for m in metric.measures)]


def measure_union(sources: Sources, query: AlertsQuery) -> ir.Table:
    """Every needed measure per (day, breakdown, key) on the compared days, and empty values."""
    days = query.days()
    window = Window(days[0], days[0], days[0], days[-1])
    wanted: dict[str, set[Breakdown | None]] = defaultdict(set)
    for slug in query.metrics:
        metric = METRICS[slug]
        for name in metric.measures:
            wanted[name] |= {None, *_breakdowns(metric, sources, query.breakdowns)}
    parts = []
    for name in sorted(wanted):
        measure = MEASURES[name]
        for breakdown in sorted(wanted[name], key=lambda b: b.value if b else ""):
            rows = bucketed(measure, sources, window, Grain.DAY, breakdown, query.filters)
            rows = rows.filter(rows.bucket.isin([ibis.date(d) for d in days]))
            parts.append(rows.select("bucket", "key", "value", measure=ibis.literal(name),
                                     breakdown=ibis.literal(breakdown.value if breakdown
                                                            else TOTAL)))
        if isinstance(measure, RepeatBuyers):
            continue
        empty = empty_value(measure, sources)
        parts.append(empty.select(bucket=ibis.date(days[0]), key=ibis.null("int64"),
                                  value=empty.value, measure=ibis.literal(name),
                                  breakdown=ibis.literal("empty")))
    return ibis.union(*parts)


Values = dict[str, float | None]


class Figures:
    """The engine's rows: measure values by (breakdown, key, day)."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.values: dict[tuple[str, Any, date], dict[str, float | None]] = defaultdict(dict)
        self.empty: dict[str, float | None] = {"repeat_buyers": 0.0}
        self.keys: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            if row["breakdown"] == "empty":
                self.empty[row["measure"]] = row["value"]
                continue
            day = row["bucket"].date() if isinstance(row["bucket"], datetime) else row["bucket"]
            self.values[(row["breakdown"], row["key"], day)][row["measure"]] = row["value"]
            if row["breakdown"] != TOTAL and row["key"] is not None:
                self.keys[row["breakdown"]].add(int(row["key"]))

    def at(self, breakdown: str, key: Any, day: date, measures: tuple[str, ...]) -> Values:
        found = self.values.get((breakdown, key, day), {})
        zero = breakdown != TOTAL  # a segment without facts contributes nothing
        return {m: found.get(m, 0.0 if zero else self.empty.get(m, 0.0)) for m in measures}


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _segments(metric: Metric, figures: Figures, breakdown: Breakdown, days: list[date],
              change: float) -> list[dict[str, Any]]:
    """Each segment's share of the change: actual minus the metric with the segment usual."""
    day, history, names = days[-1], days[:-1], metric.measures
    total = figures.at(TOTAL, None, day, names)
    actual = metric.value(total, 1)
    out = []
    for key in sorted(figures.keys[breakdown.value]):
        now = figures.at(breakdown.value, key, day, names)
        usual = {m: _median([figures.at(breakdown.value, key, d, names)[m] for d in history])
                 for m in names}
        counterfactual = {m: (total[m] or 0.0) - (now[m] or 0.0) + (usual[m] or 0.0)
                          for m in names}
        without = metric.value(counterfactual, 1)
        if actual is None or without is None:
            continue
        contribution = actual - without
        out.append({"key": key, "value": metric.value(now, 1),
                    "expected": metric.value(usual, 1), "contribution": contribution,
                    "share": contribution / change if change else None})
    sign = 1 if metric.higher_is_better else -1
    return sorted(out, key=lambda s: (sign * s["contribution"], s["key"]))


def _explain(metric: Metric, figures: Figures, sources: Sources, query: AlertsQuery,
             change: float | None) -> tuple[str | None, list[dict[str, Any]]]:
    if not change:
        return None, []
    best: tuple[float, Breakdown, list[dict[str, Any]]] | None = None
    for breakdown in _breakdowns(metric, sources, query.breakdowns):
        found = _segments(metric, figures, breakdown, query.days(), change)
        if found and found[0]["share"] is not None and (best is None
                                                        or found[0]["share"] > best[0]):
            best = (found[0]["share"], breakdown, found[:TOP_SEGMENTS])
    if best is None:
        return None, []
    return best[1].value, best[2]


COLUMNS = ("metric", "label_en", "label_ru", "unit", "day", "value", "expected", "change",
           "change_pct", "z_score", "alert", "direction", "history", "breakdown", "segments")


def _row(metric: Metric, figures: Figures, sources: Sources, query: AlertsQuery
         ) -> dict[str, Any]:
    days = query.days()
    series = [metric.value(figures.at(TOTAL, None, d, metric.measures), 1) for d in days]
    verdict = judge(series[-1], series[:-1], higher_is_better=metric.higher_is_better,
                    threshold=query.threshold, min_change=query.min_change)
    breakdown, segments = (_explain(metric, figures, sources, query, verdict.change)
                           if verdict.alert else (None, []))
    return {"metric": metric.slug, "label_en": metric.label_en, "label_ru": metric.label_ru,
            "unit": metric.unit.value, "day": query.day, "value": verdict.value,
            "expected": verdict.expected, "change": verdict.change,
            "change_pct": verdict.change_pct, "z_score": verdict.z_score,
            "alert": verdict.alert,
            "direction": None if verdict.change is None else
            ("down" if verdict.change < 0 else "up" if verdict.change > 0 else "flat"),
            "history": dict(zip([d.isoformat() for d in days[:-1]], series[:-1], strict=True)),
            "breakdown": breakdown, "segments": segments}


def _label(runner: Runner, rows: list[dict[str, Any]]) -> None:
    wanted: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if row["breakdown"]:
            wanted[row["breakdown"]] |= {s["key"] for s in row["segments"]}
    names = {b: labels(runner, Breakdown(b), keys) for b, keys in wanted.items()}
    for row in rows:
        for segment in row["segments"]:
            segment["label"] = names[row["breakdown"]].get(segment["key"], "—")


def run(runner: Runner, query: AlertsQuery) -> Result:
    """Judge every metric on ``query.day``; explain the ones that alert."""
    figures = Figures(runner.rows(measure_union(runner.sources, query)))
    rows = [_row(METRICS[slug], figures, runner.sources, query) for slug in query.metrics]
    _label(runner, rows)
    return Result(
        report="alerts", engine=runner.engine, columns=list(COLUMNS), rows=rows,
        formula=FORMULAS, sql=runner.sql, seconds=runner.seconds,
        row_counts={"days": len(query.days())},
        drilldown={"endpoint": "/api/v1/analytics/drilldown",
                   "period": "the day: start = end = day",
                   "measures": {slug: list(METRICS[slug].measures) for slug in query.metrics}},
        query=query.model_dump(mode="json"),
    )


FORMULAS = {
    "expected": "median of the metric on the same weekday of the previous `weeks` weeks",
    "z_score": "(value − expected) ÷ max(1.4826 × MAD, |expected| × min_change ÷ threshold)",
    "alert": "z-score beyond −threshold (+threshold for metrics where lower is better) and "
    "|change| ≥ min_change × expected",
    "segments": "per segment: contribution = value − the value had the segment been at its "
    "own same-weekday medians; share = contribution ÷ change",
    "breakdown": "the breakdown whose top segment explains the largest share of the change",
}

REPORT = Report(
    name="alerts",
    title_en="Alerts: sharp drops",
    title_ru="Оповещения: резкие падения",
    query=AlertsQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal",),  # plus each requested metric's own resources, checked per query
)
