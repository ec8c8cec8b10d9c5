"""The basket report on tiny hand-checkable baskets and on the demo's planted pairs, on every
engine.

March 2026, revenue orders (local time); products A, B in group G1 and C, D in group G2:

| order | client | paid      | items   |
|-------|--------|-----------|---------|
| o1    | kira   | 1st       | A, B    |
| o2    | kira   | 10th      | C       |
| o3    | ivan   | 2nd       | A, B, C |
| o4    | ivan   | 3rd       | A       |
| o5    | olga   | 5th       | A, C    |
| o6    | olga   | 20th      | B       |
| o7    | petr   | 7th       | D       |
| o8    | kira   | 25th      | A       |

Not baskets: petr's cancelled order {C, D} and olga's {A, B} paid on 1 April.

Counts over N = 8 orders (7 distinct baskets: {A} twice): A 5, B 3, C 3, D 1; AB 2, AC 2,
BC 1, ABC 1. With min_support 0.25 (⌈0.25 × 8⌉ = 2 orders) the frequent itemsets are A, B, C,
AB, AC. Rules with confidence ≥ 0.5: B ⇒ A and C ⇒ A, each support 2/8 = 0.25, confidence
2/3, lift (2/3) ÷ (5/8) = 16/15, leverage 2/8 − (3/8)(5/8) = 1/64, conviction
(1 − 5/8) ÷ (1 − 2/3) = 9/8 (A ⇒ B and A ⇒ C have confidence 2/5 and are dropped).

Groups: G1 in o1, o3, o4, o5, o6, o8 (6), G2 in o2, o3, o5, o7 (4), both in o3, o5 (2):
G2 ⇒ G1 confidence 2/4, lift 0.5 ÷ (6/8) = 2/3; G1 ⇒ G2 confidence 2/6, lift (1/3) ÷ (4/8) = 2/3.

Sequences over the 4 paying clients (A, B, C were each bought by kira, ivan, olga; D by petr):
kira A, B (1st) → C (10th) → A (25th); ivan A, B, C (2nd) → A (3rd); olga A, C (5th) → B (20th).
With max_gap_days 30, ⟨B, A⟩ and ⟨C, A⟩ and ⟨A, A⟩ are each supported by kira and ivan:
support 2/4, confidence 2/3, lift (2/3) ÷ (3/4) = 8/9; every other pair has one client. With
max_gap_days 20, kira's A (1st) → A (25th) and B (1st) → A (25th) are 24 days apart and no
longer count, so only ⟨C, A⟩ (kira 10th → 25th, ivan 2nd → 3rd) keeps two clients.
"""

from __future__ import annotations

import math

import pytest

from tests.analytics.factory import build
from voronka.analytics.basket import report
from voronka.analytics.basket.report import BasketQuery, BasketSection, Level
from voronka.analytics.query import Period
from voronka.analytics.sources import RecordScope
from voronka.demo import DemoParams, generate
from voronka.errors import InvalidInput
from voronka.order.models import OrderStatus

MARCH = Period(start="2026-03-01", end="2026-03-31")


def company(w):  # type: ignore[no-untyped-def]
    for sku, group in (("A", "G1"), ("B", "G1"), ("C", "G2"), ("D", "G2")):
        w.product(sku, "10.00", group=group)
    w.client("kira", owner="anna")
    for name in ("ivan", "olga", "petr"):
        w.client(name, owner="boris")

    def order(client: str, day: str, skus: str, **kw) -> None:  # type: ignore[no-untyped-def]
        w.order(client, day, [(sku, 1, "10.00") for sku in skus], **kw)

    order("kira", "2026-03-01 10:00", "AB")
    order("kira", "2026-03-10 10:00", "C")
    order("ivan", "2026-03-02 10:00", "ABC")
    order("ivan", "2026-03-03 10:00", "A")
    order("olga", "2026-03-05 10:00", "AC")
    order("olga", "2026-03-20 10:00", "B")
    order("petr", "2026-03-07 10:00", "D")
    order("kira", "2026-03-25 10:00", "A")
    order("petr", "2026-03-08 10:00", "CD", status=OrderStatus.CANCELLED)
    order("olga", "2026-04-01 10:00", "AB")


@pytest.fixture
def runner(store, analytics):  # type: ignore[no-untyped-def]
    build(store, company)
    return analytics()


def _query(**kw) -> BasketQuery:  # type: ignore[no-untyped-def]
    return BasketQuery(period=MARCH, min_support=0.25, min_confidence=0.5, min_lift=0, **kw)


