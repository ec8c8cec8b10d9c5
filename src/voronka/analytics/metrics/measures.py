"""Measures: the aggregates metrics are made of, each one ibis expression.

A measure aggregates one fact table over a period, optionally grouped by a breakdown, into
rows ``(key, value)``; ``key`` is the id of the breakdown's entity (NULL without breakdown or
for facts without that dimension value). Values are float64 so that no engine can round a
ratio by integer division. Money measures are in currency units (minor units ÷ 100).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

import ibis
import ibis.expr.types as ir

from voronka.analytics import facts
from voronka.analytics.facts import DIM, Fact
from voronka.analytics.query import Breakdown, Filters, Period
from voronka.analytics.runner import constant_table
from voronka.analytics.sources import Sources
from voronka.errors import ErrorDetail, InvalidInput

Aggregate = Callable[[ir.Table], ir.Scalar]
MINOR_UNITS = 100  # kopecks (cents) per rouble (dollar): money is stored in minor units
FactBuilder = Callable[[Sources], Fact]


@dataclass(frozen=True)
class Measure:
    """``aggregate`` over the ``fact`` rows that fall in the period."""

    name: str
    fact: FactBuilder
    aggregate: Aggregate
    description: str
    #: The value where no fact exists: 0 for counts and sums, None for medians.
    empty: float | None = 0.0
    #: For counts and sums (see ``summed``): an exact integer aggregate whose sum over the
    #: parts of a group is its value over the group, times ``divisor``; None otherwise.
    partial: Aggregate | None = None
    divisor: int = 1

    @property
    def additive(self) -> bool:
        return self.partial is not None

    def combined(self, partials: ir.IntegerColumn) -> ir.NumericScalar:
        """The value over a group from ``partial``'s values over its parts (additive only).

        Integer sums are exact, so rolling days up to months gives what one pass would.
        """
        return finish(_sum(partials), self.divisor)

    def expression(self, sources: Sources, period: Period, breakdown: Breakdown | None,
                   filters: Filters) -> ir.Table:
        fact = self.fact(sources)
        check_breakdown(self, fact, breakdown)
        rows = fact.within(sources, period, filters, breakdown=breakdown, any_columns=False)
        if breakdown is None:
            out = rows.aggregate(value=self.aggregate(rows).cast("float64"),
                                 rows=rows.count().cast("int64"))
            return out.select(key=ibis.null("int64"), value=out.value, rows=out.rows)
        grouped = rows.group_by(key=rows[DIM[breakdown]].cast("int64"))
        return grouped.aggregate(value=self.aggregate(rows).cast("float64"),
                                 rows=rows.count().cast("int64"))

    def facts_in(self, sources: Sources, period: Period, breakdown: Breakdown | None,
                 key: int | None, filters: Filters) -> ir.Table:
        """The fact rows behind one figure (for drill-down)."""
        rows = self.fact(sources).within(sources, period, filters)
        if breakdown is not None:
            column = rows[DIM[breakdown]]
            rows = rows.filter(column.isnull() if key is None else column == key)
        return rows


def summed(name: str, fact: FactBuilder, partial: Aggregate, description: str,
           divisor: int = 1) -> Measure:
    """A count or sum: ``partial`` (an integer) ÷ ``divisor`` (100 turns kopecks into roubles).

    Such a measure is additive: aggregated per day, its days can be added up to any bucket.
    """
    return Measure(name, fact, lambda t: finish(partial(t), divisor), description,
                   partial=partial, divisor=divisor)


def finish(total: ir.NumericValue, divisor: int) -> ir.NumericValue:
    """``total`` in the measure's unit: as is, or divided in float64 (money in minor units)."""
    return total if divisor == 1 else total.cast("float64") / float(divisor)


def _sum(column: ir.NumericColumn) -> ir.NumericScalar:
    """A sum that is 0, not NULL, over no rows (a count of nothing is nothing)."""
    return ibis.coalesce(column.sum(), 0)


def _count(t: ir.Table) -> ir.IntegerScalar:
    return t.count()


def count_where(condition: ir.BooleanColumn) -> ir.IntegerScalar:
    """How many rows meet ``condition`` (portable: PostgreSQL cannot cast boolean to int)."""
    return _sum(condition.ifelse(1, 0))


def _deal_fact(at: str, status: str | None = None) -> FactBuilder:
    def build(s: Sources) -> Fact:
        t = facts.deals(s)
        if status is not None:
            t = t.filter(t.status == status)
        return Fact(f"deals {status or 'created'}", t, at)
    return build


