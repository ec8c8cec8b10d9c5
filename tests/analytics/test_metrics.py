"""The metrics report on a tiny company, checked by hand, on every engine.

March 2026 (current) vs February 2026 (previous) and March 2025 (a year ago):
- Leads in March: 4 deals (anna 3, boris 1); 2 won (both anna), 1 lost (boris).
- Spend in March: yandex 300.00 + 100.00 = 400.00 → CPL = 400 / 4 = 100.00.
- Orders paid in March: 100.00 (ivan), 50.50 (ivan), 249.50 (olga) → revenue 400.00,
  average check 400 / 3 = 133.333…; buyers 2, ivan has 2 orders → repeat rate 50 %.
- ROMI = (400 − 400) / 400 = 0 %; ДРР = 400 / 400 = 100 %.
- February: 2 leads, spend 100.00 → CPL 50.00, growth of CPL = (100 − 50) / 50 = +100 %.
- March 2025: no leads → year-ago count 0 and growth against it undefined (None).
"""

from __future__ import annotations

import pytest

from tests.analytics.factory import build
from voronka.activity.models import CallStatus
from voronka.analytics.query import Breakdown, Filters, Period
from voronka.analytics.reports import metrics
from voronka.analytics.sources import RecordScope
from voronka.errors import InvalidInput
from voronka.support.models import FeedbackKind

MARCH = Period(start="2026-03-01", end="2026-03-31")


def company(w):  # type: ignore[no-untyped-def]
    w.channel("yandex")
    w.campaign("spring", "yandex")
    for name, owner in (("ivan", "anna"), ("olga", "anna"), ("petr", "boris"), ("lena", "anna")):
        w.client(name, owner=owner, channel="yandex")
    w.deal("ivan", "2026-03-02 10:00", [("won", "2026-03-05 10:00")], owner="anna",
           channel="yandex", campaign="spring", amount="150.50")
    w.deal("olga", "2026-03-10 10:00", [("qualified", "2026-03-11 10:00"),
                                        ("won", "2026-03-20 10:00")],
           owner="anna", channel="yandex", campaign="spring", amount="249.50")
    w.deal("lena", "2026-03-31 23:30", owner="anna")  # 20:30 UTC, still March in Moscow
    w.deal("petr", "2026-03-15 09:00", [("lost", "2026-03-16 09:00")], owner="boris")
    w.deal("petr", "2026-02-03 09:00", owner="boris")
    w.deal("ivan", "2026-02-27 09:00", owner="anna")
    w.deal("lena", "2026-04-01 00:30", owner="anna")  # April in Moscow (March 31 in UTC)
    w.spend("spring", "2026-03-01", "300.00")
    w.spend("spring", "2026-03-31", "100.00")
    w.spend("spring", "2026-02-10", "100.00")
    w.product("tea", "50.50", cost="20.00")
    w.product("pot", "100.00", cost="60.00")
    w.order("ivan", "2026-03-05 12:00", [("pot", 1, "100.00")], owner="anna")
    w.order("ivan", "2026-03-25 12:00", [("tea", 1, "50.50")], owner="anna")
    w.order("olga", "2026-03-21 12:00", [("pot", 2, "100.00"), ("tea", 1, "49.50")],
            owner="anna")
    w.call("2026-03-03 10:00", CallStatus.ANSWERED, owner="anna", wait=10, talk=100)
    w.call("2026-03-03 11:00", CallStatus.MISSED, owner="anna", wait=40)
    w.call("2026-03-04 11:00", CallStatus.ANSWERED, owner="boris", wait=30, talk=200)
    w.call("2026-03-04 12:00", CallStatus.ANSWERED, owner="boris", wait=20, talk=300)
    w.feedback("ivan", FeedbackKind.NPS, 10, "2026-03-06 10:00")
    w.feedback("olga", FeedbackKind.NPS, 9, "2026-03-22 10:00")
    w.feedback("petr", FeedbackKind.NPS, 3, "2026-03-17 10:00")
    w.feedback("lena", FeedbackKind.NPS, 7, "2026-03-17 10:00")


def by_metric(result):  # type: ignore[no-untyped-def]
    return {row["metric"]: row for row in result.rows if row["key"] is None}


