"""The dynamics report: registry metrics by day, week, month, quarter or year over a period.

Each bucket carries its value, the previous bucket's value and the value of the same bucket a
year earlier, with growth against both. Buckets are company-local calendar units (weeks start
on Monday); the calendar is made in Python so that empty buckets appear, while every aggregate
comes from the engine in one UNION ALL query that also covers the year of history the
comparisons need.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field, field_validator, model_validator

from voronka.analytics.catalog import Report
from voronka.analytics.facts import DIM, Fact, midnight
from voronka.analytics.labels import labels
from voronka.analytics.metrics.measures import (
    MEASURES,
    Measure,
    RepeatBuyers,
    by_fact,
    check_breakdown,
)
from voronka.analytics.metrics.registry import METRICS, Metric, get
from voronka.analytics.query import Breakdown, Filters, Grain, Period, Strict
from voronka.analytics.reports.metrics import growth
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner, constant_table
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput

#: More buckets than this make a chart nobody can read and a result nobody should download.
MAX_BUCKETS = 1000
_TRUNCATE_UNIT = {Grain.WEEK: "W", Grain.MONTH: "M", Grain.QUARTER: "Q", Grain.YEAR: "Y"}
_MONTHS_PER = {Grain.MONTH: 1, Grain.QUARTER: 3, Grain.YEAR: 12}


# --- the calendar (Python) -------------------------------------------------------------------


def bucket_start(day: date, grain: Grain) -> date:
    """The first day of the ``grain`` bucket holding ``day`` (weeks start on Monday)."""
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    months = _MONTHS_PER[grain]
    return day.replace(month=(day.month - 1) // months * months + 1, day=1)


def shift(start: date, grain: Grain, buckets: int) -> date:
    """The start of the bucket ``buckets`` buckets after (or, if negative, before) ``start``."""
    if grain is Grain.DAY:
        return start + timedelta(days=buckets)
    if grain is Grain.WEEK:
        return start + timedelta(weeks=buckets)
    month_index = start.year * 12 + start.month - 1 + buckets * _MONTHS_PER[grain]
    return date(month_index // 12, month_index % 12 + 1, 1)


def year_ago(start: date, grain: Grain) -> date:
    """The start of the same bucket a year earlier.

    Weeks go back 52 weeks, so a Monday stays a Monday; days go back a calendar year, with
    29 February becoming 28 February as in ``Period.year_before``.
    """
    if grain is Grain.WEEK:
        return start - timedelta(weeks=52)
    if grain is Grain.DAY:
        return Period(start=start, end=start).year_before().start
    return start.replace(year=start.year - 1)


@dataclass(frozen=True)
class Bucket:
    """One calendar bucket: it starts on ``start``; the period holds ``first_day``..``last_day``.

    A bucket is ``partial`` when the period clips it (a period starting or ending mid-month
    at month grain): its figures then cover only the period's days.
    """

    start: date
    first_day: date
    last_day: date
    partial: bool

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def calendar(period: Period, grain: Grain) -> list[Bucket]:
    """Every bucket overlapping ``period``, in order, the first and last clipped to it."""
    out, start = [], bucket_start(period.start, grain)
    while start <= period.end:
        whole_end = shift(start, grain, 1) - timedelta(days=1)
        first_day, last_day = max(start, period.start), min(whole_end, period.end)
        out.append(
            Bucket(start, first_day, last_day, partial=(first_day, last_day) != (start, whole_end))
        )
        start = whole_end + timedelta(days=1)
    return out


def bucket_count(period: Period, grain: Grain) -> int:
    """How many buckets ``calendar`` would make, without making them."""
    first, last = bucket_start(period.start, grain), bucket_start(period.end, grain)
    if grain is Grain.DAY:
        return (last - first).days + 1
    if grain is Grain.WEEK:
        return (last - first).days // 7 + 1
    months = (last.year - first.year) * 12 + last.month - first.month
    return months // _MONTHS_PER[grain] + 1


# --- the query ------------------------------------------------------------------------------


class DynamicsQuery(Strict):
    period: Period
    metrics: tuple[str, ...] = Field(min_length=1, max_length=40)
    grain: Grain = Grain.MONTH
    filters: Filters = Filters()
    breakdown: Breakdown | None = None

    @field_validator("metrics")
    @classmethod
    def _known(cls, slugs: tuple[str, ...]) -> tuple[str, ...]:
        for slug in slugs:
            get(slug)
        return tuple(dict.fromkeys(slugs))

    @model_validator(mode="after")
    def _readable(self) -> DynamicsQuery:
        if bucket_count(self.period, self.grain) > MAX_BUCKETS:
            raise InvalidInput(
                f"the period has more than {MAX_BUCKETS} {self.grain.value} buckets",
                [ErrorDetail("choose a coarser grain or a shorter period", field="grain")],
            )
        return self


@dataclass(frozen=True)
class Window:
    """The days the query reads: a year of history, then the period itself.

    The days of the first bucket that fall before the period (``gap_start``..``gap_end``
    exclusive) are left out, so a clipped first bucket holds only the period's days while
    every history bucket is whole.
    """

    history_start: date
    gap_start: date
    gap_end: date
    end: date

    @classmethod
    def of(cls, period: Period, grain: Grain) -> Window:
        first = bucket_start(period.start, grain)
        history = min(year_ago(first, grain), shift(first, grain, -1))
        return cls(history, first, period.start, period.end)

    def as_period(self) -> Period:
        # Not validated: history plus a period of the longest allowed length exceeds the cap.
        return Period.model_construct(start=self.history_start, end=self.end)


# --- the engine query: measures by bucket ---------------------------------------------------


def _local_when(fact: Fact, sources: Sources, rows: ir.Table) -> ir.Value:
    return rows[fact.at] if fact.is_date else sources.local(rows[fact.at])


def _bucket_of(when: ir.Value, grain: Grain) -> ir.DateValue:
    if grain is Grain.DAY:
        return when.cast("date")
    # Spark's date_trunc returns a timestamp even for a date; the cast makes every engine agree.
    return when.truncate(_TRUNCATE_UNIT[grain]).cast("date")


def _in_window(fact: Fact, sources: Sources, window: Window, filters: Filters,
               breakdown: Breakdown | None) -> ir.Table:
    rows = fact.within(sources, window.as_period(), filters, breakdown=breakdown,
                       any_columns=False)
    if window.gap_start == window.gap_end:
        return rows
    when = _local_when(fact, sources, rows)
    if fact.is_date:
        gap_start, gap_end = ibis.date(window.gap_start), ibis.date(window.gap_end)
    else:
        gap_start, gap_end = midnight(window.gap_start), midnight(window.gap_end)
    return rows.filter((when < gap_start) | (when >= gap_end))


def bucketed(
    measure: Measure,
    sources: Sources,
    window: Window,
    grain: Grain,
    breakdown: Breakdown | None,
    filters: Filters,
) -> ir.Table:
    """``measure`` aggregated per (bucket, breakdown key) over ``window``.

    Rows ``(bucket, key, value, rows)``: ``bucket`` is the local start date of the bucket;
    buckets without facts have no row.
    """
    fact = measure.fact(sources)
    check_breakdown(measure, fact, breakdown)
    rows = _in_window(fact, sources, window, filters, breakdown)
    rows = rows.mutate(
        bucket=_bucket_of(_local_when(fact, sources, rows), grain),
        key=rows[DIM[breakdown]].cast("int64") if breakdown else ibis.null("int64"),
    )
    if isinstance(measure, RepeatBuyers):
        return _repeat_buyers_by_bucket(rows)
    return rows.group_by("bucket", "key").aggregate(
        value=measure.aggregate(rows).cast("float64"), rows=rows.count().cast("int64")
    )


def _repeat_buyers_by_bucket(rows: ir.Table) -> ir.Table:
    """Clients with two or more facts within the same bucket (``RepeatBuyers`` per bucket)."""
    per_client = rows.group_by("bucket", "key", client=rows.client_id).aggregate(n=rows.count())
    return per_client.group_by("bucket", "key").aggregate(
        value=ibis.coalesce((per_client.n >= 2).ifelse(1, 0).sum(), 0).cast("float64"),
        rows=per_client.n.sum().cast("int64"),
    )


def empty_value(measure: Measure, sources: Sources) -> ir.Table:
    """What ``measure`` is over no facts: 0 for counts and sums, NULL for medians.

    Computed by the engine from the measure's own aggregate, so an empty bucket shows exactly
    what the metrics report shows for an empty period.
    """
    if isinstance(measure, RepeatBuyers):  # counts clients, so nothing is 0
        return constant_table({"value": [0.0]}, schema={"value": "float64"})
    none = measure.fact(sources).table.filter(ibis.literal(False))
    return none.aggregate(value=measure.aggregate(none).cast("float64"))


def measure_union(sources: Sources, query: DynamicsQuery, names: list[str]) -> ir.Table:
    """Every measure by bucket over the window, in one table.

    Measures over the same fact are aggregated together in one pass (``by_fact``).
    """
    window = Window.of(query.period, query.grain)
    measures = {name: MEASURES[name] for name in names}
    plain, special = by_fact(sources, measures, query.breakdown)
    parts = [
        bucketed(measure, sources, window, query.grain, query.breakdown, query.filters)
        .select("bucket", "key", "value", "rows", measure=ibis.literal(name))
        for name, measure in special.items()
    ]
    for fact, members in plain:
        rows = _in_window(fact, sources, window, query.filters, query.breakdown)
        rows = rows.mutate(
            when=_local_when(fact, sources, rows),
            key=rows[DIM[query.breakdown]].cast("int64") if query.breakdown
            else ibis.null("int64"),
        )
        if query.grain is not Grain.DAY and all(m.additive for m in members.values()):
            by_bucket = _rolled_up(rows, members, query.grain)
        else:
            rows = rows.mutate(bucket=_bucket_of(rows.when, query.grain))
            by_bucket = rows.group_by("bucket", "key").aggregate(
                rows=rows.count().cast("int64"),
                **{f"value_{i}": m.aggregate(rows).cast("float64")
                   for i, m in enumerate(members.values())},
            )
        parts += [by_bucket.select("bucket", "key", value=by_bucket[f"value_{i}"],
                                   rows=by_bucket.rows, measure=ibis.literal(name))
                  for i, name in enumerate(members)]
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def _rolled_up(rows: ir.Table, members: dict[str, Measure], grain: Grain) -> ir.Table:
    """Additive measures per day, then the days added up to ``grain`` buckets.

    Truncating a few hundred days to months is cheaper than truncating every fact's
    timestamp, and the integer partial sums make the result exactly one pass's.
    """
    days = rows.group_by(day=rows.when.cast("date"), key=rows.key).aggregate(
        rows=rows.count().cast("int64"),
        **{f"part_{i}": m.partial(rows) for i, m in enumerate(members.values())},  # type: ignore[misc]
    )
    days = days.mutate(bucket=_bucket_of(days.day, grain))
    return days.group_by("bucket", "key").aggregate(
        rows=days.rows.sum().cast("int64"),
        **{f"value_{i}": m.combined(days[f"part_{i}"]).cast("float64")
           for i, m in enumerate(members.values())},
    )


# --- combining the numbers ------------------------------------------------------------------


@dataclass
class Figures:
    """The engine's rows, indexed: measure values by (bucket, key), and empty values."""

    values: dict[tuple[date, Any], dict[str, float | None]]
    empty: dict[str, float | None]

    def at(self, bucket: date, key: Any) -> dict[str, float | None]:
        return {**self.empty, **self.values.get((bucket, key), {})}


