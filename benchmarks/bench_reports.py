"""Time the analytics reports on a demo store against hand-written SQL, PostgreSQL and a scan.

    python benchmarks/bench_reports.py STORE_URL [--clients 1000000] [--leads-per-client 3]
        [--reuse] [--json FILE]

Builds the demo company into STORE_URL (a SQLite file or a PostgreSQL database, whose data is
replaced; ``--reuse`` keeps what is there) with 3 leads per client on average, the shape the
analytics issue asks for (1M clients: ~3M deals, ~2M orders, ~22M touchpoints), takes a fresh Parquet snapshot of it and, for
every report of the catalogue with a representative query over the demo's last 12 months
(2025-11-01 … 2026-10-31), times — best of ``--repeat`` runs after one warm-up:

(a) the report through Voronka's runner on DuckDB over the snapshot (``report.run``: build the
    ibis expressions, compile, execute, shape the rows in Python);
(b) the baseline: hand-written DuckDB SQL over the same Parquet files computing the same
    numbers (checked: every number equal to the report's within 1e-6 relative);
(c) the same report on PostgreSQL in place, when STORE_URL is a PostgreSQL database
    (its numbers are checked against DuckDB's too);
(d) the floor: one plain scan (``sum``/``max`` per column) of every column the report reads.

Then it times the snapshot refresh: full (into an empty folder), with nothing changed, and
incremental after copying a few rows into an append-only table (touchpoint,
deal_stage_change) and into one that is rewritten (activity). Reports whose module exists but
that are not in ``catalog.reports()`` yet are timed from their module and marked so.
"""

# All SQL here is assembled from constants of this module and ORM table names, never input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import math
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg
from sqlalchemy.engine import make_url

from voronka.analytics import catalog, snapshot, sources
from voronka.analytics.columns import table as orm_table
from voronka.analytics.query import Period
from voronka.analytics.result import Result
from voronka.analytics.runner import Runner
from voronka.config import get_settings

DEMO_END = date(2026, 10, 31)
PERIOD = Period(start=date(2025, 11, 1), end=DEMO_END)
REVENUE_STATUSES = "('paid', 'shipped', 'delivered')"
RELATIVE_TOLERANCE = 1e-6
#: Modules of reports that may not be in the catalogue yet: timed from the module if so.
REPORT_MODULES = (
    "metrics",
    "scorecard",
    "calls",
    "funnel",
    "cohorts",
    "clients",
    "dynamics",
    "campaigns",
    "journey",
)

Numbers = dict[tuple[Any, ...], Any]


# --- hand-written SQL ------------------------------------------------------------------------


@dataclass
class Hand:
    """A DuckDB connection with one view per snapshot table, and SQL helpers for the period."""

    con: duckdb.DuckDBPyConnection
    offset_seconds: int

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def local(self, column: str) -> str:
        """Company local time of a UTC column (Europe/Moscow has no DST)."""
        return f"({column} + INTERVAL {self.offset_seconds} SECOND)"

    def utc(self, day: date) -> str:
        """Local midnight of ``day`` as a UTC timestamp literal."""
        moment = datetime.combine(day, datetime.min.time()) - timedelta(seconds=self.offset_seconds)
        return f"TIMESTAMP '{moment:%Y-%m-%d %H:%M:%S}'"

    def within(self, column: str, period: Period) -> str:
        """``column`` (UTC) falls on a local day of ``period``, compared on the raw column so
        that DuckDB can skip row groups by their min/max."""
        return (
            f"{column} >= {self.utc(period.start)} AND {column} < {self.utc(period.end_exclusive)}"
        )