def test_rules_and_itemsets_of_products(runner):
    result = report.run(runner, _query())
    assert result.row_counts == {"orders": 8, "distinct_baskets": 7, "min_count": 2}
    rules = {(tuple(r["antecedent"]), tuple(r["consequent"])): r for r in result.rows}
    assert set(rules) == {(("B",), ("A",)), (("C",), ("A",))}
    for rule in rules.values():
        assert rule["count"] == 2
        assert rule["support"] == pytest.approx(0.25)
        assert rule["confidence"] == pytest.approx(2 / 3)
        assert rule["lift"] == pytest.approx(16 / 15)
        assert rule["leverage"] == pytest.approx(1 / 64)
        assert rule["conviction"] == pytest.approx(9 / 8)

    itemsets = report.run(runner, _query(section=BasketSection.ITEMSETS))
    found = {tuple(r["items"]): r["count"] for r in itemsets.rows}
    assert found == {("A",): 5, ("B",): 3, ("C",): 3, ("A", "B"): 2, ("A", "C"): 2}

    with pytest.raises(InvalidInput) as caught:
        report.run(runner, _query(sort_by="beauty"))
    assert caught.value.details[0].field == "sort_by"


def test_rules_of_product_groups(runner):
    query = BasketQuery(period=MARCH, level=Level.GROUP, min_support=0.25, min_confidence=0.3,
                        min_lift=0)
    rows = report.run(runner, query).rows
    found = {(r["antecedent"][0], r["consequent"][0]): (r["confidence"], r["lift"])
             for r in rows}
    assert found == {("G2", "G1"): (pytest.approx(0.5), pytest.approx(2 / 3)),
                     ("G1", "G2"): (pytest.approx(1 / 3), pytest.approx(2 / 3))}


def test_sequences_within_the_gap(runner):
    def query(gap: int) -> BasketQuery:
        return BasketQuery(period=MARCH, section=BasketSection.SEQUENCES, min_support=0.5,
                           min_confidence=0.5, min_lift=0, max_gap_days=gap)

    result = report.run(runner, query(30))
    assert result.row_counts == {"clients": 4, "min_count": 2}
    found = {(r["first"], r["then"]): (r["clients"], r["support"], r["confidence"], r["lift"])
             for r in result.rows}
    expected = (2, pytest.approx(0.5), pytest.approx(2 / 3), pytest.approx(8 / 9))
    assert found == {("A", "A"): expected, ("B", "A"): expected, ("C", "A"): expected}

    shorter = report.run(runner, query(20))
    assert [(r["first"], r["then"], r["clients"]) for r in shorter.rows] == [("C", "A", 2)]


def test_record_scope_keeps_only_visible_baskets(store, analytics):
    """anna sees kira's orders only: {A, B}, {C}, {A}; N = 3, A is in 2 (support 2/3), and
    no pair reaches ⌈0.5 × 3⌉ = 2 baskets, so there is no rule."""
    world = build(store, company)
    runner = analytics(RecordScope(owner_ids=frozenset({world.users["anna"]})))
    query = BasketQuery(period=MARCH, min_support=0.5, min_confidence=0, min_lift=0,
                        section=BasketSection.ITEMSETS)
    result = report.run(runner, query)
    assert result.row_counts == {"orders": 3, "distinct_baskets": 3, "min_count": 2}
    assert [(r["items"], r["count"]) for r in result.rows] == [(["A"], 2)]
    assert report.run(runner, query.model_copy(update={"section": BasketSection.RULES})).rows \
        == []


def test_planted_pairs_are_found(store, analytics):
    """Every planted anchor ⇒ partner rule is found with its planted confidence.

    The partner joins an anchor's order with the planted probability (docs/demo.md); it can
    also arrive as the order's random extra item, which adds at most a few points, hence
    the tolerance: four binomial standard errors plus 0.05.
    """
    params = DemoParams()
    generate(store, clients=1_500, seed=5)
    runner = analytics()
    query = BasketQuery(period=Period(start="2023-01-01", end="2026-12-31"), min_support=0.002,
                        min_confidence=0.2, min_lift=1.0, max_length=2, limit=5_000)
    rules = {(r["antecedent"][0], r["consequent"][0]): r for r in report.run(runner, query).rows}
    names = {f"{g.sku_prefix}-{i + 1:02d}": name for g in params.catalogue
             for i, name in enumerate(g.product_names)}
    for pair in params.product_pairs:
        rule = rules[(names[pair.anchor_sku], names[pair.partner_sku])]
        anchors = rule["count"] / rule["confidence"]
        error = math.sqrt(pair.probability * (1 - pair.probability) / anchors)
        assert -4 * error <= rule["confidence"] - pair.probability <= 4 * error + 0.05
        assert rule["lift"] > 3
