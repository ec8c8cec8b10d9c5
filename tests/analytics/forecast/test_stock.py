"""Stock advice on four whole weeks of demand and a few stock snapshots, on every engine.

Weeks of March 2026 (Mon 2nd – Sun 29th); one order per sale, paid at noon:

| product | units per week | price | revenue | μ  | σ (population) | CV    | class |
|---------|----------------|-------|---------|----|----------------|-------|-------|
| p1      | 10, 10, 10, 10 | 100   | 4,000   | 10 | 0              | 0     | A X   |
| p2      | 0, 20, 0, 20   | 10    | 400     | 10 | 10             | 1.0   | B Y   |
| p3      | 4, 0, 0, 0     | 25    | 100     | 1  | √3             | 1.732 | C Z   |

ABC: p1's share starts at 0 (A), p2's at 4000/4500 = 0.889 (B), p3's at 0.978 (C).
Stock: p1 has "main" 50 on the 20th and 30 on the 28th (latest: 30) and "south" 10 on the
25th → 40 on hand; a snapshot of 2 April is after the period. p2 has 5; p3 has none.

Daily demand 10/7 for p1 and p2. Lead time 14, review 7 days, z = Φ⁻¹(0.95) = 1.644854.
p1: σ 0 → safety 0, order-up-to 10/7·21 = 30, reorder point 20, cover 40 ÷ 10/7 = 28 days,
order 0. p2: σ_daily = 10/√7, safety z·10/√7·√21 = z·10·√3 = 28.4897, order-up-to 58.4897,
reorder point 20 + z·10/√7·√14 = 20 + z·10·√2 = 43.2617, cover 3.5 days, order ⌈53.4897⌉ = 54.
"""

from __future__ import annotations

import math
from datetime import date

import pytest

from tests.analytics.factory import build
from voronka.analytics.forecast import stock
from voronka.analytics.forecast.stock import StockQuery
from voronka.analytics.query import Period
from voronka.errors import InvalidInput
from voronka.order.models import StockLevel

MARCH_WEEKS = Period(start="2026-03-02", end="2026-03-29")
Z = 1.6448536269514722


def company(w):  # type: ignore[no-untyped-def]
    for sku, price in (("p1", "100.00"), ("p2", "10.00"), ("p3", "25.00")):
        w.product(sku, price)
    w.client("kira")
    for week, day in enumerate(("03", "10", "17", "24")):
        w.order("kira", f"2026-03-{day} 12:00", [("p1", 10, "100.00")])
        if week % 2 == 1:
            w.order("kira", f"2026-03-{day} 13:00", [("p2", 20, "10.00")])
    w.order("kira", "2026-03-04 12:00", [("p3", 4, "25.00")])
    for sku, warehouse, day, quantity in (("p1", "main", "2026-03-20", 50),
                                          ("p1", "main", "2026-03-28", 30),
                                          ("p1", "south", "2026-03-25", 10),
                                          ("p1", "main", "2026-04-02", 999),
                                          ("p2", "main", "2026-03-29", 5)):
        w.add(StockLevel(workspace_id=1, product_id=w.products[sku], warehouse=warehouse,
                         as_of=date.fromisoformat(day), quantity=quantity))


@pytest.fixture
def runner(store, analytics):  # type: ignore[no-untyped-def]
    build(store, company)
    return analytics()


def test_abc_xyz_cover_days_and_reorders(runner):
    result = stock.run(runner, StockQuery(period=MARCH_WEEKS))
    assert result.row_counts == {"products": 3, "buckets": 4, "with_stock": 2}
    rows = {r["sku"]: r for r in result.rows}
    assert [r["sku"] for r in result.rows] == ["p1", "p2", "p3"]
    assert [(r["abc"], r["xyz"]) for r in result.rows] == [("A", "X"), ("B", "Y"), ("C", "Z")]
    p1, p2, p3 = rows["p1"], rows["p2"], rows["p3"]
    assert (p1["revenue"], p1["units"], p1["on_hand"], str(p1["stock_as_of"])) == (
        4000.0, 40.0, 40, "2026-03-28")
    assert p1["cv"] == 0.0 and p2["cv"] == pytest.approx(1.0)
    assert p3["cv"] == pytest.approx(math.sqrt(3))
    assert p1["daily_demand"] == pytest.approx(10 / 7)
    assert p1["cover_days"] == pytest.approx(28.0)
    assert (p1["safety_stock"], p1["order_up_to"]) == (0.0, pytest.approx(30.0))
    assert p1["reorder_point"] == pytest.approx(20.0)
    assert (p1["suggested_order"], p1["reorder_now"]) == (0, False)
    assert p2["safety_stock"] == pytest.approx(Z * 10 * math.sqrt(3))
    assert p2["reorder_point"] == pytest.approx(20 + Z * 10 * math.sqrt(2))
    assert p2["cover_days"] == pytest.approx(3.5)
    assert (p2["suggested_order"], p2["reorder_now"]) == (54, True)
    assert (p3["on_hand"], p3["cover_days"], p3["suggested_order"]) == (None, None, None)


def test_monthly_buckets_and_thresholds(runner):
    """At month grain March 2–29 holds no whole month: refused, naming the period."""
    with pytest.raises(InvalidInput) as caught:
        stock.run(runner, StockQuery(period=MARCH_WEEKS, grain="month"))
    assert caught.value.details[0].field == "period"
    looser = stock.run(runner, StockQuery(period=MARCH_WEEKS, x_cv=1.0, y_cv=2.0)).rows
    assert [r["xyz"] for r in looser] == ["X", "X", "Y"]