def test_totals_and_growth(store, analytics):
    build(store, company)
    result = metrics.run(analytics(), metrics.MetricsQuery(period=MARCH))
    rows = by_metric(result)
    assert rows["leads"]["value"] == 4
    assert rows["leads"]["previous"] == 2 and rows["leads"]["growth_pct"] == 100.0
    assert rows["leads"]["year_ago"] == 0 and rows["leads"]["yoy_pct"] is None
    assert rows["won_deals"]["value"] == 2
    assert rows["win_rate"]["value"] == pytest.approx(200 / 3)
    assert rows["lead_to_sale"]["value"] == 50.0
    assert rows["ad_spend"]["value"] == 400.0
    assert rows["cpl"]["value"] == 100.0 and rows["cpl"]["previous"] == 50.0
    assert rows["cpl"]["growth_pct"] == 100.0
    assert rows["revenue"]["value"] == 400.0
    assert rows["paid_orders"]["value"] == 3
    assert rows["average_check"]["value"] == pytest.approx(400 / 3)
    assert rows["repeat_purchase_rate"]["value"] == 50.0
    assert rows["romi"]["value"] == 0.0
    assert rows["ad_cost_share"]["value"] == 100.0
    assert rows["cac"]["value"] == 200.0  # 400 spend / 2 new paying clients
    # cost of goods: pot 60 + tea 20 + 2 × pot 60 + tea 20 = 220 → gross profit 180
    assert rows["roi"]["value"] == pytest.approx((180 - 400) / 400 * 100)
    assert rows["average_unit_price"]["value"] == pytest.approx(400 / 5)
    assert rows["revenue_per_day"]["value"] == pytest.approx(400 / 31)
    assert rows["missed_call_rate"]["value"] == 25.0
    assert rows["wait_time"]["value"] == 20.0  # answered waits 10, 20, 30
    assert rows["talk_time"]["value"] == 200.0
    assert rows["nps"]["value"] == 25.0  # (2 promoters − 1 detractor) / 4
    assert rows["cycle_time"]["value"] == pytest.approx((3 + 10) / 2)
    assert result.row_counts["leads"] == 4


def test_breakdown_by_manager_sums_to_total(store, analytics):
    world = build(store, company)
    query = metrics.MetricsQuery(period=MARCH, metrics=("leads", "revenue", "win_rate"),
                                 breakdown=Breakdown.MANAGER, compare=False)
    rows = {(r["label"], r["metric"]): r["value"] for r in metrics.run(analytics(), query).rows}
    assert rows[("anna", "leads")] == 3 and rows[("boris", "leads")] == 1
    assert rows[("anna", "revenue")] == 400.0
    assert rows[("boris", "revenue")] == 0.0  # no orders: a sum of nothing is 0, not "—"
    assert rows[("anna", "win_rate")] == 100.0 and rows[("boris", "win_rate")] == 0.0
    assert world.users["anna"] != world.users["boris"]


def test_filters_and_unsupported_breakdowns(store, analytics):
    world = build(store, company)
    runner = analytics()
    query = metrics.MetricsQuery(period=MARCH, metrics=("leads",), compare=False,
                                 filters=Filters(channel_ids=(world.channels["yandex"],)))
    assert by_metric(metrics.run(runner, query))["leads"]["value"] == 2
    with pytest.raises(InvalidInput, match="cannot be broken down by manager"):
        metrics.run(runner, metrics.MetricsQuery(period=MARCH, metrics=("cpl",),
                                                 breakdown=Breakdown.MANAGER))


def test_an_order_naming_its_own_source_is_credited_to_it(store, analytics):
    # ivan came from yandex; a shop order of his (50.00, by hand) names the "shop" channel
    # and goes there, while his other March orders stay with his source, yandex
    def with_shop_order(w):  # type: ignore[no-untyped-def]
        company(w)
        w.channel("shop", paid=False)
        w.order("ivan", "2026-03-26 12:00", [("tea", 1, "50.00")], channel="shop")

    build(store, with_shop_order)
    runner = analytics()
    query = metrics.MetricsQuery(period=MARCH, metrics=("revenue",), compare=False,
                                 breakdown=Breakdown.CHANNEL)
    rows = {r["label"]: r["value"] for r in metrics.run(runner, query).rows}
    assert rows == {"Shop": 50.0, "Yandex": 400.0}


def test_record_scope_limits_the_facts(store, analytics):
    world = build(store, company)
    runner = analytics(RecordScope(owner_ids=frozenset({world.users["boris"]})))
    rows = by_metric(metrics.run(runner, metrics.MetricsQuery(
        period=MARCH, metrics=("leads", "revenue"), compare=False)))
    assert rows["leads"]["value"] == 1
    assert rows["revenue"]["value"] == 0.0


def test_empty_period_gives_zero_counts_and_undefined_ratios(store, analytics):
    build(store, company)
    rows = by_metric(metrics.run(analytics(), metrics.MetricsQuery(
        period=Period(start="2020-01-01", end="2020-01-31"),
        metrics=("leads", "cpl", "average_check"), compare=False)))
    assert rows["leads"]["value"] == 0
    assert rows["cpl"]["value"] is None and rows["average_check"]["value"] is None


def test_the_same_query_is_compiled_once(store, analytics, monkeypatch):
    """A dashboard asks the same question again: its SQL comes from the runner's cache, which
    needs every part of the query (the periods' constant table too) to be the same expression."""
    from voronka.analytics import runner as runner_module

    build(store, company)
    query = metrics.MetricsQuery(period=MARCH, metrics=("leads", "revenue", "win_rate"),
                                 breakdown=Breakdown.MANAGER)
    opened = analytics()
    first = metrics.run(opened, query)
    compiled: list[object] = []
    original = runner_module._compiled

    def counting(backend, table):  # type: ignore[no-untyped-def]
        if table.op() not in runner_module._COMPILED:
            compiled.append(table)
        return original(backend, table)

    monkeypatch.setattr(runner_module, "_compiled", counting)
    again = metrics.run(runner_module.Runner(opened.sources), query)
    assert again.rows == first.rows
    if again.engine == "duckdb":  # the other engines compile through ibis each time
        assert compiled == []
