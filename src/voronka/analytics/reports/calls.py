"""The calls report: inbound volume and missed calls by hour × weekday, the Erlang C staffing
each hour of the week needs, and the missed calls nobody called back (DESIGN.md §4).

One query aggregates the inbound calls of the period per local weekday and hour (plus one
row for the whole period) and lists the missed calls not called back. Arrival rates,
handle times and staffing are then worked out in Python from those few aggregates with
``voronka.analytics.erlang``. Rows of every section come back in one ``Result``, tagged by
``section``: ``heatmap`` and ``staffing`` (7 × 24 rows each, Monday 0:00 first), ``total``
and ``callbacks`` (one row each).

References
----------
.. [1] G. Koole, *Call Center Optimization*, MG books, Amsterdam (2013), ch. 5.
.. [2] N. Gans, G. Koole and A. Mandelbaum, "Telephone Call Centers: Tutorial, Review,
   and Research Prospects", Manufacturing & Service Operations Management 5 (2003), 79-141.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field

from voronka.analytics import erlang, facts
from voronka.analytics.catalog import Report
from voronka.analytics.facts import Fact
from voronka.analytics.metrics.measures import count_where
from voronka.analytics.metrics.registry import ratio
from voronka.analytics.query import Filters, Period, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources

HEATMAP, STAFFING, TOTAL, CALLBACKS = "heatmap", "staffing", "total", "callbacks"
WEEKDAYS, HOURS = range(1, 8), range(24)
MAX_LISTED = 500


class CallsQuery(Strict):
    """The period and filters of the inbound calls, the service target and callback window."""

    period: Period
    filters: Filters = Filters()
    service_level_target: float = Field(
        0.8, gt=0, lt=1, description="Share of calls to answer within service_level_seconds."
    )
    service_level_seconds: int = Field(
        20, ge=0, le=3600, description="Target answer time, seconds."
    )
    shrinkage: float = Field(
        0.3, ge=0, lt=1, description="Share of paid agent time not on the phones."
    )
    callback_minutes: int = Field(
        60, ge=1, le=7 * 24 * 60, description="A missed call is called back within this."
    )


def calls_in_reach(sources: Sources, query: CallsQuery) -> ir.Table:
    """Calls from the period's start until ``callback_minutes`` after its end: the inbound
    calls of the period and every outbound call that can answer one of them.

    Both come from this one table, so the engine reads the calls once.
    """
    start = datetime.combine(query.period.start, time.min) - sources.utc_offset
    end = datetime.combine(query.period.end_exclusive, time.min) - sources.utc_offset
    return facts.calls(sources, between=(start, end + timedelta(minutes=query.callback_minutes)))


def inbound_calls(sources: Sources, query: CallsQuery, calls: ir.Table) -> ir.Table:
    """Inbound ``calls`` of the period (local days, filters applied) with weekday and hour."""
    t = Fact("calls", calls.filter(calls.direction == "inbound"), "occurred_at").within(
        sources, query.period, query.filters
    )
    local = sources.local(t.occurred_at)
    return t.mutate(
        weekday=(local.day_of_week.index() + 1).cast("int64"),
        hour=local.hour().cast("int64"),
        is_missed=t.call_status == "missed",
        is_answered=t.call_status == "answered",
    )


def called_back_ids(inbound: ir.Table, calls: ir.Table, minutes: int) -> ir.Table:
    """Ids of the ``inbound`` calls with ``is_missed`` followed within ``minutes`` by an
    outbound call among ``calls`` to the same client or to the number that called (any
    outbound call, answered or not, by anyone)."""
    outbound = calls.filter(calls.direction == "outbound").select(
        back_client=calls.client_id, back_number=calls.to_number, back_at=calls.occurred_at
    )
    window = ibis.interval(minutes=minutes)
    parts = []
    for mine, theirs in (("client_id", "back_client"), ("from_number", "back_number")):
        j = inbound.join(
            outbound,
            inbound.is_missed
            & (inbound[mine] == outbound[theirs])
            & (outbound.back_at >= inbound.occurred_at)
            & (outbound.back_at <= inbound.occurred_at + window),
        )
        parts.append(j.select(called_back_id=j.id))
    return ibis.union(*parts, distinct=True)


def flagged_inbound(sources: Sources, query: CallsQuery) -> ir.Table:
    """Inbound calls with ``not_called_back``: missed and not followed by a callback."""
    reach = calls_in_reach(sources, query)
    inbound = inbound_calls(sources, query, reach)
    # The missed calls are picked in the join, not by a filter before it: the engine then
    # shares the inbound calls under both branches rather than rereading them.
    back = called_back_ids(inbound, reach, query.callback_minutes)
    j = inbound.left_join(back, inbound.id == back.called_back_id)
    return j.mutate(not_called_back=j.is_missed & j.called_back_id.isnull())


def _cell_aggregates(t: ir.Table) -> dict[str, ir.Scalar]:
    answered = t.is_answered
    return {
        "inbound_calls": t.count().cast("int64"),
        "missed_calls": count_where(t.is_missed),
        "not_called_back": count_where(t.not_called_back),
        "answered_calls": count_where(answered),
        "talk_seconds_sum": ibis.coalesce(t.talk_seconds.sum(where=answered), 0).cast("int64"),
        "talked_calls": t.talk_seconds.count(where=answered).cast("int64"),
        "median_wait_seconds": t.wait_seconds.quantile(0.5, where=answered).cast("float64"),
        "median_talk_seconds": t.talk_seconds.quantile(0.5, where=answered).cast("float64"),
    }


def cells(sources: Sources, query: CallsQuery) -> ir.Table:
    """Aggregates per (weekday, hour) with calls, a row with both NULL for the period, and
    the first ``MAX_LISTED`` missed calls not called back in time order (``listed_id`` and
    ``rang_at`` set, the rest NULL): one query, so the calls and the callback search are
    read once."""
    t = flagged_inbound(sources, query)
    by_cell = t.group_by("weekday", "hour").aggregate(**_cell_aggregates(t))
    total = t.aggregate(**_cell_aggregates(t)).mutate(
        weekday=ibis.null("int64"), hour=ibis.null("int64")
    )
    missed = t.filter(t.not_called_back)
    first = missed.order_by([missed.occurred_at, missed.id]).limit(MAX_LISTED)
    no_cell = {name: ibis.null(kind) for name, kind in by_cell.schema().items()}
    no_listing = {"listed_id": ibis.null("int64"), "rang_at": ibis.null(t.occurred_at.type())}
    return ibis.union(
        by_cell.mutate(**no_listing),
        total.select(*by_cell.columns).mutate(**no_listing),
        first.select(**no_cell, listed_id=first.id.cast("int64"), rang_at=first.occurred_at),
    )


def weekday_counts(period: Period) -> dict[int, int]:
    """How many times each ISO weekday (1 = Monday) occurs among the period's days."""
    full_weeks, rest = divmod(period.days, 7)
    counts = dict.fromkeys(WEEKDAYS, full_weeks)
    for offset in range(rest):
        counts[(period.start + timedelta(days=offset)).isoweekday()] += 1
    return counts