def _index(rows: list[dict[str, Any]], query: DynamicsQuery,
           names: list[str]) -> tuple[Figures, dict[str, int]]:
    values: dict[tuple[date, Any], dict[str, float | None]] = defaultdict(dict)
    # a bucket without facts shows what the metrics report shows for an empty period
    empty = {name: MEASURES[name].empty for name in names}
    row_counts: dict[str, int] = defaultdict(int)
    first = bucket_start(query.period.start, query.grain)
    for row in rows:
        bucket = _as_date(row["bucket"])
        values[(bucket, row["key"])][row["measure"]] = row["value"]
        if bucket >= first:
            row_counts[row["measure"]] += int(row["rows"] or 0)
    return Figures(dict(values), empty), dict(row_counts)


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Compared:
    """A bucket compared with: its start, its length in days and whether it is whole."""

    start: date
    days: int
    partial: bool


def _compared(start: date, grain: Grain, in_period: dict[date, Bucket]) -> Compared:
    if start in in_period:
        bucket = in_period[start]
        return Compared(start, bucket.days, bucket.partial)
    return Compared(start, (shift(start, grain, 1) - start).days, partial=False)


COLUMNS = (
    "bucket",
    "first_day",
    "last_day",
    "partial",
    "key",
    "label",
    "metric",
    "unit",
    "value",
    "previous_bucket",
    "previous",
    "growth_pct",
    "year_ago_bucket",
    "year_ago",
    "yoy_pct",
)