def _order_fact(s: Sources) -> Fact:
    return Fact("paid orders", facts.orders(s), "paid_at",
                undimensioned=facts.revenue_orders(s))


def _line_fact(s: Sources) -> Fact:
    return Fact("order lines", facts.order_lines(s), "paid_at")


def _spend_fact(s: Sources) -> Fact:
    return Fact("ad spend", facts.spend(s), "day", is_date=True)


def _visit_fact(s: Sources) -> Fact:
    return Fact("visits", facts.visits(s), "occurred_at")


def _call_fact(direction: str | None = None, status: str | None = None) -> FactBuilder:
    def build(s: Sources) -> Fact:
        def chosen(t: ir.Table) -> ir.Table:
            if direction is not None:
                t = t.filter(t.direction == direction)
            if status is not None:
                t = t.filter(t.call_status == status)
            return t
        return Fact("calls", chosen(facts.calls(s)), "occurred_at",
                    undimensioned=chosen(facts.managed_calls(s)))
    return build


def _feedback_fact(kind: str) -> FactBuilder:
    def build(s: Sources) -> Fact:
        t = facts.feedback(s)
        return Fact(f"{kind} answers", t.filter(t.kind == kind), "created_at")
    return build


def _first_orders(s: Sources) -> Fact:
    """Each client's first revenue order ever: a new paying client in the period it falls in.

    The first orders are kept per client (``derived.client_first_order``), so the period is
    applied to that small table before any order is joined to its dimensions.
    """
    kept = s["client_first_order"]
    first = kept.select(first_order_id=kept.first_order_id, first_paid_at=kept.first_paid_at)
    o = facts.orders(s)
    return Fact("first orders", first.join(o, first.first_order_id == o.id), "first_paid_at",
                undimensioned=kept)


def _responded_leads(s: Sources) -> Fact:
    """Leads with the seconds until the first outbound contact after they arrived.

    The first contact is kept per deal (``derived.deal_first_response``): finding it needs
    the client's activities after the deal whatever the period.
    """
    d, kept = facts.deals(s), s["deal_first_response"]
    kept = kept.select(response_deal=kept.deal_id, first_contact=kept.first_contact_at)
    t = d.join(kept, d.id == kept.response_deal)
    return Fact("answered leads", t.mutate(
        response_seconds=(t.first_contact.epoch_seconds() - t.created_at.epoch_seconds())
    ), "created_at")


def _won_cycle(s: Sources) -> Fact:
    t = facts.deals(s)
    t = t.filter(t.status == "won", t.closed_at.notnull())
    return Fact("won deals", t.mutate(
        cycle_days=(t.closed_at.epoch_seconds() - t.created_at.epoch_seconds()) / 86400.0
    ), "closed_at")


@dataclass(frozen=True)
class RepeatBuyers(Measure):
    """Clients with two or more revenue orders within the period (per breakdown key)."""

    def expression(self, sources: Sources, period: Period, breakdown: Breakdown | None,
                   filters: Filters) -> ir.Table:
        fact = self.fact(sources)
        rows = fact.within(sources, period, filters, breakdown=breakdown, any_columns=False)
        key = rows[DIM[breakdown]].cast("int64") if breakdown else ibis.null("int64")
        per_client = rows.group_by(key=key, client=rows.client_id).aggregate(n=rows.count())
        counted = per_client.group_by("key").aggregate(
            value=count_where(per_client.n >= 2).cast("float64"),
            rows=per_client.n.sum().cast("int64"),
        )
        if breakdown is None:  # no orders at all must still give one row with 0
            zero = constant_table({"key": [None], "value": [0.0], "rows": [0]},
                                  schema={"key": "int64", "value": "float64", "rows": "int64"})
            both = counted.union(zero)
            return both.aggregate(value=both.value.sum(), rows=both.rows.sum()).select(
                key=ibis.null("int64"), value=ibis._.value, rows=ibis._.rows)
        return counted