def average_handle_seconds(cell: dict[str, Any]) -> float | None:
    """Mean talk time of the answered inbound calls (no after-call work is recorded)."""
    return ratio(cell["talk_seconds_sum"], cell["talked_calls"])


def run(runner: Runner, query: CallsQuery) -> Result:
    """The heatmap, the staffing per hour of the week, totals and the missed calls not called
    back, in one result."""
    rows_found = runner.rows(cells(runner.sources, query))
    listed = [r["listed_id"] for r in sorted(
        (r for r in rows_found if r["listed_id"] is not None),
        key=lambda r: (r["rang_at"], r["listed_id"]))]
    found = {(r["weekday"], r["hour"]): r for r in rows_found if r["listed_id"] is None}
    total = found.pop((None, None), None) or _empty_cell()
    grid = {(w, h): found.get((w, h)) or _empty_cell() for w in WEEKDAYS for h in HOURS}
    rows = [_heatmap_row(w, h, cell) for (w, h), cell in grid.items()]
    rows += staffing_rows(grid, total, query)
    rows.append({"section": TOTAL, **_figures(total)})
    rows.append(_callbacks_row(total, listed, query))
    return Result(
        report="calls",
        engine=runner.engine,
        columns=_columns(rows),
        rows=rows,
        formula=FORMULAS,
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts={"inbound_calls": total["inbound_calls"], "missed_calls": total["missed_calls"]},
        drilldown={
            "not_called_back_ids": listed,
            "activities": "/api/v1/activities?kind=call&status=missed",
        },
        query=query.model_dump(mode="json"),
    )


def _empty_cell() -> dict[str, Any]:
    return {
        "inbound_calls": 0,
        "missed_calls": 0,
        "not_called_back": 0,
        "answered_calls": 0,
        "talk_seconds_sum": 0,
        "talked_calls": 0,
        "median_wait_seconds": None,
        "median_talk_seconds": None,
    }


def _figures(cell: dict[str, Any]) -> dict[str, Any]:
    return {
        "inbound_calls": cell["inbound_calls"],
        "missed_calls": cell["missed_calls"],
        "missed_rate_pct": ratio(cell["missed_calls"], cell["inbound_calls"], 100.0),
        "answered_calls": cell["answered_calls"],
        "median_wait_seconds": cell["median_wait_seconds"],
        "median_talk_seconds": cell["median_talk_seconds"],
        "average_handle_seconds": average_handle_seconds(cell),
        "not_called_back": cell["not_called_back"],
    }


