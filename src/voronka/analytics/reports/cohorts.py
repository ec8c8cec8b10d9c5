"""The cohorts report: clients grouped by the month of their first revenue order (or first
deal), followed month by month — retention, revenue, cumulative margin per client — against
the cohort month's CAC, with the payback month.

Months are calendar months in company local time, numbered ``year × 12 + month − 1`` so
that an offset is a subtraction on every engine. The engine returns four small aggregates
in one query (cohort sizes, activity per cohort × offset, ad spend and new paying clients
per month); Python lays them out as the triangle, filling the months without activity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from itertools import accumulate
from typing import Any

import ibis
import ibis.expr.types as ir
from pydantic import Field, field_validator, model_validator

from voronka import clock
from voronka.analytics import facts
from voronka.analytics.catalog import Report
from voronka.analytics.facts import midnight
from voronka.analytics.labels import labels
from voronka.analytics.metrics.measures import MEASURES
from voronka.analytics.metrics.registry import METRICS, ratio
from voronka.analytics.query import Breakdown, Strict
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.analytics.sources import Sources

MAX_COHORT_MONTHS = 120


class CohortBasis(StrEnum):
    FIRST_PURCHASE = "first_purchase"
    FIRST_LEAD = "first_lead"


class CohortQuery(Strict):
    start_month: date = Field(description="First cohort month (any day of it).")
    end_month: date = Field(description="Last cohort month (any day of it).")
    by: CohortBasis = CohortBasis.FIRST_PURCHASE
    months: int = Field(12, ge=0, le=MAX_COHORT_MONTHS, description="Last month offset shown.")
    breakdown: Breakdown | None = Field(None, description="Only channel is supported.")
    as_of: date | None = Field(
        None, description="Last observed local day (default: today); later months are not shown."
    )

    @field_validator("start_month", "end_month")
    @classmethod
    def _first_of_month(cls, day: date) -> date:
        return day.replace(day=1)

    @field_validator("breakdown")
    @classmethod
    def _channel_only(cls, breakdown: Breakdown | None) -> Breakdown | None:
        if breakdown not in (None, Breakdown.CHANNEL):
            raise ValueError("cohorts can be broken down by channel only")
        return breakdown

    @model_validator(mode="after")
    def _ordered(self) -> CohortQuery:
        if self.end_month < self.start_month:
            raise ValueError("end_month must not be before start_month")
        if month_number(self.end_month) - month_number(self.start_month) >= MAX_COHORT_MONTHS:
            raise ValueError(f"at most {MAX_COHORT_MONTHS} cohort months")
        return self


def month_number(day: date) -> int:
    """Months since year 0: consecutive months differ by one."""
    return day.year * 12 + day.month - 1


def month_start(number: int) -> date:
    return date(number // 12, number % 12 + 1, 1)


def _month_of(local: ir.TimestampValue | ir.DateValue) -> ir.IntegerValue:
    return local.year().cast("int64") * 12 + local.month().cast("int64") - 1


# --- expressions --------------------------------------------------------------------------


def members(s: Sources, query: CohortQuery, as_of: date) -> ir.Table:
    """``(member_id, cohort, channel_key)``: each client once, in its cohort's month."""
    if query.by is CohortBasis.FIRST_PURCHASE:
        first, at = _first_purchases(s, query, as_of)
    else:
        deals = facts.deals(s)
        ranked = deals.mutate(
            first_rank=ibis.row_number().over(
                group_by=deals.client_id, order_by=[deals.created_at, deals.id]
            )
        )
        first = ranked.filter(ranked.first_rank == 0)
        at = first.created_at
    channel = first.dim_channel if query.breakdown else ibis.null("int64")
    t = first.select(
        member_id=first.client_id, first_at=s.local(at), channel_key=channel.cast("int64")
    )
    t = t.filter(t.first_at < midnight(as_of + timedelta(days=1)))
    return _in_months(t.select("member_id", "channel_key", cohort=_month_of(t.first_at)), query)


def _utc_bounds(s: Sources, query: CohortQuery, as_of: date) -> tuple[datetime, datetime]:
    """The cohort months (up to ``as_of``) as UTC bounds on a raw timestamp column."""
    end = min(month_start(month_number(query.end_month) + 1), as_of + timedelta(days=1))
    return (datetime.combine(query.start_month, time.min) - s.utc_offset,
            datetime.combine(end, time.min) - s.utc_offset)


def _first_purchases(s: Sources, query: CohortQuery, as_of: date) -> tuple[ir.Table, ir.Value]:
    """Each client's first revenue order in the cohort months, from the kept per-client table.

    The order's dimensions are joined only for a channel breakdown, and only to the first
    orders of the cohort months.
    """
    first = s["client_first_order"]
    start, end = _utc_bounds(s, query, as_of)
    first = first.filter(first.first_paid_at >= ibis.timestamp(start),
                         first.first_paid_at < ibis.timestamp(end))
    if query.breakdown:
        o = facts.orders(s).select("id", "dim_channel")
        first = first.join(o, first.first_order_id == o.id)
    return first, first.first_paid_at