MEASURES: dict[str, Measure] = {m.name: m for m in (
    summed("leads", _deal_fact("created_at"), _count, "deals created"),
    summed("won", _deal_fact("closed_at", "won"), _count, "deals won"),
    summed("lost", _deal_fact("closed_at", "lost"), _count, "deals lost"),
    summed("revenue", _order_fact, lambda t: _sum(t.total_minor),
           "sum of revenue orders' totals", MINOR_UNITS),
    summed("gross_profit", _order_fact, lambda t: _sum(t.total_minor - t.cost_total_minor),
           "revenue minus cost of goods", MINOR_UNITS),
    summed("paid_orders", _order_fact, _count, "revenue orders"),
    Measure("buyers", _order_fact, lambda t: t.client_id.nunique(), "distinct paying clients"),
    RepeatBuyers("repeat_buyers", _order_fact, lambda t: t.count(),
                 "clients with two or more revenue orders in the period"),
    summed("new_buyers", _first_orders, _count,
           "clients whose first revenue order falls in the period"),
    summed("line_revenue", _line_fact, lambda t: _sum(t.line_minor),
           "revenue from order lines (by product group)", MINOR_UNITS),
    summed("units", _line_fact, lambda t: _sum(t.quantity), "units sold"),
    summed("spend", _spend_fact, lambda t: _sum(t.cost_minor), "ad spend", MINOR_UNITS),
    Measure("visitors", _visit_fact, lambda t: t.visitor_id.nunique(), "distinct visitors"),
    summed("inbound_calls", _call_fact("inbound"), _count, "inbound calls"),
    summed("missed_calls", _call_fact("inbound", "missed"), _count, "missed inbound calls"),
    Measure("wait_median", _call_fact("inbound", "answered"),
            lambda t: t.wait_seconds.quantile(0.5), "median wait of answered inbound calls",
            None),
    Measure("talk_median", _call_fact(None, "answered"),
            lambda t: t.talk_seconds.quantile(0.5), "median talk time of answered calls", None),
    Measure("response_median", _responded_leads,
            lambda t: t.response_seconds.quantile(0.5), "median lead response (s)", None),
    Measure("response_p90", _responded_leads,
            lambda t: t.response_seconds.quantile(0.9), "90th percentile lead response (s)",
            None),
    Measure("cycle_median", _won_cycle, lambda t: t.cycle_days.quantile(0.5),
            "median days from lead to win", None),
    summed("csat_sum", _feedback_fact("csat"), lambda t: _sum(t.score), "sum of CSAT scores"),
    summed("csat_count", _feedback_fact("csat"), _count, "CSAT answers"),
    summed("nps_promoters", _feedback_fact("nps"), lambda t: count_where(t.score >= 9),
           "NPS answers 9–10"),
    summed("nps_detractors", _feedback_fact("nps"), lambda t: count_where(t.score <= 6),
           "NPS answers 0–6"),
    summed("nps_count", _feedback_fact("nps"), _count, "NPS answers"),
)}


def measure_rows(sources: Sources, measures: dict[str, Measure], periods: dict[str, Period],
                 breakdown: Breakdown | None, filters: Filters,
                 also: Breakdown | None = None) -> ir.Table:
    """Rows ``(key, key2, value, rows, measure, period)``: each measure in each period.

    ``key2`` is the value of a second breakdown ``also`` (NULL without one), so that
    additive measures can be summed up to either breakdown from one pass.

    Measures over the same fact are aggregated together, in one pass over the fact rows of
    all the periods (each row joined to the periods it falls in), rather than once per
    measure and period: the fact and its joins are read once. Measures with an expression
    of their own (``RepeatBuyers``) keep it, one per period.
    """
    plain, special = by_fact(sources, measures, breakdown)
    if special and also is not None:
        raise ValueError(f"{', '.join(special)} cannot take a second breakdown")
    parts = [measure.expression(sources, period, breakdown, filters)
             .select("key", key2=ibis.null("int64"), value=ibis._.value, rows=ibis._.rows,
                     measure=ibis.literal(name), period=ibis.literal(label))
             for name, measure in special.items() for label, period in periods.items()]
    for fact, members in plain:
        if also is not None:
            check_breakdown(next(iter(members.values())), fact, also)
        parts += _fact_measures(sources, fact, members, periods, breakdown, filters, also)
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def by_fact(sources: Sources, measures: dict[str, Measure], breakdown: Breakdown | None
            ) -> tuple[list[tuple[Fact, dict[str, Measure]]], dict[str, Measure]]:
    """Plain measures grouped by the fact they aggregate, and those with their own expression.

    Two measures share a fact when their fact tables are the same expression (ibis compares
    expressions by structure), so they can be aggregated in one pass.
    """
    key = ("by_fact", tuple((name, id(m)) for name, m in measures.items()), breakdown)
    return sources.memo(key, lambda: _by_fact(sources, measures, breakdown))