def open_hand(directory: Path, offset_seconds: int) -> Hand:
    con = snapshot.connect_duckdb()
    # the hand SQL reads the copied tables only, never Voronka's kept per-client state
    tables = (p.name for p in directory.iterdir() if p.is_dir() and p.name != "derived")
    for name in sorted(tables):
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{directory / name}/*.parquet')"
        )
    return Hand(con, offset_seconds)


def _money(minor: Any) -> float:
    return (minor or 0) / 100.0


def _ratio(numerator: float | None, denominator: float | None, scale: float = 1.0) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator * scale


# --- metrics: leads, revenue, cpl, average_check by channel, with both comparisons -------------

METRICS_QUERY = {
    "period": {"start": str(PERIOD.start), "end": str(PERIOD.end)},
    "metrics": ["leads", "revenue", "cpl", "average_check"],
    "breakdown": "channel",
}
METRIC_COLUMNS = ("value", "previous", "year_ago")


def _periods_sql(periods: dict[str, Period]) -> str:
    return " UNION ALL ".join(
        f"SELECT '{label}' AS label, DATE '{p.start}' AS lo, DATE '{p.end}' AS hi"
        for label, p in periods.items()
    )


def hand_metrics(h: Hand) -> Numbers:
    """Each table scanned once, aggregated per local day and channel; days summed per period.

    The previous period and the one a year earlier are the same dates for a 365-day period;
    the baseline does not exploit that (each period is joined separately).
    """
    periods = {"value": PERIOD, "previous": PERIOD.previous(), "year_ago": PERIOD.year_before()}
    lo = min(p.start for p in periods.values())
    hi = max(p.end for p in periods.values())
    span = Period(start=lo, end=hi)
    sql = f"""
    WITH periods AS ({_periods_sql(periods)}),
    leads AS (
        SELECT channel_id AS key, CAST({h.local("created_at")} AS DATE) AS day, count(*) AS n
        FROM deal WHERE NOT is_deleted AND {h.within("created_at", span)} GROUP BY ALL),
    clients AS (SELECT id, source_channel_id FROM client WHERE merged_into_id IS NULL),
    orders AS (
        SELECT coalesce(d.channel_id, c.source_channel_id) AS key,
               CAST({h.local("o.paid_at")} AS DATE) AS day,
               sum(o.total_minor) AS revenue_minor, count(*) AS n
        FROM sales_order o
        LEFT JOIN deal d ON o.deal_id = d.id
        LEFT JOIN clients c ON o.client_id = c.id
        WHERE NOT o.is_deleted AND o.paid_at IS NOT NULL AND o.status IN {REVENUE_STATUSES}
          AND {h.within("o.paid_at", span)}
        GROUP BY ALL),
    spend AS (
        SELECT c.channel_id AS key, a.day, sum(a.cost_minor) AS cost_minor
        FROM ad_spend a JOIN campaign c ON a.campaign_id = c.id
        WHERE a.day BETWEEN DATE '{lo}' AND DATE '{hi}' GROUP BY ALL)
    SELECT 'leads', p.label, key, sum(n), NULL FROM leads JOIN periods p
        ON day BETWEEN p.lo AND p.hi GROUP BY ALL
    UNION ALL
    SELECT 'orders', p.label, key, sum(revenue_minor), sum(n) FROM orders JOIN periods p
        ON day BETWEEN p.lo AND p.hi GROUP BY ALL
    UNION ALL
    SELECT 'spend', p.label, key, sum(cost_minor), NULL FROM spend JOIN periods p
        ON day BETWEEN p.lo AND p.hi GROUP BY ALL
    """
    found: dict[tuple[str, Any], dict[str, float]] = {}
    for kind, label, key, first, second in h.rows(sql):
        cell = found.setdefault((label, key), {})
        if kind == "leads":
            cell["leads"] = float(first)
        elif kind == "orders":
            cell["revenue"], cell["paid_orders"] = _money(first), float(second)
        else:
            cell["spend"] = _money(first)
    out: Numbers = {}
    for key in {k for _, k in found}:
        for label in METRIC_COLUMNS:
            v = found.get((label, key), {})
            leads, revenue = v.get("leads", 0.0), v.get("revenue", 0.0)
            out[(key, "leads", label)] = leads
            out[(key, "revenue", label)] = revenue
            out[(key, "cpl", label)] = _ratio(v.get("spend", 0.0), leads)
            out[(key, "average_check", label)] = _ratio(revenue, v.get("paid_orders", 0.0))
    return out


def report_metrics(result: Result) -> Numbers:
    return {(r["key"], r["metric"], c): r[c] for r in result.rows for c in METRIC_COLUMNS}


# --- scorecard ---------------------------------------------------------------------------------

SCORECARD_QUERY = {"period": {"start": str(PERIOD.start), "end": str(PERIOD.end)}}
SCORECARD_FIGURES = (
    "leads",
    "won",
    "lost",
    "win_rate_pct",
    "revenue",
    "paid_orders",
    "average_check",
    "response_median_seconds",
    "calls",
    "missed_calls",
    "talk_median_seconds",
    "overdue_tasks",
)


def hand_scorecard(h: Hand) -> Numbers:
    """Deals, orders and activities each scanned once with conditional aggregates; the first
    outbound contact after each lead by an ASOF join."""
    cut = h.utc(PERIOD.end_exclusive)  # the end of the period is in the past: not "now"
    in_period = h.within
    deals = h.rows(f"""
        SELECT owner_id,
               count(*) FILTER (WHERE {in_period("created_at", PERIOD)}),
               count(*) FILTER (WHERE status = 'won' AND {in_period("closed_at", PERIOD)}),
               count(*) FILTER (WHERE status = 'lost' AND {in_period("closed_at", PERIOD)})
        FROM deal WHERE NOT is_deleted GROUP BY owner_id""")
    orders = h.rows(f"""
        SELECT coalesce(o.owner_id, c.owner_id), sum(o.total_minor), count(*)
        FROM sales_order o
        LEFT JOIN (SELECT id, owner_id FROM client WHERE merged_into_id IS NULL) c
            ON o.client_id = c.id
        WHERE NOT o.is_deleted AND o.paid_at IS NOT NULL AND o.status IN {REVENUE_STATUSES}
          AND {in_period("o.paid_at", PERIOD)}
        GROUP BY 1""")
    activities = h.rows(f"""
        SELECT owner_id,
               count(*) FILTER (WHERE kind = 'call' AND {in_period("occurred_at", PERIOD)}),
               count(*) FILTER (WHERE kind = 'call' AND {in_period("occurred_at", PERIOD)}
                                AND direction = 'inbound' AND call_status = 'missed'),
               quantile_cont(talk_seconds, 0.5) FILTER (
                   WHERE kind = 'call' AND {in_period("occurred_at", PERIOD)}
                   AND call_status = 'answered'),
               count(*) FILTER (WHERE kind = 'task' AND created_at < {cut} AND due_at < {cut}
                                AND (completed_at IS NULL OR completed_at >= {cut}))
        FROM activity WHERE NOT is_deleted GROUP BY owner_id""")
    responses = h.rows(f"""
        WITH leads AS (
            SELECT owner_id, client_id, created_at FROM deal
            WHERE NOT is_deleted AND {in_period("created_at", PERIOD)}),
        contacts AS (
            SELECT client_id, occurred_at FROM activity
            WHERE NOT is_deleted AND client_id IS NOT NULL
              AND (direction = 'outbound' OR kind = 'meeting'))
        SELECT l.owner_id, quantile_cont(epoch(c.occurred_at) - epoch(l.created_at), 0.5)
        FROM leads l ASOF JOIN contacts c
            ON l.client_id = c.client_id AND c.occurred_at >= l.created_at
        GROUP BY 1""")
    managers = h.rows("""
        SELECT id, is_active FROM user_account
        WHERE role IN ('sales_manager', 'head_of_sales')""")
    values: dict[Any, dict[str, Any]] = {}
    for owner, leads, won, lost in deals:
        values.setdefault(owner, {}).update(leads=leads, won=won, lost=lost)
    for owner, revenue, paid in orders:
        values.setdefault(owner, {}).update(revenue=_money(revenue), paid_orders=paid)
    for owner, calls, missed, talk, overdue in activities:
        values.setdefault(owner, {}).update(
            calls=calls, missed_calls=missed, talk_median_seconds=talk, overdue_tasks=overdue
        )
    for owner, median in responses:
        values.setdefault(owner, {})["response_median_seconds"] = median
    out: Numbers = {}
    for manager, active in managers:
        v = values.get(manager, {})
        counts = {
            k: int(v.get(k) or 0)
            for k in (
                "leads",
                "won",
                "lost",
                "paid_orders",
                "calls",
                "missed_calls",
                "overdue_tasks",
            )
        }
        if not active and not any(counts.values()):
            continue
        figures = {
            **counts,
            "revenue": v.get("revenue", 0.0),
            "win_rate_pct": _ratio(counts["won"], counts["won"] + counts["lost"], 100.0),
            "average_check": _ratio(v.get("revenue", 0.0), counts["paid_orders"]),
            "response_median_seconds": v.get("response_median_seconds"),
            "talk_median_seconds": v.get("talk_median_seconds"),
        }
        out.update({(manager, name): figures[name] for name in SCORECARD_FIGURES})
    return out


def report_scorecard(result: Result) -> Numbers:
    return {
        (r["manager_id"], name): r[name]
        for r in result.rows
        if r["row_type"] == "manager"
        for name in SCORECARD_FIGURES
    }


# --- calls -------------------------------------------------------------------------------------

CALLS_QUERY = {"period": {"start": str(PERIOD.start), "end": str(PERIOD.end)}}
CELL_FIGURES = (
    "inbound_calls",
    "missed_calls",
    "not_called_back",
    "answered_calls",
    "median_wait_seconds",
    "median_talk_seconds",
    "average_handle_seconds",
)


def hand_calls(h: Hand) -> Numbers:
    """Inbound calls once; a missed call is called back when the first outbound call to the
    same client (or number) at or after it rang is within the hour — two ASOF joins."""
    rows = h.rows(f"""
        WITH calls AS (
            SELECT id, client_id, from_number, to_number, direction, call_status,
                   occurred_at, wait_seconds, talk_seconds
            FROM activity WHERE kind = 'call' AND NOT is_deleted),
        inbound AS (
            SELECT *, {h.local("occurred_at")} AS local_at FROM calls
            WHERE direction = 'inbound' AND {h.within("occurred_at", PERIOD)}),
        missed AS (SELECT id, client_id, from_number, occurred_at FROM inbound
                   WHERE call_status = 'missed'),
        outbound AS (SELECT client_id, to_number, occurred_at AS back_at FROM calls
                     WHERE direction = 'outbound'),
        back AS (
            SELECT m.id FROM missed m ASOF JOIN outbound o
                ON m.client_id = o.client_id AND o.back_at >= m.occurred_at
            WHERE o.back_at <= m.occurred_at + INTERVAL 60 MINUTE
            UNION
            SELECT m.id FROM missed m ASOF JOIN outbound o
                ON m.from_number = o.to_number AND o.back_at >= m.occurred_at
            WHERE o.back_at <= m.occurred_at + INTERVAL 60 MINUTE),
        flagged AS (
            SELECT i.*, i.call_status = 'missed' AND b.id IS NULL AS left_alone,
                   i.call_status = 'answered' AS answered
            FROM inbound i LEFT JOIN back b ON i.id = b.id)
        SELECT isodow(local_at) AS weekday, hour(local_at) AS hour, count(*),
               count(*) FILTER (WHERE call_status = 'missed'),
               count(*) FILTER (WHERE left_alone),
               count(*) FILTER (WHERE answered),
               quantile_cont(wait_seconds, 0.5) FILTER (WHERE answered),
               quantile_cont(talk_seconds, 0.5) FILTER (WHERE answered),
               sum(talk_seconds) FILTER (WHERE answered) / count(talk_seconds) FILTER (
                   WHERE answered),
               CASE WHEN GROUPING(weekday) = 1 THEN
                   (list(id ORDER BY occurred_at, id) FILTER (WHERE left_alone))[1:500] END
        FROM flagged GROUP BY GROUPING SETS ((weekday, hour), ())""")
    out: Numbers = {}
    for weekday, hour, *figures, listed in rows:
        out.update({(weekday, hour, n): v for n, v in zip(CELL_FIGURES, figures, strict=True)})
        if weekday is None:
            out[("not_called_back_ids",)] = list(listed or [])
    return out


def report_calls(result: Result) -> Numbers:
    out: Numbers = {}
    for r in result.rows:
        if r["section"] == "heatmap" and r["inbound_calls"]:
            out.update({(r["weekday"], r["hour"], n): r[n] for n in CELL_FIGURES})
        elif r["section"] == "total":
            out.update({(None, None, n): r[n] for n in CELL_FIGURES})
        elif r["section"] == "callbacks":
            out[("not_called_back_ids",)] = r["not_called_back_ids"]
    return out


# --- funnel ------------------------------------------------------------------------------------

FUNNEL_QUERY = {"period": {"start": str(PERIOD.start), "end": str(PERIOD.end)}}
FUNNEL_FIGURES = (
    "entered",
    "median_hours_from_previous",
    "p90_hours_from_previous",
    "median_hours_from_start",
    "median_hours_in_stage",
)
FUNNEL_WINDOW_DAYS = 90


def funnel_steps(h: Hand) -> list[int]:
    """The default pipeline's open stages by position, then its won stage."""
    stages = h.rows("""
        SELECT s.id, s.kind FROM stage s JOIN pipeline p ON s.pipeline_id = p.id
        WHERE NOT s.is_archived AND p.id = (
            SELECT id FROM pipeline WHERE NOT is_archived
            ORDER BY NOT is_default, position, id LIMIT 1)
        ORDER BY s.position, s.id""")
    return [s for s, kind in stages if kind == "open"] + [s for s, k in stages if k == "won"][:1]


def hand_funnel(h: Hand) -> Numbers:
    """Step k is the first change into its stage at or after step k − 1: one ASOF join per
    step on the entrants' history (with each change's next change from one window)."""
    steps = funnel_steps(h)
    n = len(steps)
    chain = []
    for k in range(2, n + 1):
        within = "i.changed_at <= p.window_end"
        chain.append(f"""r{k} AS (
        SELECT p.*, CASE WHEN {within} THEN i.changed_at END AS at_{k},
               CASE WHEN {within} THEN i.next_at END AS next_{k}
        FROM r{k - 1} p ASOF LEFT JOIN (FROM into_stage WHERE to_stage_id = {steps[k - 1]}) i
            ON p.deal_id = i.deal_id AND i.changed_at >= p.at_{k - 1})""")
    at = ", ".join(f"at_{k}" for k in range(1, n + 1))
    nexts = ", ".join(f"next_{k}" for k in range(1, n + 1))
    previous = ", ".join(["NULL::TIMESTAMP"] + [f"at_{k}" for k in range(1, n)])
    sql = f"""
    WITH entrants AS (
        SELECT f.deal_id, f.entered_at FROM (
            SELECT deal_id, min(changed_at) AS entered_at FROM deal_stage_change
            WHERE to_stage_id = {steps[0]} GROUP BY deal_id) f
        JOIN deal d ON d.id = f.deal_id
        WHERE NOT d.is_deleted AND {h.within("f.entered_at", PERIOD)}),
    history AS (
        SELECT c.deal_id, c.to_stage_id, c.changed_at,
               lead(c.changed_at) OVER (PARTITION BY c.deal_id ORDER BY c.changed_at, c.id)
                   AS next_at
        FROM deal_stage_change c SEMI JOIN entrants e ON c.deal_id = e.deal_id),
    into_stage AS (  -- changes at the same moment into the same stage: one, the earliest next
        SELECT deal_id, to_stage_id, changed_at, min(next_at) AS next_at FROM history
        GROUP BY ALL),
    r1 AS (
        SELECT e.deal_id, e.entered_at AS at_1,
               e.entered_at + INTERVAL {FUNNEL_WINDOW_DAYS} DAY AS window_end, i.next_at AS next_1
        FROM entrants e ASOF LEFT JOIN (FROM into_stage WHERE to_stage_id = {steps[0]}) i
            ON e.deal_id = i.deal_id AND i.changed_at >= e.entered_at),
    {", ".join(chain)},
    long AS (
        SELECT step, [{at}][step] AS reached, [{previous}][step] AS prev, at_1,
               [{nexts}][step] AS nxt
        FROM r{n}, range(1, {n + 1}) AS steps(step))
    SELECT step, count(*),
           quantile_cont((epoch(reached) - epoch(prev)) / 3600.0, [0.5, 0.9]),
           quantile_cont((epoch(reached) - epoch(at_1)) / 3600.0, 0.5),
           quantile_cont((epoch(nxt) - epoch(reached)) / 3600.0, 0.5)
    FROM long WHERE reached IS NOT NULL GROUP BY step
    """
    out: Numbers = {}
    for step, entered, from_previous, from_start, in_stage in h.rows(sql):
        median, p90 = from_previous or (None, None)  # step 1 has no previous step
        values = (entered, median, p90, from_start, in_stage)
        out.update({(step, name): v for name, v in zip(FUNNEL_FIGURES, values, strict=True)})
    for step in range(1, n + 1):  # the report lists every step, 0 where nobody reached it
        if (step, "entered") not in out:
            out.update(
                {(step, name): (0 if name == "entered" else None) for name in FUNNEL_FIGURES}
            )
    return out


def report_funnel(result: Result) -> Numbers:
    return {(r["step"], name): r[name] for r in result.rows for name in FUNNEL_FIGURES}


# --- cohorts -----------------------------------------------------------------------------------

COHORT_FIRST, COHORT_LAST, COHORT_MONTHS = date(2025, 11, 1), date(2026, 10, 1), 12
COHORTS_QUERY = {
    "start_month": str(COHORT_FIRST),
    "end_month": str(COHORT_LAST),
    "months": COHORT_MONTHS,
    "as_of": str(DEMO_END),
}


def _month_number(day: date) -> int:
    return day.year * 12 + day.month - 1


def hand_cohorts(h: Hand) -> Numbers:
    """Revenue orders read once (first order per client = min paid_at); spend per month.

    Without a breakdown the cohort sizes are also the month's new paying clients (the CAC
    denominator), so they are counted once.
    """
    first, last = _month_number(COHORT_FIRST), _month_number(COHORT_LAST)
    until = h.utc(DEMO_END + timedelta(days=1))
    month = "(year({0}) * 12 + month({0}) - 1)"
    sql = f"""
    WITH revenue AS (
        SELECT client_id, {h.local("paid_at")} AS local_at, paid_at, total_minor,
               cost_total_minor
        FROM sales_order
        WHERE NOT is_deleted AND paid_at IS NOT NULL AND status IN {REVENUE_STATUSES}),
    members AS (
        SELECT client_id, {month.format("min(local_at)")} AS cohort FROM revenue
        GROUP BY client_id
        HAVING min(paid_at) < {until} AND cohort BETWEEN {first} AND {last}),
    activity AS (
        SELECT m.cohort, {month.format("r.local_at")} - m.cohort AS "offset",
               count(DISTINCT r.client_id) AS clients, count(*) AS orders,
               sum(r.total_minor) AS revenue, sum(r.total_minor - r.cost_total_minor) AS margin
        FROM revenue r JOIN members m ON r.client_id = m.client_id
        WHERE r.paid_at < {until}
          AND {month.format("r.local_at")} - m.cohort BETWEEN 0 AND {COHORT_MONTHS}
        GROUP BY ALL)
    SELECT 'size', cohort, NULL, count(*), NULL, NULL, NULL FROM members GROUP BY cohort
    UNION ALL
    SELECT 'activity', cohort, "offset", clients, orders, revenue, margin FROM activity
    UNION ALL
    SELECT 'spend', {month.format("a.day")}, NULL, NULL, NULL, sum(a.cost_minor), NULL
    FROM ad_spend a JOIN campaign c ON a.campaign_id = c.id
    WHERE a.day <= DATE '{DEMO_END}'
      AND {month.format("a.day")} BETWEEN {first} AND {last}
    GROUP BY 2
    """
    out: Numbers = {}
    cells: dict[tuple[int, int], tuple[Any, ...]] = {}
    sizes: dict[int, int] = {}
    spend: dict[int, int] = {}
    for kind, cohort, offset, clients, orders, revenue, margin in h.rows(sql):
        if kind == "size":
            sizes[cohort] = clients
        elif kind == "spend":
            spend[cohort] = revenue
        else:
            cells[(cohort, offset)] = (clients, orders, revenue, margin)
    for cohort, clients in sizes.items():
        out[(cohort, "cohort_clients")] = clients
        out[(cohort, "new_paying_clients")] = clients
        out[(cohort, "spend")] = _money(spend.get(cohort))
        for offset in range(min(COHORT_MONTHS, _month_number(DEMO_END) - cohort) + 1):
            active, orders, revenue, margin = cells.get((cohort, offset), (0, 0, 0, 0))
            out.update(
                {
                    (cohort, offset, "active_clients"): active,
                    (cohort, offset, "orders"): orders,
                    (cohort, offset, "revenue"): _money(revenue),
                    (cohort, offset, "margin"): _money(margin),
                }
            )
    return out


def report_cohorts(result: Result) -> Numbers:
    out: Numbers = {}
    for r in result.rows:
        cohort = _month_number(r["cohort_month"])
        out.update({(cohort, n): r[n] for n in ("cohort_clients", "new_paying_clients", "spend")})
        out.update(
            {
                (cohort, r["offset"], n): r[n]
                for n in ("active_clients", "orders", "revenue", "margin")
            }
        )
    return out


# --- clients: RFM ------------------------------------------------------------------------------

CLIENTS_QUERY = {
    "period": {"start": str(PERIOD.start), "end": str(PERIOD.end)},
    "section": "rfm",
    "limit": 1000,
}
RFM_FIGURES = ("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "segment")


def hand_clients(h: Hand) -> Numbers:
    """RFM needs only the revenue orders: one scan, one GROUP BY, three ranks."""
    from voronka.analytics.reports.clients import SEGMENT_CODES

    codes = ", ".join(
        f"({code}, '{name.replace(chr(39), chr(39) * 2)}')"
        for name, all_codes in SEGMENT_CODES.items()
        for code in all_codes
    )
    score = "(floor({0} * 5.0 / n)::BIGINT + 1)"
    sql = f"""
    WITH paying AS (
        SELECT client_id, sum(total_minor) AS monetary, count(*) AS frequency,
               date_diff('day', CAST({h.local("max(paid_at)")} AS DATE),
                         DATE '{PERIOD.end}') AS recency
        FROM sales_order
        WHERE NOT is_deleted AND paid_at IS NOT NULL AND status IN {REVENUE_STATUSES}
          AND {h.within("paid_at", PERIOD)}
        GROUP BY client_id),
    ranked AS (
        SELECT *, rank() OVER (ORDER BY recency DESC) - 1 AS rr,
               rank() OVER (ORDER BY frequency) - 1 AS fr,
               rank() OVER (ORDER BY monetary) - 1 AS mr, count(*) OVER () AS n
        FROM paying),
    top AS (
        SELECT client_id, recency, frequency, monetary, {score.format("rr")} AS r,
               {score.format("fr")} AS f, {score.format("mr")} AS m
        FROM ranked ORDER BY monetary DESC, client_id LIMIT {CLIENTS_QUERY["limit"]}),
    segments(code, segment) AS (VALUES {codes})
    SELECT t.client_id, t.recency, t.frequency, t.monetary, t.r, t.f, t.m, s.segment
    FROM top t LEFT JOIN segments s ON s.code = t.r * 100 + t.f * 10 + t.m
    ORDER BY t.monetary DESC, t.client_id
    """
    out: Numbers = {}
    order = []
    for client, recency, frequency, monetary, r, f, m, segment in h.rows(sql):
        order.append(client)
        values = (recency, frequency, _money(monetary), r, f, m, segment)
        out.update({(client, name): v for name, v in zip(RFM_FIGURES, values, strict=True)})
    out[("order",)] = order
    return out


def report_clients(result: Result) -> Numbers:
    out: Numbers = {(r["client_id"], n): r[n] for r in result.rows for n in RFM_FIGURES}
    out[("order",)] = [r["client_id"] for r in result.rows]
    return out


# --- dynamics: the metrics by month with previous month and year ago ----------------------------

DYNAMICS_QUERY = {
    "period": {"start": str(PERIOD.start), "end": str(PERIOD.end)},
    "metrics": ["leads", "revenue", "average_check", "cpl"],
    "grain": "month",
}
DYNAMICS_COLUMNS = ("value", "previous", "year_ago")


def _shift_month(day: date, months: int) -> date:
    number = _month_number(day) + months
    return date(number // 12, number % 12 + 1, 1)


def hand_dynamics(h: Hand) -> Numbers:
    """Leads, orders and spend per local month over the period and the year before it."""
    history = Period(start=_shift_month(PERIOD.start, -12), end=PERIOD.end)
    sql = f"""
    SELECT 'leads', date_trunc('month', {h.local("created_at")})::DATE, count(*), NULL
    FROM deal WHERE NOT is_deleted AND {h.within("created_at", history)} GROUP BY 2
    UNION ALL
    SELECT 'orders', date_trunc('month', {h.local("paid_at")})::DATE, sum(total_minor),
           count(*)
    FROM sales_order
    WHERE NOT is_deleted AND paid_at IS NOT NULL AND status IN {REVENUE_STATUSES}
      AND {h.within("paid_at", history)}
    GROUP BY 2
    UNION ALL
    SELECT 'spend', date_trunc('month', a.day)::DATE, sum(a.cost_minor), NULL
    FROM ad_spend a JOIN campaign c ON a.campaign_id = c.id
    WHERE a.day BETWEEN DATE '{history.start}' AND DATE '{history.end}' GROUP BY 2
    """
    months: dict[date, dict[str, float]] = {}
    for kind, month, first, second in h.rows(sql):
        cell = months.setdefault(month, {})
        if kind == "leads":
            cell["leads"] = float(first)
        elif kind == "orders":
            cell["revenue"], cell["paid_orders"] = _money(first), float(second)
        else:
            cell["spend"] = _money(first)

    def metrics(month: date) -> dict[str, float | None]:
        v = months.get(month, {})
        leads, revenue = v.get("leads", 0.0), v.get("revenue", 0.0)
        return {
            "leads": leads,
            "revenue": revenue,
            "average_check": _ratio(revenue, v.get("paid_orders", 0.0)),
            "cpl": _ratio(v.get("spend", 0.0), leads),
        }

    out: Numbers = {}
    for offset in range(12):
        month = _shift_month(PERIOD.start, offset)
        compared = {
            "value": month,
            "previous": _shift_month(month, -1),
            "year_ago": _shift_month(month, -12),
        }
        for column, when in compared.items():
            for metric, value in metrics(when).items():
                out[(month, metric, column)] = value
    return out


def report_dynamics(result: Result) -> Numbers:
    return {(r["bucket"], r["metric"], c): r[c] for r in result.rows for c in DYNAMICS_COLUMNS}


# --- campaigns: per campaign, per channel and in total -----------------------------------------

CAMPAIGNS_QUERY = {"period": {"start": str(PERIOD.start), "end": str(PERIOD.end)}}
CAMPAIGN_FIGURES = (
    "leads",
    "new_client_leads",
    "loyal_client_leads",
    "won",
    "revenue",
    "spend",
    "clicks",
    "impressions",
    "new_buyers",
    "cpl",
    "cac",
    "romi",
)
_LEVEL = (
    "CASE WHEN GROUPING(cp) = 0 THEN 'campaign' WHEN GROUPING(ch) = 0 THEN 'channel' "
    "ELSE 'total' END"
)
_LEVEL_KEY = "CASE WHEN GROUPING(cp) = 0 THEN cp ELSE ch END"


def hand_campaigns(h: Hand) -> Numbers:
    """Each fact once, grouped by GROUPING SETS (campaign, channel, total)."""
    sets = "GROUP BY GROUPING SETS ((cp), (ch), ())"
    sql = f"""
    WITH revenue AS (
        SELECT id, client_id, deal_id, paid_at, total_minor FROM sales_order
        WHERE NOT is_deleted AND paid_at IS NOT NULL AND status IN {REVENUE_STATUSES}),
    firsts AS (
        SELECT * FROM revenue
        QUALIFY row_number() OVER (PARTITION BY client_id ORDER BY paid_at, id) = 1),
    clients AS (
        SELECT id, source_channel_id, source_campaign_id FROM client
        WHERE merged_into_id IS NULL),
    attributed AS (
        SELECT o.kind, o.total_minor, coalesce(d.channel_id, c.source_channel_id) AS ch,
               coalesce(d.campaign_id, c.source_campaign_id) AS cp
        FROM (SELECT 'order' AS kind, * FROM revenue WHERE {h.within("paid_at", PERIOD)}
              UNION ALL
              SELECT 'first' AS kind, * FROM firsts WHERE {h.within("paid_at", PERIOD)}) o
        LEFT JOIN deal d ON o.deal_id = d.id
        LEFT JOIN clients c ON o.client_id = c.id),
    first_paid AS (SELECT client_id, paid_at AS first_paid_at FROM firsts),
    deals AS (SELECT * FROM deal WHERE NOT is_deleted)
    SELECT {_LEVEL}, {_LEVEL_KEY}, 'leads', count(*),
           count(*) FILTER (WHERE f.first_paid_at < d.created_at), NULL
    FROM (SELECT *, channel_id AS ch, campaign_id AS cp FROM deals
          WHERE {h.within("created_at", PERIOD)}) d
    LEFT JOIN first_paid f ON d.client_id = f.client_id
    {sets}
    UNION ALL
    SELECT {_LEVEL}, {_LEVEL_KEY}, 'won', count(*), NULL, NULL
    FROM (SELECT channel_id AS ch, campaign_id AS cp FROM deals
          WHERE status = 'won' AND {h.within("closed_at", PERIOD)})
    {sets}
    UNION ALL
    SELECT {_LEVEL}, {_LEVEL_KEY}, 'orders', sum(total_minor) FILTER (WHERE kind = 'order'),
           count(*) FILTER (WHERE kind = 'first'), NULL
    FROM attributed {sets}
    UNION ALL
    SELECT {_LEVEL}, {_LEVEL_KEY}, 'spend', sum(a.cost_minor), sum(a.clicks), sum(a.impressions)
    FROM (SELECT a.*, c.channel_id AS ch, a.campaign_id AS cp
          FROM ad_spend a JOIN campaign c ON a.campaign_id = c.id
          WHERE a.day BETWEEN DATE '{PERIOD.start}' AND DATE '{PERIOD.end}') a
    {sets}
    """
    found: dict[tuple[str, Any], dict[str, float]] = {}
    for level, key, kind, first, second, third in h.rows(sql):
        cell = found.setdefault((level, key), {})
        if kind == "leads":
            cell["leads"], cell["loyal_leads"] = first, second
        elif kind == "won":
            cell["won"] = first
        elif kind == "orders":
            cell["revenue"], cell["new_buyers"] = _money(first), second
        else:
            cell.update(spend=_money(first), clicks=second, impressions=third)
    out: Numbers = {}
    for (level, key), v in found.items():
        leads, loyal = int(v.get("leads") or 0), int(v.get("loyal_leads") or 0)
        spend, revenue = v.get("spend") or 0.0, v.get("revenue") or 0.0
        figures = {
            "leads": leads,
            "new_client_leads": leads - loyal,
            "loyal_client_leads": loyal,
            "won": int(v.get("won") or 0),
            "revenue": revenue,
            "spend": spend,
            "clicks": int(v.get("clicks") or 0),
            "impressions": int(v.get("impressions") or 0),
            "new_buyers": int(v.get("new_buyers") or 0),
            "cpl": _ratio(spend, leads),
            "cac": _ratio(spend, v.get("new_buyers") or 0),
            "romi": _ratio(revenue - spend, spend, 100.0),
        }
        out.update({(level, key, name): figures[name] for name in CAMPAIGN_FIGURES})
    return out


def report_campaigns(result: Result) -> Numbers:
    out: Numbers = {}
    for r in result.rows:
        key = {"campaign": r["campaign_id"], "channel": r["channel_id"], "total": None}[r["level"]]
        if any(r[name] for name in CAMPAIGN_FIGURES):  # channels listed only for their campaigns
            out.update({(r["level"], key, name): r[name] for name in CAMPAIGN_FIGURES})
    return out


# --- journey: pre-sale ------------------------------------------------------------------------

JOURNEY_QUERY = {
    "period": {"start": str(PERIOD.start), "end": str(PERIOD.end)},
    "section": "presale",
    "lookback_days": 30,
}
JOURNEY_SUMMARY = (
    "buyers",
    "buyers_touched",
    "buyers_with_visits",
    "visits_median",
    "visits_p90",
    "pages_median",
    "pages_p90",
    "seconds_median",
    "seconds_p90",
    "days_to_purchase_median",
)


def hand_journey(h: Hand) -> Numbers:
    """Touchpoints read only in the lookback window before the period, visitor owners only
    for the anonymous ones among them; the buyers' touches kept in a temporary table for the
    two aggregates; first and last touch by arg_min / arg_max instead of window rankings."""
    lookback = JOURNEY_QUERY["lookback_days"]
    earliest = h.utc(PERIOD.start - timedelta(days=lookback))
    h.con.execute(f"""
    CREATE OR REPLACE TEMP TABLE journey_touches AS
    WITH revenue AS (
        SELECT client_id, paid_at FROM sales_order
        WHERE NOT is_deleted AND paid_at IS NOT NULL AND status IN {REVENUE_STATUSES}),
    buyers AS (
        SELECT client_id AS buyer, min(paid_at) AS purchase_at FROM revenue GROUP BY 1
        HAVING {h.within("min(paid_at)", PERIOD)}),
    window_touches AS (
        SELECT id, visitor_id, client_id, kind, channel_id, occurred_at, pages, seconds_on_site
        FROM touchpoint
        WHERE occurred_at >= {earliest} AND occurred_at < {h.utc(PERIOD.end_exclusive)}),
    owners AS (
        SELECT visitor_id, min(client_id) AS owner FROM touchpoint
        WHERE client_id IS NOT NULL AND visitor_id IN (
            SELECT visitor_id FROM window_touches WHERE client_id IS NULL)
        GROUP BY visitor_id HAVING min(client_id) = max(client_id))
    SELECT t.id, t.kind, t.channel_id, t.occurred_at, t.pages, t.seconds_on_site, b.buyer,
           b.purchase_at
    FROM window_touches t LEFT JOIN owners o ON t.visitor_id = o.visitor_id
    JOIN buyers b ON coalesce(t.client_id, o.owner) = b.buyer
    WHERE epoch(b.purchase_at) - epoch(t.occurred_at) BETWEEN 0 AND {lookback * 86400}""")
    h.con.execute("""
    CREATE OR REPLACE TEMP TABLE journey_buyers AS
    SELECT buyer, any_value(purchase_at) AS purchase_at,
           arg_min_null(channel_id, (occurred_at, id)) AS first_channel,
           arg_max_null(channel_id, (occurred_at, id)) AS last_channel,
           min(occurred_at) AS first_at,
           count(*) FILTER (WHERE kind = 'visit') AS visits,
           sum(pages) FILTER (WHERE kind = 'visit') AS pages,
           sum(seconds_on_site) FILTER (WHERE kind = 'visit') AS seconds
    FROM journey_touches GROUP BY buyer""")
    summary = h.rows(f"""
    SELECT (SELECT count(*) FROM (
                SELECT client_id FROM sales_order
                WHERE NOT is_deleted AND paid_at IS NOT NULL AND status IN {REVENUE_STATUSES}
                GROUP BY 1 HAVING {h.within("min(paid_at)", PERIOD)})),
           count(*), count(*) FILTER (WHERE visits > 0),
           quantile_cont(visits, [0.5, 0.9]) FILTER (WHERE visits > 0),
           quantile_cont(pages, [0.5, 0.9]) FILTER (WHERE visits > 0),
           quantile_cont(seconds, [0.5, 0.9]) FILTER (WHERE visits > 0),
           quantile_cont((epoch(purchase_at) - epoch(first_at)) / 86400.0, 0.5)
    FROM journey_buyers""")[0]
    channels = h.rows("""
    WITH touched AS (
        SELECT channel_id, count(DISTINCT buyer) AS n FROM journey_touches GROUP BY 1),
    firsts AS (SELECT first_channel AS channel_id, count(*) AS n FROM journey_buyers GROUP BY 1),
    lasts AS (SELECT last_channel AS channel_id, count(*) AS n FROM journey_buyers GROUP BY 1)
    SELECT t.channel_id, t.n, coalesce(f.n, 0), coalesce(l.n, 0)
    FROM touched t
    LEFT JOIN firsts f ON t.channel_id IS NOT DISTINCT FROM f.channel_id
    LEFT JOIN lasts l ON t.channel_id IS NOT DISTINCT FROM l.channel_id""")
    exits = h.rows(f"""
    WITH payers AS (
        SELECT client_id FROM sales_order
        WHERE NOT is_deleted AND paid_at IS NOT NULL AND status IN {REVENUE_STATUSES}),
    bought AS (
        SELECT visitor_id FROM touchpoint
        WHERE visitor_id IS NOT NULL AND client_id IN (SELECT client_id FROM payers))
    SELECT landing_page, count(*) AS visits, count(*) FILTER (WHERE pages <= 1) AS bounces
    FROM touchpoint
    WHERE kind = 'visit' AND {h.within("occurred_at", PERIOD)}
      AND (client_id IS NULL OR client_id NOT IN (SELECT client_id FROM payers))
      AND (visitor_id IS NULL OR visitor_id NOT IN (SELECT visitor_id FROM bought))
    GROUP BY landing_page ORDER BY bounces DESC, visits DESC, landing_page LIMIT 20""")
    buyers, touched, with_visits, visits, pages, seconds, days = summary
    visits, pages, seconds = (q or (None, None) for q in (visits, pages, seconds))
    values = (buyers, touched, with_visits, *visits, *pages, *seconds, days)
    out: Numbers = {("summary", n): v for n, v in zip(JOURNEY_SUMMARY, values, strict=True)}
    for channel, n, first, last in channels:
        out.update(
            {
                ("channel", channel, "buyers_touched"): n,
                ("channel", channel, "first_touch"): first,
                ("channel", channel, "last_touch"): last,
            }
        )
    for page, visits_n, bounces in exits:
        out.update({("exit", page, "visits"): visits_n, ("exit", page, "bounces"): bounces})
    out[("exit_order",)] = [page for page, _, _ in exits]
    return out


def report_journey(result: Result) -> Numbers:
    out: Numbers = {}
    for r in result.rows:
        if r["part"] == "summary":
            out[("summary", r["figure"])] = r["value"]
        elif r["part"] == "channel":
            out.update(
                {
                    ("channel", r["key"], n): r[n]
                    for n in ("buyers_touched", "first_touch", "last_touch")
                }
            )
        else:
            out.update({("exit", r["label"], n): r[n] for n in ("visits", "bounces")})
    out[("exit_order",)] = [r["label"] for r in result.rows if r["part"] == "exit"]
    return out


# --- the cases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A report with one representative query, its hand-written baseline and what it reads."""

    report: str
    query: dict[str, Any]
    hand: Callable[[Hand], Numbers]
    numbers: Callable[[Result], Numbers]
    #: table → columns the report reads (for the floor: one plain scan of them)
    reads: dict[str, tuple[str, ...]]
    describe: str


ORDER_COLUMNS = ("client_id", "is_deleted", "paid_at", "status", "total_minor")
CASES = (
    Case(
        "metrics",
        METRICS_QUERY,
        hand_metrics,
        report_metrics,
        {
            "deal": ("id", "is_deleted", "created_at", "channel_id"),
            "sales_order": (*ORDER_COLUMNS, "deal_id"),
            "client": ("id", "merged_into_id", "source_channel_id"),
            "ad_spend": ("campaign_id", "day", "cost_minor"),
            "campaign": ("id", "channel_id"),
        },
        "leads, revenue, cpl, average_check by channel; previous period and year ago",
    ),
    Case(
        "funnel",
        FUNNEL_QUERY,
        hand_funnel,
        report_funnel,
        {
            "deal_stage_change": ("id", "deal_id", "to_stage_id", "changed_at"),
            "deal": ("id", "is_deleted"),
        },
        "default pipeline (5 steps), 90-day window, no breakdown",
    ),
    Case(
        "cohorts",
        COHORTS_QUERY,
        hand_cohorts,
        report_cohorts,
        {
            "sales_order": (*ORDER_COLUMNS, "cost_total_minor"),
            "ad_spend": ("campaign_id", "day", "cost_minor"),
        },
        "first-purchase cohorts 2025-11 … 2026-10, 12 month offsets, as of 2026-10-31",
    ),
    Case(
        "clients",
        CLIENTS_QUERY,
        hand_clients,
        report_clients,
        {
            "sales_order": ORDER_COLUMNS,
            "deal": ("client_id", "is_deleted", "status", "created_at", "closed_at"),
            "client": ("id", "name", "merged_into_id"),
        },
        "RFM section, top 1,000 clients by revenue",
    ),
    Case(
        "calls",
        CALLS_QUERY,
        hand_calls,
        report_calls,
        {
            "activity": (
                "id",
                "kind",
                "is_deleted",
                "direction",
                "call_status",
                "occurred_at",
                "client_id",
                "from_number",
                "to_number",
                "wait_seconds",
                "talk_seconds",
                "tracking_number",
            ),
        },
        "heatmap, Erlang C staffing, callbacks within 60 min",
    ),
    Case(
        "scorecard",
        SCORECARD_QUERY,
        hand_scorecard,
        report_scorecard,
        {
            "deal": (
                "id",
                "client_id",
                "owner_id",
                "is_deleted",
                "status",
                "created_at",
                "closed_at",
            ),
            "sales_order": (*ORDER_COLUMNS, "owner_id"),
            "client": ("id", "owner_id", "merged_into_id"),
            "activity": (
                "kind",
                "is_deleted",
                "direction",
                "call_status",
                "occurred_at",
                "owner_id",
                "client_id",
                "talk_seconds",
                "created_at",
                "due_at",
                "completed_at",
                "tracking_number",
            ),
            "user_account": ("id", "role", "team_id", "name", "is_active"),
        },
        "one row per manager, 12 figures, team medians",
    ),
    Case(
        "dynamics",
        DYNAMICS_QUERY,
        hand_dynamics,
        report_dynamics,
        {
            "deal": ("id", "is_deleted", "created_at"),
            "sales_order": ORDER_COLUMNS,
            "ad_spend": ("campaign_id", "day", "cost_minor"),
            "campaign": ("id",),
        },
        "leads, revenue, average_check, cpl by month; previous month and year ago",
    ),
    Case(
        "campaigns",
        CAMPAIGNS_QUERY,
        hand_campaigns,
        report_campaigns,
        {
            "deal": (
                "id",
                "client_id",
                "is_deleted",
                "status",
                "created_at",
                "closed_at",
                "channel_id",
                "campaign_id",
            ),
            "sales_order": (*ORDER_COLUMNS, "id", "deal_id"),
            "client": ("id", "merged_into_id", "source_channel_id", "source_campaign_id"),
            "ad_spend": ("campaign_id", "day", "cost_minor", "clicks", "impressions"),
            "campaign": ("id", "channel_id"),
        },
        "campaign, channel and total rows; leads new/loyal, won, revenue, spend, CPL/CAC/ROMI",
    ),
    Case(
        "journey",
        JOURNEY_QUERY,
        hand_journey,
        report_journey,
        {
            "sales_order": ORDER_COLUMNS,
            "touchpoint": (
                "id",
                "visitor_id",
                "client_id",
                "kind",
                "channel_id",
                "occurred_at",
                "pages",
                "seconds_on_site",
                "landing_page",
            ),
        },
        "pre-sale section: 30-day lookback before first purchases, channels, exits",
    ),
)


def floor_sql(h: Hand, reads: dict[str, tuple[str, ...]]) -> str:
    """One query scanning every column once: ``sum`` of numbers, ``max`` of the rest."""
    parts = []
    for name, columns in reads.items():
        types = dict(h.rows(f"SELECT column_name, column_type FROM (DESCRIBE {name})"))
        cells = [
            f"sum({c}::BIGINT)" if types[c] in ("BIGINT", "INTEGER", "BOOLEAN") else f"max({c})"
            for c in columns
        ]
        parts.append(f"(SELECT count(*), {', '.join(cells)} FROM {name})")
    return "SELECT * FROM " + ", ".join(parts)


# --- comparing numbers -------------------------------------------------------------------------


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str | list) or isinstance(b, str | list):
        return a == b
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-9)


def differences(expected: Numbers, found: Numbers) -> list[str]:
    """Keys whose numbers differ (a key missing on one side is a difference too)."""
    out = []
    for key in sorted(set(expected) | set(found), key=repr):
        a, b = expected.get(key, "<missing>"), found.get(key, "<missing>")
        if not _close(a, b):
            out.append(f"{key}: {str(a)[:80]} vs {str(b)[:80]}")
    return out


# --- timing ------------------------------------------------------------------------------------


@dataclass
class Timing:
    best: float
    runs: list[float]
    value: Any = None


def timed(action: Callable[[], Any], repeat: int, slow_seconds: float) -> Timing:
    """One warm-up, then the best of ``repeat`` runs.

    A warm-up slower than ``slow_seconds`` is not repeated: its own time is the figure (a
    cold run, so an upper bound), and ``Timing.runs`` has that one entry.
    """
    started = time.perf_counter()
    value = action()
    warm = time.perf_counter() - started
    runs = []
    for _ in range(repeat if warm < slow_seconds else 0):
        started = time.perf_counter()
        value = action()
        runs.append(time.perf_counter() - started)
    return Timing(min(runs or [warm]), [warm, *runs], value)


def timed_or_timeout(
    action: Callable[[], Any], repeat: int, slow_seconds: float, timeout: float
) -> Timing:
    """``timed``, but a statement cancelled by ``statement_timeout`` gives an infinite time
    (``runs`` then holds the timeout: a lower bound)."""
    try:
        return timed(action, repeat, slow_seconds)
    except Exception as exc:  # ibis wraps the driver's QueryCanceled differently per version
        if "statement timeout" not in str(exc):
            raise
        return Timing(math.inf, [timeout], None)


@dataclass
class Row:
    report: str
    describe: str
    in_catalogue: bool
    duckdb: Timing
    duckdb_engine_seconds: float
    hand: Timing
    floor: Timing
    postgres: Timing | None = None
    checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    postgres_mismatches: list[str] = field(default_factory=list)


def available_reports() -> dict[str, tuple[catalog.Report, bool]]:
    """Reports by name with whether they are in the catalogue (else taken from the module)."""
    listed = catalog.reports()
    out = {name: (report, True) for name, report in listed.items()}
    for module in REPORT_MODULES:
        if module not in out:
            try:
                found = importlib.import_module(f"voronka.analytics.reports.{module}").REPORT
            except (ImportError, AttributeError):
                continue
            out[found.name] = (found, False)
    return out


def bench_case(
    case: Case,
    report: catalog.Report,
    in_catalogue: bool,
    found: sources.Sources,
    hand: Hand,
    postgres: sources.Sources | None,
    args: argparse.Namespace,
) -> Row:
    query = report.query.model_validate(case.query)
    engine_seconds: list[float] = []

    def run_duckdb() -> Result:
        result = report.run(Runner(found), query)
        engine_seconds.append(result.seconds)
        return result

    print(f"  {case.report}: duckdb", end="", flush=True)
    duck = timed(run_duckdb, args.repeat, args.slow_seconds)
    print(", hand SQL", end="", flush=True)
    baseline = timed(lambda: case.hand(hand), args.repeat, args.slow_seconds)
    print(", floor", end="", flush=True)
    scan = floor_sql(hand, case.reads)
    floor = timed(lambda: hand.rows(scan), args.repeat, args.slow_seconds)
    expected, got = case.numbers(duck.value), baseline.value
    row = Row(
        case.report,
        case.describe,
        in_catalogue,
        duck,
        min(engine_seconds[1:]),
        baseline,
        floor,
        checked=len(expected),
        mismatches=differences(expected, got),
    )
    if postgres is not None:
        print(", postgres", end="", flush=True)
        row.postgres = timed_or_timeout(
            lambda: report.run(Runner(postgres), query),
            args.repeat,
            args.slow_seconds,
            args.postgres_timeout,
        )
        if row.postgres.value is not None:
            row.postgres_mismatches = differences(expected, case.numbers(row.postgres.value))
    pg = f", postgres {_s(row.postgres.best)}" if row.postgres else ""
    print(
        f" — {len(row.mismatches)} hand-SQL mismatches of {row.checked} numbers; seconds: "
        f"duckdb {_s(duck.best)}, hand {_s(baseline.best)}, floor {_s(floor.best)}{pg}",
        flush=True,
    )
    for line in row.mismatches[:10]:
        print(f"    hand SQL differs: {line}")
    for line in row.postgres_mismatches[:10]:
        print(f"    postgres differs: {line}")
    return row


# --- the store and its snapshot ----------------------------------------------------------------


def build_store(url: str, clients: int, seed: int, leads_per_client: float) -> float:
    from voronka.db import migrate
    from voronka.db.session import make_engine
    from voronka.demo import generate

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        return generate(
            engine, clients=clients, seed=seed, leads_per_client=leads_per_client
        ).seconds
    finally:
        engine.dispose()


def full_refresh(url: str, directory: Path) -> tuple[float, dict[str, str]]:
    shutil.rmtree(directory, ignore_errors=True)
    started = time.perf_counter()
    actions = snapshot.refresh(url, directory)
    return time.perf_counter() - started, actions


#: Rows copied for the incremental refresh: two append-only tables and one rewritten table.
ADDED_ROWS = {"touchpoint": 10, "deal_stage_change": 10, "activity": 10}
#: Columns with unique values that a copied row must not repeat.
CLEARED = {"activity": ("external_id",)}


def add_rows(url: str) -> None:
    """Copy the last few rows of some tables with new ids (as new activity would add)."""
    statements = []
    for name, count in ADDED_ROWS.items():
        columns = [c.name for c in orm_table(name).columns if c.name != "id"]
        values = ["NULL" if c in CLEARED.get(name, ()) else c for c in columns]
        statements.append(
            f"INSERT INTO {name} (id, {', '.join(columns)}) "
            f"SELECT id + (SELECT max(id) FROM {name}), {', '.join(values)} FROM {name} "
            f"WHERE id > (SELECT max(id) FROM {name}) - {count}"
        )
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with sqlite3.connect(str(parsed.database)) as con:
            for statement in statements:
                con.execute(statement)
        return
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as con:
        for statement in statements:
            con.execute(statement)


def bench_snapshot(url: str, directory: Path) -> dict[str, Any]:
    full, _ = full_refresh(url, directory)
    started = time.perf_counter()
    snapshot.refresh(url, directory)
    unchanged = time.perf_counter() - started
    add_rows(url)
    started = time.perf_counter()
    actions = snapshot.refresh(url, directory)
    incremental = time.perf_counter() - started
    size = sum(p.stat().st_size for p in directory.rglob("*.parquet"))
    return {
        "full_seconds": full,
        "unchanged_seconds": unchanged,
        "incremental_seconds": incremental,
        "snapshot_bytes": size,
        "incremental_actions": {t: a for t, a in actions.items() if a != "unchanged"},
    }


def table_rows(hand: Hand) -> dict[str, int]:
    names = ("client", "deal", "deal_stage_change", "activity", "sales_order", "touchpoint")
    return {n: hand.rows(f"SELECT count(*) FROM {n}")[0][0] for n in names}


def postgres_settings(url: str) -> dict[str, str]:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    names = (
        "server_version",
        "shared_buffers",
        "work_mem",
        "max_parallel_workers_per_gather",
        "effective_cache_size",
        "jit",
    )
    with psycopg.connect(dsn) as con:
        return {n: str(con.execute(f"SHOW {n}").fetchone()[0]) for n in names}  # type: ignore[index]


# --- output ------------------------------------------------------------------------------------


def _s(value: float | None) -> str:
    if value is not None and math.isinf(value):
        return "timed out"
    return "—" if value is None else f"{value:.3f}"


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'report':<12}{'voronka duckdb s':>17}{'(engine s)':>11}{'hand SQL s':>11}"
        f"{'ratio':>7}{'postgres s':>11}{'speed-up':>9}{'floor s':>9}  numbers"
    )
    print(header)
    for r in rows:
        pg = r.postgres.best if r.postgres else None
        speed = f"{pg / r.duckdb.best:.1f}×" if pg else "—"
        if r.postgres and math.isinf(r.postgres.best):  # the timeout is a lower bound
            speed = f"> {r.postgres.runs[0] / r.duckdb.best:.0f}×"
        check = "match" if not r.mismatches else f"{len(r.mismatches)} DIFFER"
        if r.postgres_mismatches:
            check += f", postgres {len(r.postgres_mismatches)} differ"
        name = r.report + ("" if r.in_catalogue else "*")
        print(
            f"{name:<12}{_s(r.duckdb.best):>17}{_s(r.duckdb_engine_seconds):>11}"
            f"{_s(r.hand.best):>11}{r.duckdb.best / r.hand.best:>6.2f}×{_s(pg):>11}"
            f"{speed:>9}{_s(r.floor.best):>9}  {check} ({r.checked})"
        )
    if any(not r.in_catalogue for r in rows):
        print("* not in catalog.reports() yet: timed from its module")


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    def timing(t: Timing | None) -> dict[str, Any] | None:
        return None if t is None else {"best": t.best, "runs": t.runs}

    return [
        {
            "report": r.report,
            "query": r.describe,
            "in_catalogue": r.in_catalogue,
            "duckdb": timing(r.duckdb),
            "duckdb_engine_seconds": r.duckdb_engine_seconds,
            "hand": timing(r.hand),
            "floor": timing(r.floor),
            "postgres": timing(r.postgres),
            "numbers_checked": r.checked,
            "mismatches": r.mismatches,
            "postgres_mismatches": r.postgres_mismatches,
        }
        for r in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", help="SQLite or PostgreSQL URL of the demo store (replaced)")
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--leads-per-client",
        type=float,
        default=3.0,
        help="mean leads (deals) per client of the built demo; 3 gives the issue's shape, "
        "1 the plain demo (docs/demo.md)",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the store's data")
    parser.add_argument(
        "--snapshot-dir",
        type=Path,
        default=None,
        help="where the Parquet snapshot goes (default /tmp/voronka-bench-…)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=60.0,
        help="a warm-up slower than this is followed by one timed run only",
    )
    parser.add_argument("--reports", help="comma-separated report names (default: all)")
    parser.add_argument(
        "--no-postgres",
        action="store_true",
        help="skip running the reports in place on a PostgreSQL store",
    )
    parser.add_argument(
        "--postgres-timeout",
        type=float,
        default=600.0,
        help="statement_timeout (s) for the reports on PostgreSQL; slower is 'timed out'",
    )
    parser.add_argument("--keep-snapshot", action="store_true")
    parser.add_argument(
        "--reuse-snapshot",
        action="store_true",
        help="bring an existing snapshot up to date instead of taking a full one",
    )
    parser.add_argument(
        "--skip-refresh",
        action="store_true",
        help="do not time the snapshot refresh (full, unchanged, incremental)",
    )
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()

    url = args.store
    is_postgres = make_url(url).get_backend_name() == "postgresql"
    directory = args.snapshot_dir or Path(
        f"/tmp/voronka-bench-{hashlib.sha256(url.encode()).hexdigest()[:10]}"
    )
    figures: dict[str, Any] = {"store": make_url(url).get_backend_name(), "clients": None}
    if not args.reuse:
        print(
            f"building the demo with {args.clients:,} clients, "
            f"{args.leads_per_client:g} leads per client …",
            flush=True,
        )
        figures["leads_per_client"] = args.leads_per_client
        figures["demo_seconds"] = build_store(url, args.clients, args.seed, args.leads_per_client)
        print(f"  built in {figures['demo_seconds']:.1f} s", flush=True)
    if args.reuse_snapshot and directory.exists():
        print(f"bringing the snapshot in {directory} up to date …", flush=True)
        started = time.perf_counter()
        snapshot.refresh(url, directory)
        figures["snapshot_update_seconds"] = time.perf_counter() - started
    else:
        print(f"full snapshot into {directory} …", flush=True)
        figures["snapshot_full_seconds"], _ = full_refresh(url, directory)
        print(f"  {figures['snapshot_full_seconds']:.1f} s", flush=True)

    settings = get_settings()
    offset = int(sources.utc_offset(settings.timezone).total_seconds())
    hand = open_hand(directory, offset)
    figures["rows"] = table_rows(hand)
    figures["clients"] = figures["rows"]["client"]
    started = time.perf_counter()
    duck = sources.duckdb_sources(directory, settings.timezone)
    figures["open_duckdb_sources_seconds"] = time.perf_counter() - started
    postgres = None
    if is_postgres and not args.no_postgres:
        postgres = sources.postgres_sources(url, settings.timezone)
        # a report slower than this on PostgreSQL is recorded as "timed out", not waited for
        postgres.backend.raw_sql(f"SET statement_timeout = {int(args.postgres_timeout * 1000)}")
        figures["postgres_settings"] = postgres_settings(url)
    wanted = set(args.reports.split(",")) if args.reports else None
    reports = available_reports()
    rows = []
    for case in CASES:
        if case.report in reports and (wanted is None or case.report in wanted):
            report, listed = reports[case.report]
            rows.append(bench_case(case, report, listed, duck, hand, postgres, args))
    missing = sorted(set(reports) - {c.report for c in CASES})
    if missing:
        print(f"reports without a benchmark case (no hand SQL yet): {', '.join(missing)}")
    hand.con.close()
    duck.backend.disconnect()
    if postgres is not None:
        postgres.backend.disconnect()

    if not args.skip_refresh:
        print("snapshot refresh: full, unchanged, incremental after adding rows …", flush=True)
        figures["snapshot"] = bench_snapshot(url, directory)
    if not args.keep_snapshot:
        shutil.rmtree(directory, ignore_errors=True)

    print(
        f"\n{figures['store']} store, {figures['clients']:,} clients "
        f"({', '.join(f'{n} {c:,}' for n, c in figures['rows'].items())}); best of "
        f"{args.repeat} after a warm-up; seconds"
    )
    print_table(rows)
    snap = figures.get("snapshot")
    if snap:
        print(
            f"snapshot refresh: full {snap['full_seconds']:.1f} s "
            f"({snap['snapshot_bytes'] / 2**20:,.0f} MiB of Parquet), nothing changed "
            f"{snap['unchanged_seconds']:.2f} s, after adding "
            f"{', '.join(f'{n} {t}' for t, n in ADDED_ROWS.items())} rows "
            f"{snap['incremental_seconds']:.1f} s ({snap['incremental_actions']})"
        )
    print(
        f"opening the DuckDB sources (25 Parquet views): "
        f"{figures['open_duckdb_sources_seconds']:.2f} s"
    )
    if args.json:
        figures["reports"] = as_json(rows)
        args.json.write_text(json.dumps(figures, indent=1, default=str))
    if any(r.mismatches for r in rows):
        sys.exit("hand SQL and report numbers differ (see above)")


if __name__ == "__main__":
    main()
