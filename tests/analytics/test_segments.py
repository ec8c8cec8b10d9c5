"""The ``segments`` report on two obvious groups of clients, on every engine.

Products: "beans" (group Coffee) at 1000.00, "leaf" (group Tea) at 100.00. as_of 31 March 2026.

- b1…b5 (channel yandex): four orders each of 1, 1, 2, 2, 3 beans on 5 Jan, 5 Feb, 5 Mar and
  25 Mar → revenue 4 000, 4 000, 8 000, 8 000, 12 000; recency 6 days, tenure 85 days.
- s1…s3 (no channel): one order of 1 leaf on 10 Jan at 100, 120, 150 → recency = tenure = 80.

Two segments are the obvious answer (best silhouette among 2…4): the five coffee regulars,
numbered 0 as the larger, and the three one-time tea buyers. Revenue share of segment 0:
36 000 ÷ 36 370. Names (standardised centres): segment 0 has high revenue (z > 0.5) and many
orders → "High-value regulars"; segment 1 low revenue and long recency → "Low-value lapsed
buyers". A category or channel column more than one standard deviation above average names
the segment too: the tea share is 1 for 3 of 8 clients, z = (1 − 0.375) ÷ 0.484 = 1.29 → ": Tea";
the coffee share (and the yandex channel) of segment 0 only reach z = 0.375 ÷ 0.484 = 0.77.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.analytics.factory import build
from voronka.analytics.segment.report import SegmentsQuery, run
from voronka.errors import InvalidInput

AS_OF = "2026-03-31"


def company(w):  # type: ignore[no-untyped-def]
    w.channel("yandex")
    w.product("beans", "1000.00", cost="600.00", group="Coffee")
    w.product("leaf", "100.00", cost="50.00", group="Tea")
    for name, quantity in (("b1", 1), ("b2", 1), ("b3", 2), ("b4", 2), ("b5", 3)):
        w.client(name, channel="yandex")
        for day in ("2026-01-05", "2026-02-05", "2026-03-05", "2026-03-25"):
            w.order(name, f"{day} 12:00", [("beans", quantity, "1000.00")])
    for name, price in (("s1", "100.00"), ("s2", "120.00"), ("s3", "150.00")):
        w.client(name)
        w.order(name, "2026-01-10 12:00", [("leaf", 1, price)])


@pytest.fixture
def runner(store, analytics):  # type: ignore[no-untyped-def]
    world = build(store, company)
    runner = analytics()
    runner.world = world
    return runner


def test_two_obvious_segments(runner):
    result = run(runner, SegmentsQuery(as_of=AS_OF, k_max=4))
    assert result.query["k"] == 2
    profiles = result.rows
    assert [(p["segment"], p["clients"], p["name_en"], p["name_ru"]) for p in profiles] == [
        (0, 5, "High-value regulars", "Ценные постоянные покупатели"),
        (1, 3, "Low-value lapsed buyers: Tea", "Небольшие ушедшие покупатели: Tea"),
    ]
    big, small = profiles
    assert big["revenue"] == 36_000.0 and small["revenue"] == 370.0
    assert big["revenue_share_pct"] == pytest.approx(100 * 36_000 / 36_370, abs=1e-9)
    assert (big["mean_orders"], big["mean_recency_days"], big["mean_tenure_days"]) == (4, 6, 85)
    assert (small["mean_orders"], small["mean_recency_days"]) == (1, 80)
    assert (big["top_channel"], big["top_product_group"]) == ("Yandex", "Coffee")
    assert (small["top_channel"], small["top_product_group"]) == (None, "Tea")

    members = run(runner, SegmentsQuery(as_of=AS_OF, k=2, section="members", segment=1)).rows
    ids = runner.world.clients
    assert [m["client_id"] for m in members] == [ids["s3"], ids["s2"], ids["s1"]]
    assert {m["segment"] for m in members} == {1}
    with pytest.raises(InvalidInput, match="2 segments"):
        run(runner, SegmentsQuery(as_of=AS_OF, k=2, section="members", segment=2))
    with pytest.raises(InvalidInput, match="too few"):
        run(runner, SegmentsQuery(as_of=AS_OF, k=9))


def test_query_mistakes_name_the_field():
    with pytest.raises(ValidationError, match="k_max"):
        SegmentsQuery(k_min=5, k_max=3)
    with pytest.raises(ValidationError, match="members section"):
        SegmentsQuery(segment=1)