def _row(
    metric: Metric,
    bucket: Bucket,
    key: Any,
    label: str,
    figures: Figures,
    grain: Grain,
    in_period: dict[date, Bucket],
) -> dict[str, Any]:
    start = bucket.start
    value = metric.value(figures.at(start, key), bucket.days)
    row: dict[str, Any] = {
        "bucket": start,
        "first_day": bucket.first_day,
        "last_day": bucket.last_day,
        "partial": bucket.partial,
        "key": key,
        "label": label,
        "metric": metric.slug,
        "unit": metric.unit.value,
        "value": value,
    }
    for name, other_start in (
        ("previous", shift(start, grain, -1)),
        ("year_ago", year_ago(start, grain)),
    ):
        other = _compared(other_start, grain, in_period)
        other_value = metric.value(figures.at(other.start, key), other.days)
        comparable = not (bucket.partial or other.partial)
        row[f"{name}_bucket"] = other.start
        row[name] = other_value
        row["growth_pct" if name == "previous" else "yoy_pct"] = (
            growth(value, other_value) if comparable else None
        )
    return row


def _keys(figures: Figures, buckets: list[Bucket], breakdown: Breakdown | None) -> list[Any]:
    """The breakdown keys with facts in some bucket of the period (history keys are not shown)."""
    if breakdown is None:
        return [None]
    starts = {b.start for b in buckets}
    found = {key for (bucket, key) in figures.values if bucket in starts}
    return sorted(found, key=lambda k: (k is None, k or 0))


