"""The manager scorecard: one row per manager with the sales, call and task figures of a
period, then the median of each figure per team and over everyone (DESIGN.md §4).

The figures are the registry's measures broken down by manager (``dim_manager``), plus two
the registry does not keep: all calls, and tasks overdue at the end of the period. Every
measure is aggregated in one query (a UNION ALL, as in ``reports/metrics.py``); the list of
managers is a second, small query. Ratios and medians across managers are taken in Python
over those few numbers.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field

from voronka import clock
from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.facts import DIM, Fact
from voronka.analytics.metrics.measures import MEASURES, Measure, measure_rows
from voronka.analytics.metrics.registry import METRICS
from voronka.analytics.query import Breakdown, Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput

MANAGER_ROLES = ("sales_manager", "head_of_sales")
MANAGER, TEAM_MEDIAN, OVERALL_MEDIAN = "manager", "team_median", "overall_median"

Values = dict[str, float | None]


class ScorecardQuery(Strict):
    """The period, the facts to count (filters) and, optionally, one team's managers only."""

    period: Period
    filters: Filters = Filters()
    team_id: int | None = Field(None, ge=1, description="Only the managers of this team.")


def _all_calls(s: Sources) -> Fact:
    return Fact("calls", facts.calls(s), "occurred_at", undimensioned=facts.managed_calls(s))


def _tasks(s: Sources) -> Fact:
    a = s["activity"]
    tasks = a.filter(a.kind == "task", ~a.is_deleted)
    return Fact("tasks", tasks.mutate(dim_manager=tasks.owner_id), "due_at")


def cutoff(sources: Sources, period: Period) -> datetime:
    """When overdue tasks are counted (naive UTC): the end of the period, or now if sooner."""
    end = datetime.combine(period.end_exclusive, time.min) - sources.utc_offset
    now = clock.now().astimezone(UTC).replace(tzinfo=None)
    return min(end, now)


@dataclass(frozen=True)
class OverdueTasks(Measure):
    """Tasks open and past due at the cutoff: created and due before it, not completed by it.

    Not a count of facts *in* the period but a state *at its end*, so the period selects the
    moment, not the rows; only the manager filter applies (tasks have no other dimension).
    """

    def expression(
        self, sources: Sources, period: Period, breakdown: Breakdown | None, filters: Filters
    ) -> ir.Table:
        t = self.fact(sources).table
        at = ibis.timestamp(cutoff(sources, period))
        t = t.filter(
            t.created_at < at, t.due_at < at, t.completed_at.isnull() | (t.completed_at >= at)
        )
        for dimension, ids in filters.by_dimension().items():
            t = t.filter(t[DIM[dimension]].isin(list(ids)))
        key = t.dim_manager.cast("int64") if breakdown else ibis.null("int64")
        return t.group_by(key=key).aggregate(
            value=t.count().cast("float64"), rows=t.count().cast("int64")
        )


#: Registry measures the scorecard reads, broken down by manager.
FROM_REGISTRY = (
    "leads",
    "won",
    "lost",
    "revenue",
    "paid_orders",
    "response_median",
    "missed_calls",
    "talk_median",
)

#: The measures the scorecard reads: the registry's, plus all calls and overdue tasks.
SCORECARD_MEASURES: dict[str, Measure] = {
    **{name: MEASURES[name] for name in FROM_REGISTRY},
    "calls": Measure("calls", _all_calls, lambda t: t.count(), "calls of any direction and status"),
    "overdue_tasks": OverdueTasks(
        "overdue_tasks",
        _tasks,
        lambda t: t.count(),
        "tasks open and past due at the end of the period",
    ),
}


@dataclass(frozen=True)
class Column:
    """An output column: the measures it needs and how it is made from their values."""

    name: str
    measures: tuple[str, ...]
    compute: Callable[[Values], float | int | None]
    formula: str


def _count(measure: str, formula: str) -> Column:
    return Column(measure, (measure,), lambda v: int(v.get(measure) or 0), formula)


def _value(name: str, measure: str, formula: str, zero: float | None = None) -> Column:
    return Column(name, (measure,), lambda v: v.get(measure, zero), formula)


def _metric(name: str, slug: str) -> Column:
    metric = METRICS[slug]
    days = 1  # none of the scorecard's metrics depends on the length of the period
    return Column(name, metric.measures, lambda v: metric.value(v, days), metric.formula)


COLUMNS: tuple[Column, ...] = (
    _count("leads", "deals created in the period, owned by the manager"),
    _count("won", "deals won in the period"),
    _count("lost", "deals lost in the period"),
    _metric("win_rate_pct", "win_rate"),
    _value(
        "revenue",
        "revenue",
        "revenue orders paid in the period, attributed to the manager "
        "(the order's owner, else the client's owner)",
        zero=0.0,
    ),
    _count("paid_orders", "revenue orders paid in the period"),
    _metric("average_check", "average_check"),
    _value(
        "response_median_seconds",
        "response_median",
        "median seconds from lead created to the first outbound contact, over leads "
        "created in the period that were contacted",
    ),
    _count("calls", "calls of any direction and status in the period"),
    _count("missed_calls", "missed inbound calls in the period"),
    _value("talk_median_seconds", "talk_median", "median talk time of answered calls"),
    _count("overdue_tasks", "tasks open and past due at the end of the period (or now, if sooner)"),
)
FIGURES = tuple(column.name for column in COLUMNS)


def available_measures(sources: Sources, filters: Filters) -> set[str]:
    """Measures whose facts carry every filtered dimension (the others cannot be filtered)."""
    wanted = set(filters.by_dimension())
    available = {
        name
        for name, measure in SCORECARD_MEASURES.items()
        if wanted <= measure.fact(sources).dimensions
    }
    if not available:
        dimension = sorted(wanted)[0]
        raise InvalidInput(
            f"the scorecard cannot be filtered by {dimension.value}",
            [ErrorDetail("not available for this report", field=f"filters.{dimension.value}_ids")],
        )
    return available