def _part(t: ir.Table, kind: str, **values: ir.Value) -> ir.Table:
    """One aggregate in the union's common shape (absent columns are NULL)."""
    columns = (
        "cohort",
        "channel_key",
        "offset",
        "clients",
        "orders",
        "revenue_minor",
        "margin_minor",
        "spend_minor",
    )
    return t.select(
        kind=ibis.literal(kind),
        **{c: (values[c] if c in values else ibis.null("int64")).cast("int64") for c in columns},
    )


def _activity(s: Sources, people: ir.Table, months: int, since: datetime,
              until: ir.TimestampScalar) -> ir.Table:
    """Active clients, orders, revenue and margin per cohort × month offset."""
    orders = facts.revenue_orders(s)  # the members carry the cohort and channel
    orders = orders.filter(orders.paid_at >= ibis.timestamp(since),
                           s.local(orders.paid_at) < until)
    j = orders.join(people, orders.client_id == people.member_id)
    j = j.mutate(offset=_month_of(s.local(j.paid_at)) - j.cohort)
    j = j.filter(j.offset >= 0, j.offset <= months)
    return j.group_by("cohort", "channel_key", "offset").aggregate(
        clients=j.client_id.nunique(),
        orders=j.count(),
        revenue_minor=j.total_minor.sum(),
        margin_minor=(j.total_minor - j.cost_total_minor).sum(),
    )


def _in_months(t: ir.Table, query: CohortQuery) -> ir.Table:
    return t.filter(
        t.cohort >= month_number(query.start_month), t.cohort <= month_number(query.end_month)
    )


def _spend_by_month(s: Sources, query: CohortQuery, as_of: date) -> ir.Table:
    """Ad spend per month (and channel): the CAC numerator."""
    spend = MEASURES["spend"].fact(s).table
    spend = spend.filter(spend.day <= ibis.date(as_of))
    spend = spend.mutate(
        cohort=_month_of(spend.day),
        channel_key=spend.dim_channel if query.breakdown else ibis.null("int64"),
    )
    spend = _in_months(spend, query)
    return spend.group_by("cohort", "channel_key").aggregate(spend_minor=spend.cost_minor.sum())


def _new_by_month(s: Sources, query: CohortQuery, as_of: date) -> ir.Table:
    """New paying clients per month (and channel): the CAC denominator."""
    new, paid_at = _first_purchases(s, query, as_of)
    new = new.mutate(
        cohort=_month_of(s.local(paid_at)),
        channel_key=new.dim_channel if query.breakdown else ibis.null("int64"),
    )
    new = _in_months(new, query)
    return new.group_by("cohort", "channel_key").aggregate(clients=new.count())


def cohort_expression(s: Sources, query: CohortQuery, as_of: date) -> ir.Table:
    """Sizes, activity, spend and new paying clients as one UNION ALL of aggregates."""
    until = midnight(as_of + timedelta(days=1))
    people = members(s, query, as_of)
    sizes = people.group_by("cohort", "channel_key").aggregate(clients=people.count())
    since, _ = _utc_bounds(s, query, as_of)  # no member bought before its cohort month
    activity = _activity(s, people, query.months, since, until)
    spent = _spend_by_month(s, query, as_of)
    newcomers = _new_by_month(s, query, as_of)
    return ibis.union(
        _part(
            sizes, "size", cohort=sizes.cohort, channel_key=sizes.channel_key, clients=sizes.clients
        ),
        _part(
            activity,
            "activity",
            cohort=activity.cohort,
            channel_key=activity.channel_key,
            offset=activity.offset,
            clients=activity.clients,
            orders=activity.orders,
            revenue_minor=activity.revenue_minor,
            margin_minor=activity.margin_minor,
        ),
        _part(
            spent,
            "spend",
            cohort=spent.cohort,
            channel_key=spent.channel_key,
            spend_minor=spent.spend_minor,
        ),
        _part(
            newcomers,
            "new",
            cohort=newcomers.cohort,
            channel_key=newcomers.channel_key,
            clients=newcomers.clients,
        ),
    )


# --- the triangle -------------------------------------------------------------------------


def payback_offset(
    cumulative_margin_minor: list[int], clients: int, spend_minor: int, new_paying: int
) -> int | None:
    """First offset where cumulative margin per client ≥ CAC, compared exactly in integers:
    ``margin ÷ clients ≥ spend ÷ new`` ⇔ ``margin × new ≥ spend × clients``."""
    if new_paying == 0 or clients == 0:
        return None  # CAC undefined
    for offset, margin in enumerate(cumulative_margin_minor):
        if margin * new_paying >= spend_minor * clients:
            return offset
    return None


Key = tuple[int, int | None]  # (cohort month number, channel id or None)


