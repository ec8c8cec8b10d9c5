"""The ``forecast`` report on a hand-made two-year monthly history, on every engine.

One order a month, paid on the 15th, January 2024 – December 2025: month m of 2024 brings
100 + 10·m roubles (product "a", group G1), the same month of 2025 50 more; a December 2023
order (period starts mid-December: the clipped bucket is dropped) and a cancelled order are
ignored. Group G2 (product "b") sells 10 roubles every month.

Seasonal naive, season 12, horizon 3, two folds (origins 18 and 21 of 24 months): every
backtest forecast is the month a year earlier, 50 too low, and the in-sample seasonal naive
MAE is 50 too, so MASE = 1. sMAPE: the actual months July – December 2025 (220 … 270) against
170 … 220, 200·50 ÷ (actual + forecast) each, averaged. The forecast for January – March 2026
repeats January – March 2025: 160, 170, 180.
"""

from __future__ import annotations

import pytest

from tests.analytics.factory import build
from voronka.analytics.forecast import sales
from voronka.analytics.forecast.sales import ForecastQuery, ForecastSection, SalesMeasure
from voronka.analytics.query import Grain, Period
from voronka.errors import InvalidInput
from voronka.order.models import OrderStatus

HISTORY = Period(start="2023-12-15", end="2025-12-31")


def company(w):  # type: ignore[no-untyped-def]
    w.product("a", "1.00", group="G1")
    w.product("b", "1.00", group="G2")
    w.client("kira")
    w.order("kira", "2023-12-20 12:00", [("a", 1, "999.00")])
    w.order("kira", "2024-05-03 12:00", [("a", 1, "999.00")], status=OrderStatus.CANCELLED)
    for year, bonus in ((2024, 0), (2025, 50)):
        for month in range(1, 13):
            w.order("kira", f"{year}-{month:02d}-15 12:00",
                    [("a", 1, f"{100 + 10 * month + bonus}.00"), ("b", 2, "5.00")])


@pytest.fixture
def runner(store, analytics):  # type: ignore[no-untyped-def]
    build(store, company)
    return analytics()


def _query(**kw) -> ForecastQuery:  # type: ignore[no-untyped-def]
    return ForecastQuery(period=HISTORY, grain=Grain.MONTH, horizon=3, season_length=12,
                         models=("seasonal_naive",), folds=2, **kw)


def test_series_of_revenue_units_and_orders(runner):
    result = sales.run(runner, _query())
    assert result.row_counts == {"buckets": 24, "series": 1}
    history = [r for r in result.rows if r["kind"] == "history"]
    assert [r["actual"] for r in history[:3]] == [120.0, 130.0, 140.0]  # 110 + 10 of "b"
    assert str(history[0]["bucket"]) == "2024-01-01"
    ahead = [r for r in result.rows if r["kind"] == "forecast"]
    assert [str(r["bucket"]) for r in ahead] == ["2026-01-01", "2026-02-01", "2026-03-01"]
    assert [r["forecast"] for r in ahead] == [170.0, 180.0, 190.0]
    assert all(r["lower"] < r["forecast"] < r["upper"] for r in ahead)
    assert {r["model"] for r in ahead} == {"seasonal_naive"}

    units = sales.run(runner, _query(measure=SalesMeasure.UNITS)).rows
    assert {r["actual"] for r in units if r["kind"] == "history"} == {3.0}
    orders = sales.run(runner, _query(measure=SalesMeasure.ORDERS)).rows
    assert {r["actual"] for r in orders if r["kind"] == "history"} == {1.0}


def test_backtest_errors_by_hand(runner):
    (row,) = sales.run(runner, _query(section=ForecastSection.BACKTEST)).rows
    assert row["model"] == "seasonal_naive" and row["chosen"] and row["folds"] == 2
    assert row["mase"] == pytest.approx(1.0)
    # actual July–December 2025 (with "b": 230…280) against a year earlier (180…230)
    terms = [200 * 50 / (actual + actual - 50) for actual in range(230, 290, 10)]
    assert row["smape"] == pytest.approx(sum(terms) / 6)

    with pytest.raises(InvalidInput) as caught:  # 24 months cannot back a 30-month forecast
        sales.run(runner, _query().model_copy(update={"horizon": 30}))
    assert caught.value.details[0].field == "period"


def test_groups_with_annual_growth(runner):
    """G1: 2025 sums 12·150 + 10·78 = 2,580, 2024 1,980 → +30.303 %; the seasonal naive
    forecast repeats January – March 2025 (160 + 170 + 180 = 510): growth 0 %. G2: 10 a month,
    no growth."""
    rows = sales.run(runner, _query(section=ForecastSection.GROUPS)).rows
    assert [r["group"] for r in rows] == ["G1", "G2"]
    g1, g2 = rows
    assert (g1["last_year"], g1["year_before"]) == (2580.0, 1980.0)
    assert g1["actual_growth_pct"] == pytest.approx(100 * (2580 / 1980 - 1))
    assert (g1["forecast_total"], g1["same_buckets_year_ago"]) == (510.0, 510.0)
    assert g1["forecast_growth_pct"] == pytest.approx(0.0)
    assert (g2["forecast_total"], g2["actual_growth_pct"]) == (30.0, pytest.approx(0.0))