def run(runner: Runner, query: DynamicsQuery) -> Result:
    """Compute the metrics per bucket; one row per (bucket, breakdown key, metric)."""
    metrics = [METRICS[slug] for slug in query.metrics]
    names = sorted({name for metric in metrics for name in metric.measures})
    found = runner.rows(measure_union(runner.sources, query, names))
    figures, row_counts = _index(found, query, names)
    buckets = calendar(query.period, query.grain)
    in_period = {b.start: b for b in buckets}
    keys = _keys(figures, buckets, query.breakdown)
    names_of = (
        labels(runner, query.breakdown, {k for k in keys if k is not None})
        if query.breakdown
        else {}
    )
    rows = [
        _row(
            metric,
            bucket,
            key,
            _label(key, names_of, query.breakdown),
            figures,
            query.grain,
            in_period,
        )
        for bucket in buckets
        for key in keys
        for metric in metrics
    ]
    return Result(
        report="dynamics",
        engine=runner.engine,
        columns=list(COLUMNS),
        rows=rows,
        formula={m.slug: m.formula for m in metrics} | _COMPARISON_FORMULAS,
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts=row_counts,
        drilldown={
            "endpoint": "/api/v1/analytics/drilldown",
            "period": "the bucket's days: first_day..last_day",
            "measures": {m.slug: list(m.measures) for m in metrics},
        },
        query=query.model_dump(mode="json"),
    )


def _label(key: Any, names: dict[int, str], breakdown: Breakdown | None) -> str:
    if breakdown is None:
        return "total"
    return names.get(key, "—") if key is not None else "—"


_COMPARISON_FORMULAS = {
    "growth_pct": "(value − previous bucket) ÷ previous bucket × 100%; "
    "None when either bucket is clipped by the period",
    "yoy_pct": "(value − same bucket a year earlier) ÷ that value × 100%; "
    "None when either bucket is clipped by the period",
}

REPORT = Report(
    name="dynamics",
    title_en="Dynamics",
    title_ru="Динамика показателей",
    query=DynamicsQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal",),  # plus each requested metric's own resources, checked per query
)