def _heatmap_row(weekday: int, hour: int, cell: dict[str, Any]) -> dict[str, Any]:
    return {"section": HEATMAP, "weekday": weekday, "hour": hour, **_figures(cell)}


def staffing_rows(
    grid: dict[tuple[int, int], dict[str, Any]], total: dict[str, Any], query: CallsQuery
) -> list[dict[str, Any]]:
    """Erlang C staffing of every hour of the week from its arrival rate and handle time.

    The rate is the cell's inbound calls ÷ the number of such hours in the period; the handle
    time is the cell's mean talk time, or the period's when the cell has no answered call.

    References
    ----------
    .. [1] G. Koole, *Call Center Optimization* (2013), §5.3.
    """
    hours = weekday_counts(query.period)
    period_aht = average_handle_seconds(total)
    return [
        _staffing_row(w, h, grid[(w, h)], hours[w], period_aht, query)
        for w in WEEKDAYS
        for h in HOURS
    ]


def _staffing_row(
    weekday: int,
    hour: int,
    cell: dict[str, Any],
    hours: int,
    period_aht: float | None,
    query: CallsQuery,
) -> dict[str, Any]:
    rate = ratio(cell["inbound_calls"], hours)
    aht, source = average_handle_seconds(cell), "cell"
    if not aht:  # every call of the hour missed (or talked 0 s): the period's typical call
        aht, source = period_aht, "period"
    row: dict[str, Any] = {
        "section": STAFFING,
        "weekday": weekday,
        "hour": hour,
        "hours_in_period": hours,
        "inbound_calls": cell["inbound_calls"],
        "calls_per_hour": rate,
        "average_handle_seconds": aht if rate else None,
        "aht_from": source if rate else None,
        "load_erlangs": None,
        "agents": None,
        "scheduled_agents": None,
        "service_level": None,
        "average_speed_of_answer_seconds": None,
        "occupancy": None,
    }
    if rate == 0:
        row.update(load_erlangs=0.0, agents=0, scheduled_agents=0)
    elif rate is not None and aht:
        advice = erlang.agents_needed(
            rate,
            aht,
            target_level=query.service_level_target,
            target_seconds=query.service_level_seconds,
            shrinkage=query.shrinkage,
        )
        row.update(
            load_erlangs=advice.load,
            agents=advice.agents,
            scheduled_agents=advice.scheduled_agents,
            service_level=advice.service_level,
            average_speed_of_answer_seconds=advice.average_speed_of_answer,
            occupancy=advice.occupancy,
        )
    return row


def _callbacks_row(total: dict[str, Any], listed: list[int], query: CallsQuery) -> dict[str, Any]:
    missed, left = total["missed_calls"], total["not_called_back"]
    return {
        "section": CALLBACKS,
        "callback_minutes": query.callback_minutes,
        "missed_calls": missed,
        "called_back": missed - left,
        "not_called_back": left,
        "not_called_back_rate_pct": ratio(left, missed, 100.0),
        "not_called_back_ids": listed,
        "ids_truncated": left > len(listed),
    }


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(name for row in rows for name in row))


FORMULAS = {
    "weekday": "local ISO weekday the call rang (1 = Monday … 7 = Sunday)",
    "hour": "local hour the call rang (0–23)",
    "inbound_calls": "inbound calls (any status) that rang in the period",
    "missed_calls": "inbound calls with status missed",
    "missed_rate_pct": "missed ÷ inbound × 100%",
    "median_wait_seconds": "median wait of answered inbound calls",
    "median_talk_seconds": "median talk time of answered inbound calls",
    "average_handle_seconds": "mean talk time of answered inbound calls (AHT)",
    "hours_in_period": "how many times this weekday occurs in the period (each gives one such hour)",
    "calls_per_hour": "inbound calls of the cell ÷ hours_in_period",
    "aht_from": "cell: the cell's own AHT; period: the cell had no answered call, so the "
    "period's AHT is used",
    "load_erlangs": "calls_per_hour × AHT ÷ 3600",
    "agents": "fewest agents meeting the service level target (Erlang C)",
    "scheduled_agents": "ceil(agents ÷ (1 − shrinkage))",
    "service_level": "share answered within the target time with that many agents",
    "not_called_back": "missed calls with no outbound call to the same client or number within "
    "callback_minutes after they rang",
    "not_called_back_rate_pct": "not called back ÷ missed × 100%",
}


REPORT = Report(
    name="calls",
    title_en="Calls and staffing",
    title_ru="Звонки и загрузка операторов",
    query=CallsQuery,
    run=run,  # type: ignore[arg-type]
    resources=("activity",),
)