def _by_fact(sources: Sources, measures: dict[str, Measure], breakdown: Breakdown | None
             ) -> tuple[list[tuple[Fact, dict[str, Measure]]], dict[str, Measure]]:
    grouped: dict[Any, tuple[Fact, dict[str, Measure]]] = {}
    special: dict[str, Measure] = {}
    for name, measure in measures.items():
        if type(measure) is not Measure:
            special[name] = measure
            continue
        fact = measure.fact(sources)
        check_breakdown(measure, fact, breakdown)
        same = (fact.name, fact.at, fact.is_date, fact.table.op())
        grouped.setdefault(same, (fact, {}))[1][name] = measure
    return list(grouped.values()), special


def check_breakdown(measure: Measure, fact: Fact, breakdown: Breakdown | None) -> None:
    """Refuse a breakdown the measure's fact has no dimension for."""
    if breakdown is not None and breakdown not in fact.dimensions:
        raise InvalidInput(
            f"{measure.name} cannot be broken down by {breakdown.value}",
            [ErrorDetail("not available for this figure", field="breakdown")])


def _fact_measures(sources: Sources, fact: Fact, members: dict[str, Measure],
                   periods: dict[str, Period], breakdown: Breakdown | None,
                   filters: Filters, also: Breakdown | None) -> list[ir.Table]:
    key = ("fact_measures", id(fact), tuple(members),
           tuple((label, p.start, p.end) for label, p in periods.items()),
           breakdown, filters.model_dump_json(), also)
    return sources.memo(key, lambda: _build_fact_measures(
        sources, fact, members, periods, breakdown, filters, also))


def _build_fact_measures(sources: Sources, fact: Fact, members: dict[str, Measure],
                         periods: dict[str, Period], breakdown: Breakdown | None,
                         filters: Filters, also: Breakdown | None) -> list[ir.Table]:
    span = Period.model_construct(start=min(p.start for p in periods.values()),
                                  end=max(p.end for p in periods.values()))
    rows = fact.within(sources, span, filters, breakdown=breakdown or also, any_columns=False)
    bounds = _period_bounds(sources, periods, fact.is_date)
    at = rows[fact.at]
    j = rows.join(bounds, (at >= bounds.period_from) & (at < bounds.period_until))
    key = j[DIM[breakdown]].cast("int64") if breakdown else ibis.null("int64")
    key2 = j[DIM[also]].cast("int64") if also else ibis.null("int64")
    values = {f"value_{i}": m.aggregate(j).cast("float64") for i, m in enumerate(members.values())}
    out = j.group_by(period=j.period_label, key=key, key2=key2).aggregate(
        rows=j.count().cast("int64"), **values)
    if breakdown is None and also is None:  # a period without facts still has its row
        every = bounds.select(every_label=bounds.period_label)
        out = every.left_join(out, every.every_label == out.period).mutate(
            period=ibis._.every_label, key=ibis.null("int64"), key2=ibis.null("int64"),
            rows=ibis.coalesce(ibis._.rows, 0),
            **{f"value_{i}": ibis.coalesce(ibis._[f"value_{i}"], ibis.literal(m.empty, "float64"))
               for i, m in enumerate(members.values())})  # 0, or NULL for medians
    return [out.select(key=out.key, key2=out.key2, value=out[f"value_{i}"], rows=out.rows,
                       measure=ibis.literal(name), period=out.period)
            for i, name in enumerate(members)]


def _period_bounds(sources: Sources, periods: dict[str, Period], is_date: bool) -> ir.Table:
    """One row per labelled period: ``[period_from, period_until)`` in the fact's terms."""
    if is_date:
        starts = [p.start for p in periods.values()]
        ends = [p.end_exclusive for p in periods.values()]
        kind = "date"
    else:  # local midnights moved to UTC, as in Fact.within
        starts = [datetime.combine(p.start, time.min) - sources.utc_offset
                  for p in periods.values()]
        ends = [datetime.combine(p.end_exclusive, time.min) - sources.utc_offset
                for p in periods.values()]
        kind = "timestamp"
    return constant_table({"period_label": list(periods), "period_from": starts,
                           "period_until": ends},
                          schema={"period_label": "string", "period_from": kind,
                                  "period_until": kind})