def measure_union(sources: Sources, query: ScorecardQuery, names: Iterable[str]) -> ir.Table:
    """Every measure by manager, one UNION ALL: rows ``(key, value, rows, measure)``."""
    measures = {name: SCORECARD_MEASURES[name] for name in sorted(names)}
    return measure_rows(sources, measures, {"current": query.period}, Breakdown.MANAGER,
                        query.filters)


def managers(sources: Sources, query: ScorecardQuery) -> ir.Table:
    """Users in a manager role (within the team and manager filter) with their team."""
    users, team = sources["user_account"], sources["team"]
    users = users.filter(users.role.isin(MANAGER_ROLES))
    if query.team_id is not None:
        users = users.filter(users.team_id == query.team_id)
    if query.filters.manager_ids is not None:
        users = users.filter(users.id.isin(list(query.filters.manager_ids)))
    teams = team.select(team_key=team.id, team_name=team.name)
    j = users.left_join(teams, users.team_id == teams.team_key)
    return j.select(
        manager_id=j.id.cast("int64"),
        manager=j.name,
        team_id=j.team_id.cast("int64"),
        team=j.team_name,
        is_active=j.is_active,
    )


def run(runner: Runner, query: ScorecardQuery) -> Result:
    """One row per manager, then the medians per team and overall."""
    available = available_measures(runner.sources, query.filters)
    found = [
        r
        for r in runner.rows(measure_union(runner.sources, query, available))
        if r["key"] is not None
    ]
    fact_rows: dict[int, int] = defaultdict(int)
    for row in found:
        fact_rows[row["key"]] += int(row["rows"] or 0)
    people = [
        m
        for m in runner.rows(managers(runner.sources, query))
        if m["is_active"] or fact_rows[m["manager_id"]] > 0
    ]
    listed = {m["manager_id"] for m in people}
    values: dict[int, Values] = defaultdict(dict)
    row_counts: dict[str, int] = defaultdict(int)
    for row in found:
        if row["key"] in listed:
            values[row["key"]][row["measure"]] = row["value"]
            row_counts[row["measure"]] += int(row["rows"] or 0)
    rows = [
        _manager_row(m, values[m["manager_id"]], available)
        for m in sorted(people, key=_by_team_and_name)
    ]
    rows += median_rows(rows)
    return Result(
        report="scorecard",
        engine=runner.engine,
        columns=["row_type", "manager_id", "manager", "team_id", "team", "managers", *FIGURES],
        rows=rows,
        formula=_formulas(available),
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts=dict(row_counts),
        drilldown=_drilldown(available),
        query=query.model_dump(mode="json"),
    )


def _by_team_and_name(manager: dict[str, Any]) -> tuple[bool, str, str, int]:
    team = manager["team"]
    return team is None, team or "", manager["manager"], manager["manager_id"]


def _manager_row(manager: dict[str, Any], values: Values, available: set[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "row_type": MANAGER,
        "manager_id": manager["manager_id"],
        "manager": manager["manager"],
        "team_id": manager["team_id"],
        "team": manager["team"],
        "managers": 1,
    }
    for column in COLUMNS:
        usable = all(m in available for m in column.measures)
        row[column.name] = column.compute(values) if usable else None
    return row


def median_rows(manager_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The median of each figure over the managers of each team, then over all managers.

    Managers without a value (a win rate with nothing closed) are left out of that figure's
    median; a figure nobody has is ``None``. Managers without a team count only overall.
    """
    teams: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in manager_rows:
        if row["team_id"] is not None:
            teams[row["team_id"]].append(row)
    out = [
        _median_row(TEAM_MEDIAN, members[0]["team_id"], members[0]["team"], members)
        for members in sorted(teams.values(), key=lambda ms: (ms[0]["team"], ms[0]["team_id"]))
    ]
    if manager_rows:
        out.append(_median_row(OVERALL_MEDIAN, None, None, manager_rows))
    return out


def _median_row(
    kind: str, team_id: int | None, team: str | None, members: list[dict[str, Any]]
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "row_type": kind,
        "manager_id": None,
        "manager": None,
        "team_id": team_id,
        "team": team,
        "managers": len(members),
    }
    for name in FIGURES:
        present = [m[name] for m in members if m[name] is not None]
        row[name] = statistics.median(present) if present else None
    return row


def _formulas(available: set[str]) -> dict[str, str]:
    out = {}
    for column in COLUMNS:
        missing = [m for m in column.measures if m not in available]
        out[column.name] = (
            column.formula
            if not missing
            else "not available: its facts cannot be filtered by the requested filters"
        )
    out["team_median"] = "median of each figure over the team's managers that have it"
    return out


def _drilldown(available: set[str]) -> dict[str, Any]:
    return {
        "breakdown": Breakdown.MANAGER.value,
        "endpoint": "/api/v1/analytics/drilldown",
        "measures": {
            c.name: [m for m in c.measures if m in MEASURES and m in available] for c in COLUMNS
        },
        "activities": {
            "calls": "/api/v1/activities?kind=call&owner_id=<manager_id>",
            "overdue_tasks": "/api/v1/activities?kind=task&overdue=true&owner_id=<manager_id>",
        },
    }


REPORT = Report(
    name="scorecard",
    title_en="Manager scorecard",
    title_ru="Показатели менеджеров",
    query=ScorecardQuery,
    run=run,  # type: ignore[arg-type]
    resources=("deal", "order", "activity"),
)
