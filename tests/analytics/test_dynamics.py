"""The dynamics report on tiny calendars, checked by hand, on every engine.

Times are Moscow wall-clock (UTC+3). 2026-01-31 23:59:59 MSK is 20:59:59 UTC and
2026-02-01 00:00 MSK is 2026-01-31 21:00 UTC: both are January in UTC, so a report that
bucketed in UTC would put them together; in company time they belong to different months.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.analytics.factory import build
from voronka.analytics.metrics.registry import METRICS
from voronka.analytics.query import Breakdown, Filters, Grain, Period
from voronka.analytics.reports import dynamics
from voronka.analytics.reports.dynamics import DynamicsQuery
from voronka.errors import InvalidInput

JAN_TO_APR = Period(start="2026-01-01", end="2026-04-30")


def months(w):  # type: ignore[no-untyped-def]
    """Leads, spend and orders around month boundaries, with a year of history.

    leads     Dec-25: 1   Jan-25: 2   Feb-25: 1
              Jan-26: 1 (31st 23:59:59)   Feb-26: 2 (1st 00:00, 15th)   Mar-26: 0   Apr-26: 1
    spend     Jan-26: 100.00   Feb-26: 300.00 (on the 1st)   Mar-26: 50.00
    orders    Jan-26: ivan (31st 23:59:59)
              Feb-26: ivan (1st 00:00), ivan (10th), olga (20th)
    """
    w.channel("yandex")
    w.campaign("winter", "yandex")
    for name in ("ivan", "olga", "petr"):
        w.client(name, owner="anna", channel="yandex")
    for created in (
        "2025-01-10 12:00",
        "2025-01-20 12:00",
        "2025-02-10 12:00",
        "2025-12-31 23:59:59",
        "2026-01-31 23:59:59",
        "2026-02-01 00:00",
        "2026-02-15 10:00",
        "2026-04-10 10:00",
    ):
        w.deal("petr", created, owner="anna", channel="yandex", campaign="winter")
    w.spend("winter", "2026-01-10", "100.00")
    w.spend("winter", "2026-02-01", "300.00")
    w.spend("winter", "2026-03-31", "50.00")
    w.product("tea", "10.00")
    for client, paid in (
        ("ivan", "2026-01-31 23:59:59"),
        ("ivan", "2026-02-01 00:00"),
        ("ivan", "2026-02-10 12:00"),
        ("olga", "2026-02-20 12:00"),
    ):
        w.order(client, paid, [("tea", 1, "10.00")])


def table(result, metric):  # type: ignore[no-untyped-def]
    return {row["bucket"]: row for row in result.rows if row["metric"] == metric}


def test_months_split_at_local_midnight_with_previous_and_year_ago(store, analytics):
    build(store, months)
    result = dynamics.run(
        analytics(),
        DynamicsQuery(period=JAN_TO_APR, metrics=("leads", "cpl", "repeat_purchase_rate")),
    )
    assert result.columns == list(result.rows[0])
    leads = table(result, "leads")
    assert list(leads) == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    jan, feb, mar, apr = leads.values()
    # January: only the 23:59:59 lead; previous = December 2025 (1) → 0 %;
    # a year ago = January 2025 (2) → (1 − 2) / 2 = −50 %.
    assert (jan["value"], jan["previous"], jan["growth_pct"]) == (1, 1, 0.0)
    assert (jan["year_ago_bucket"], jan["year_ago"], jan["yoy_pct"]) == (date(2025, 1, 1), 2, -50.0)
    # February: the 00:00 lead and the 15th; +100 % on January, +100 % on February 2025 (1).
    assert (feb["value"], feb["growth_pct"], feb["year_ago"], feb["yoy_pct"]) == (
        2,
        100.0,
        1,
        100.0,
    )
    # March is empty but present: 0 leads, −100 % on February, nothing a year ago → None.
    assert (mar["value"], mar["growth_pct"], mar["year_ago"], mar["yoy_pct"]) == (
        0,
        -100.0,
        0,
        None,
    )
    assert (apr["value"], apr["previous"], apr["growth_pct"]) == (1, 0, None)
    assert not any(row["partial"] for row in result.rows)

    cpl = table(result, "cpl")
    # 100 / 1; December had a lead and no spend → CPL 0 → growth undefined.
    assert cpl[date(2026, 1, 1)]["value"] == 100.0
    assert cpl[date(2026, 1, 1)]["previous"] == 0.0
    assert cpl[date(2026, 1, 1)]["growth_pct"] is None
    # 300 / 2 = 150, +50 % on January's 100.
    assert cpl[date(2026, 2, 1)]["value"] == 150.0
    assert cpl[date(2026, 2, 1)]["growth_pct"] == 50.0
    assert cpl[date(2026, 3, 1)]["value"] is None  # 50.00 spent, no leads: undefined

    repeat = table(result, "repeat_purchase_rate")
    # January: ivan once → 0 %. February: ivan twice, olga once → 1 of 2 buyers = 50 %.
    # (In UTC, ivan's 00:00 order would be January's and January would show 100 %.)
    assert repeat[date(2026, 1, 1)]["value"] == 0.0
    assert repeat[date(2026, 2, 1)]["value"] == 50.0
    assert repeat[date(2026, 3, 1)]["value"] is None  # no buyers: 0 ÷ 0
    assert result.row_counts["leads"] == 4  # the period's leads, not the history's


def weeks(w):  # type: ignore[no-untyped-def]
    """2026-03-01 is a Sunday; weeks start on Mondays 23 Feb, 2 Mar and 9 Mar.

    leads   Sat 28 Feb (before the period, same week as 1 Mar), Sun 1 Mar 10:00,
            Tue 3 Mar, Sun 8 Mar 23:59:59, Mon 9 Mar 00:00, Wed 12 Mar 2025 (a year earlier)
    orders  Sun 1 Mar 70.00, Wed 4 Mar 140.00
    """
    w.client("ivan", owner="anna")
    for created in (
        "2026-02-28 12:00",
        "2026-03-01 10:00",
        "2026-03-03 10:00",
        "2026-03-08 23:59:59",
        "2026-03-09 00:00",
        "2025-03-12 10:00",
    ):
        w.deal("ivan", created, owner="anna")
    w.product("pot", "70.00")
    w.order("ivan", "2026-03-01 12:00", [("pot", 1, "70.00")])
    w.order("ivan", "2026-03-04 12:00", [("pot", 2, "70.00")])


def test_weeks_start_on_monday_and_clipped_buckets_are_not_compared(store, analytics):
    build(store, weeks)
    result = dynamics.run(
        analytics(),
        DynamicsQuery(
            period=Period(start="2026-03-01", end="2026-03-15"),
            grain=Grain.WEEK,
            metrics=("leads", "revenue_per_day"),
        ),
    )
    leads = table(result, "leads")
    assert list(leads) == [date(2026, 2, 23), date(2026, 3, 2), date(2026, 3, 9)]
    first, second, third = leads.values()
    # The week of 23 Feb holds only 1 March of the period: Saturday's lead is left out.
    assert (first["first_day"], first["last_day"], first["partial"]) == (
        date(2026, 3, 1),
        date(2026, 3, 1),
        True,
    )
    assert first["value"] == 1 and first["growth_pct"] is None
    assert first["previous_bucket"] == date(2026, 2, 16) and first["previous"] == 0
    # 3 Mar and Sunday 23:59:59; its previous week is the clipped one → growth undefined.
    assert (second["value"], second["previous"], second["growth_pct"]) == (2, 1, None)
    assert not second["partial"]
    # Monday 00:00 starts a new week: 1 lead, −50 % on 2; 52 weeks earlier (Mon 10 Mar 2025)
    # holds the lead of Wed 12 Mar 2025 → 0 %.
    assert (third["value"], third["growth_pct"]) == (1, -50.0)
    assert (third["year_ago_bucket"], third["year_ago"], third["yoy_pct"]) == (
        date(2025, 3, 10),
        1,
        0.0,
    )
    per_day = table(result, "revenue_per_day")
    # Revenue per day divides by the days the bucket holds: 70 / 1 day, 140 / 7 days.
    assert per_day[date(2026, 2, 23)]["value"] == 70.0
    assert per_day[date(2026, 3, 2)]["value"] == 20.0
    assert per_day[date(2026, 3, 9)]["value"] == 0.0


def test_days_split_at_local_midnight_and_empty_days_appear(store, analytics):
    build(store, weeks)
    result = dynamics.run(
        analytics(),
        DynamicsQuery(
            period=Period(start="2026-03-07", end="2026-03-10"), grain=Grain.DAY, metrics=("leads",)
        ),
    )
    values = {row["bucket"]: row["value"] for row in result.rows}
    # Sat 7: none; Sun 8: the 23:59:59 lead; Mon 9: the 00:00 lead; Tue 10: none.
    assert values == {
        date(2026, 3, 7): 0,
        date(2026, 3, 8): 1,
        date(2026, 3, 9): 1,
        date(2026, 3, 10): 0,
    }
    sunday = next(row for row in result.rows if row["bucket"] == date(2026, 3, 8))
    assert sunday["previous_bucket"] == date(2026, 3, 7) and sunday["growth_pct"] is None
    assert sunday["year_ago_bucket"] == date(2025, 3, 8)


def quarters(w):  # type: ignore[no-untyped-def]
    """anna: leads 5 Jan (won 8 Jan, 3 days) and 31 Mar 23:59:59; boris: lead 1 Apr 00:00."""
    w.client("ivan", owner="anna")
    w.client("petr", owner="boris")
    w.deal("ivan", "2026-01-05 10:00", [("won", "2026-01-08 10:00")], owner="anna")
    w.deal("ivan", "2026-03-31 23:59:59", owner="anna")
    w.deal("petr", "2026-04-01 00:00", owner="boris")


def test_quarters_by_manager_fill_empty_buckets(store, analytics):
    world = build(store, quarters)
    result = dynamics.run(
        analytics(),
        DynamicsQuery(
            period=Period(start="2026-01-01", end="2026-06-30"),
            grain=Grain.QUARTER,
            metrics=("leads", "cycle_time"),
            breakdown=Breakdown.MANAGER,
        ),
    )
    got = {(r["bucket"], r["label"], r["metric"]): r["value"] for r in result.rows}
    q1, q2 = date(2026, 1, 1), date(2026, 4, 1)
    assert got == {
        (q1, "anna", "leads"): 2,
        (q1, "anna", "cycle_time"): 3.0,
        (q2, "anna", "leads"): 0,
        (q2, "anna", "cycle_time"): None,  # empty: 0 and no median
        (q1, "boris", "leads"): 0,
        (q1, "boris", "cycle_time"): None,
        (q2, "boris", "leads"): 1,
        (q2, "boris", "cycle_time"): None,
    }
    assert {r["key"] for r in result.rows} == {world.users["anna"], world.users["boris"]}


def test_filters_and_years(store, analytics):
    world = build(store, months)
    result = dynamics.run(
        analytics(),
        DynamicsQuery(
            period=Period(start="2025-01-01", end="2026-12-31"),
            grain=Grain.YEAR,
            metrics=("leads",),
            filters=Filters(channel_ids=(world.channels["yandex"],)),
        ),
    )
    rows = table(result, "leads")
    # 2025: 4 leads (two in January, one in February, one on 31 December); 2026: 4.
    assert rows[date(2025, 1, 1)]["value"] == 4 and rows[date(2026, 1, 1)]["value"] == 4
    assert rows[date(2026, 1, 1)]["previous"] == 4 and rows[date(2026, 1, 1)]["yoy_pct"] == 0
    assert rows[date(2025, 1, 1)]["previous"] == 0


def test_invalid_queries(store, analytics):
    build(store, weeks)
    with pytest.raises(InvalidInput, match="unknown metric"):
        DynamicsQuery(period=JAN_TO_APR, metrics=("nope",))
    with pytest.raises(InvalidInput, match="more than 1000 day buckets"):
        DynamicsQuery(
            period=Period(start="2020-01-01", end="2026-01-01"), grain=Grain.DAY, metrics=("leads",)
        )
    with pytest.raises(InvalidInput, match="cannot be broken down by manager"):
        dynamics.run(
            analytics(),
            DynamicsQuery(period=JAN_TO_APR, metrics=("cpl",), breakdown=Breakdown.MANAGER),
        )


def test_calendar_arithmetic():
    assert dynamics.bucket_start(date(2026, 3, 1), Grain.WEEK) == date(2026, 2, 23)
    assert dynamics.bucket_start(date(2026, 8, 17), Grain.QUARTER) == date(2026, 7, 1)
    assert dynamics.shift(date(2026, 1, 1), Grain.MONTH, -1) == date(2025, 12, 1)
    assert dynamics.shift(date(2026, 10, 1), Grain.QUARTER, 1) == date(2027, 1, 1)
    assert dynamics.year_ago(date(2024, 2, 29), Grain.DAY) == date(2023, 2, 28)
    assert dynamics.year_ago(date(2026, 3, 9), Grain.WEEK).weekday() == 0
    assert dynamics.bucket_count(Period(start="2026-01-31", end="2026-03-01"), Grain.MONTH) == 3


def test_every_registry_metric_by_week(store, analytics):
    build(store, months)
    result = dynamics.run(
        analytics(),
        DynamicsQuery(
            period=Period(start="2026-01-26", end="2026-02-08"),
            grain=Grain.WEEK,
            metrics=tuple(METRICS),
        ),
    )
    assert len(result.rows) == 2 * len(METRICS)
    values = {(row["bucket"], row["metric"]): row["value"] for row in result.rows}
    # Week of Monday 26 Jan: the leads of 31 Jan 23:59:59 and Sunday 1 Feb 00:00, and ivan's
    # two orders at the same moments → 1 repeat buyer of 1 = 100 %. Week of 2 Feb: nothing
    # (the 10 Feb order and the 15 Feb lead fall in later weeks).
    assert values[(date(2026, 1, 26), "leads")] == 2
    assert values[(date(2026, 1, 26), "repeat_purchase_rate")] == 100.0
    assert values[(date(2026, 2, 2), "leads")] == 0
    assert values[(date(2026, 2, 2), "wait_time")] is None  # no calls: no median
    assert values[(date(2026, 2, 2), "paid_orders")] == 0


def kopecks(w):  # type: ignore[no-untyped-def]
    """Ten orders of 0.10 on ten days of March 2026 (the 1st to the 10th), and one lead."""
    w.client("ivan")
    w.deal("ivan", "2026-03-02 10:00")
    w.product("tea", "0.10")
    for day in range(1, 11):
        w.order("ivan", f"2026-03-{day:02} 12:00", [("tea", 1, "0.10")])


def test_days_rolled_up_to_months_add_kopecks_not_floats(store, analytics):
    # Counts and sums are aggregated per day and the days added up to months. Ten float
    # roubles of 0.1 add up to 0.9999999999999999 (Python's sum, in any order of equal
    # terms); summed in kopecks they are exactly 1.0, what one pass over the orders gives.
    build(store, kopecks)
    march = Period(start="2026-03-01", end="2026-03-31")
    by_month = dynamics.run(analytics(), DynamicsQuery(
        period=march, metrics=("revenue", "paid_orders", "average_check", "leads")))
    values = {row["metric"]: row["value"] for row in by_month.rows}
    assert values == {"revenue": 1.0, "paid_orders": 10, "average_check": 0.1, "leads": 1}
    assert by_month.row_counts == {"revenue": 10, "paid_orders": 10, "leads": 1}