@dataclass
class Aggregates:
    """The union's rows by kind: cohort sizes, spend, new paying clients, activity cells."""

    sizes: dict[Key, int] = field(default_factory=dict)
    spend_minor: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    new_paying: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    cells: dict[tuple[int, int | None, int], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, parts: list[dict[str, Any]]) -> Aggregates:
        out = cls()
        for p in parts:
            key = (p["cohort"], p["channel_key"])
            if p["kind"] == "size":
                out.sizes[key] = int(p["clients"])
            elif p["kind"] == "spend":
                out.spend_minor[key] = int(p["spend_minor"] or 0)
            elif p["kind"] == "new":
                out.new_paying[key] = int(p["clients"])
            else:
                out.cells[(*key, p["offset"])] = p
        return out


def triangle(
    parts: list[dict[str, Any]], query: CohortQuery, as_of: date, names: dict[int, str]
) -> list[dict[str, Any]]:
    """One row per cohort × observed month offset (0..months, not past ``as_of``)."""
    found = Aggregates.of(parts)
    rows = []
    for key in sorted(found.sizes, key=lambda k: (k[0], k[1] is None, k[1] or 0)):
        channel = key[1]
        label = (
            (names.get(channel, "—") if channel is not None else "—") if query.breakdown else "all"
        )
        last = min(query.months, month_number(as_of) - key[0])
        rows += _cohort_rows(found, key, last, label)
    return rows


def _cohort_rows(found: Aggregates, key: Key, last: int, label: str) -> list[dict[str, Any]]:
    (cohort, channel), clients = key, found.sizes[key]
    spend, new = found.spend_minor[key], found.new_paying[key]
    cells = [found.cells.get((cohort, channel, k), {}) for k in range(last + 1)]
    margins = [int(c.get("margin_minor") or 0) for c in cells]
    cumulative = list(accumulate(margins))
    cohort_figures = {
        "spend": spend / 100.0,
        "new_paying_clients": new,
        "cac": METRICS["cac"].value({"spend": spend / 100.0, "new_buyers": float(new)}, 1),
        "payback_offset": payback_offset(cumulative, clients, spend, new),
    }
    rows = []
    for offset, cell in enumerate(cells):
        revenue, active = int(cell.get("revenue_minor") or 0) / 100.0, int(cell.get("clients") or 0)
        rows.append(
            {
                "cohort_month": month_start(cohort),
                "channel_id": channel,
                "channel": label,
                "offset": offset,
                "month": month_start(cohort + offset),
                "cohort_clients": clients,
                "active_clients": active,
                "retention_pct": ratio(active, clients, 100.0),
                "orders": int(cell.get("orders") or 0),
                "revenue": revenue,
                "revenue_per_client": ratio(revenue, clients),
                "margin": margins[offset] / 100.0,
                "cumulative_margin_per_client": ratio(cumulative[offset] / 100.0, clients),
                **cohort_figures,
            }
        )
    return rows


FORMULA = {
    "cohort_clients": "clients whose first revenue order (or first deal) falls in the month",
    "active_clients": "cohort clients with a revenue order in the month at that offset",
    "retention_pct": "active clients ÷ cohort clients × 100%",
    "revenue_per_client": "cohort revenue in the month ÷ cohort clients",
    "cumulative_margin_per_client": "Σ (total − cost) of cohort orders up to the offset ÷ "
    "cohort clients",
    "cac": "ad spend of the cohort month (and channel) ÷ new paying clients of that month "
    "(and channel) — the CAC metric",
    "payback_offset": "first offset where cumulative margin per client ≥ CAC (null if never)",
}


def run(runner: Runner, query: CohortQuery) -> Result:
    """Compute the cohort triangle."""
    s = runner.sources
    as_of = query.as_of or (clock.now() + s.utc_offset).date()
    parts = runner.rows(s.memo(("cohorts", query.model_dump_json(), as_of),
                               lambda: cohort_expression(s, query, as_of)))
    keys = {p["channel_key"] for p in parts if p["channel_key"] is not None}
    names = labels(runner, Breakdown.CHANNEL, keys) if query.breakdown else {}
    rows = triangle(parts, query, as_of, names)
    counts = {
        "cohort_clients": sum(int(p["clients"]) for p in parts if p["kind"] == "size"),
        "orders": sum(int(p["orders"]) for p in parts if p["kind"] == "activity"),
    }
    return Result(
        report="cohorts",
        engine=runner.engine,
        columns=list(rows[0]) if rows else [],
        rows=rows,
        formula=FORMULA,
        sql=runner.sql,
        seconds=runner.seconds,
        row_counts=counts,
        drilldown={
            "members": "voronka.analytics.reports.cohorts.members(sources, query, "
            "as_of) filtered by cohort month number and channel_key"
        },
        query={**query.model_dump(mode="json"), "as_of": as_of.isoformat()},
    )


REPORT = Report(
    name="cohorts",
    title_en="Cohorts: retention and payback",
    title_ru="Когорты: удержание и окупаемость",
    query=CohortQuery,
    run=run,  # type: ignore[arg-type]
    resources=("order", "deal", "ad_spend"),
)
