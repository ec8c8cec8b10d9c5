"""The miner and the rules against hand counts, brute force and the published Groceries figures.

Groceries (arules, Hahsler et al.): 9,835 baskets over 169 items, ``/work/shared/data``.
"""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from voronka.analytics.basket.mining import association_rules, mine_itemsets
from voronka.analytics.basket.model import AssociationRules

GROCERIES = Path(__file__).resolve().parents[4] / "shared" / "data" / "groceries_transactions.csv"


@pytest.fixture(scope="module")
def groceries() -> pd.DataFrame:
    return pd.read_csv(GROCERIES)


def test_groceries_rule_counts_match_arules(groceries):
    """``apriori(Groceries, parameter = list(supp = 0.001, conf = 0.8))`` writes 410 rules
    (arules' own example, reproduced in countless tutorials) and with ``conf = 0.6`` 2,918
    rules (the arules output quoted at blog.csdn.net/jianlin0402/article/details/79339711).
    The count threshold is ⌈0.001 × 9835⌉ = 10 baskets; pyfim 6.28 (Borgelt's C code,
    ``fim.fpgrowth(tracts, supp=-10, zmin=1)``) finds the same 13,492 frequent itemsets, which
    we checked once with pyfim installed from the ``bench`` extra."""
    model = AssociationRules(min_support=0.001, min_confidence=0.8, max_length=10)
    model.fit(groceries.transaction_id, groceries["item"])
    assert model.n_baskets_ == 9835
    assert model.min_count(9835) == 10
    assert len(model.itemsets_) == 13_492
    assert len(model.rules_) == 410
    assert len(association_rules(model.itemsets_, min_confidence=0.6)) == 2_918


def test_groceries_supports_and_the_top_rule(groceries):
    """summary(Groceries): whole milk 2513, other vegetables 1903, rolls/buns 1809, soda 1715,
    yogurt 1372 baskets. The top rule by lift at supp 0.001, conf 0.8 is
    {liquor, red/blush wine} ⇒ {bottled beer}: 19 baskets, confidence 19/21 = 0.9048,
    lift 11.235 (arules vignette, ``inspect(head(sort(rules, by = "lift")))``)."""
    model = AssociationRules(min_support=0.001, min_confidence=0.8)
    model.fit(groceries.transaction_id, groceries["item"])
    top = {tuple(r["items"]): r["count"] for r in model.itemset_rows()[:5]}
    assert top == {("whole milk",): 2513, ("other vegetables",): 1903, ("rolls/buns",): 1809,
                   ("soda",): 1715, ("yogurt",): 1372}
    best = model.rule_rows(limit=1)[0]
    assert best["antecedent"] == ["liquor", "red/blush wine"]
    assert best["consequent"] == ["bottled beer"]
    assert best["count"] == 19
    assert best["confidence"] == pytest.approx(19 / 21)
    assert best["lift"] == pytest.approx(11.235, abs=5e-4)


def test_tiny_baskets_by_hand():
    """Baskets {a,b}, {a,b}, {a,c}, {b}: N = 4; a 3, b 3, c 1, ab 2, ac 1.

    min count 2: itemsets a, b, ab. a ⇒ b: confidence 2/3, lift (2/3) ÷ (3/4) = 8/9,
    leverage 2/4 − (3/4)(3/4) = −1/16, conviction (1/4) ÷ (1/3) = 3/4; b ⇒ a the same.
    """
    model = AssociationRules(min_support=0.5, min_confidence=0.0)
    model.fit([1, 1, 2, 2, 3, 3, 4], ["a", "b", "a", "b", "a", "c", "b"])
    assert {tuple(r["items"]): r["count"] for r in model.itemset_rows()} == {
        ("a",): 3, ("b",): 3, ("a", "b"): 2}
    rules = model.rule_rows()
    assert [(r["antecedent"], r["consequent"]) for r in rules] in (
        [(["a"], ["b"]), (["b"], ["a"])], [(["b"], ["a"]), (["a"], ["b"])])
    for r in rules:
        assert (r["support"], r["confidence"]) == (0.5, pytest.approx(2 / 3))
        assert r["lift"] == pytest.approx(8 / 9)
        assert r["leverage"] == pytest.approx(-1 / 16)
        assert r["conviction"] == pytest.approx(3 / 4)


def test_certain_rule_has_infinite_conviction_and_weights_repeat_baskets():
    """{x,y} ×3 (one row with weight 3) and {y}: x ⇒ y holds always: confidence 1, lift
    1 ÷ (4/4) = 1, conviction ∞ (reported as None)."""
    model = AssociationRules(min_support=0.5, min_confidence=0.9)
    model.fit([7, 7, 8], ["x", "y", "y"], weights=[3, 3, 1])
    assert model.n_baskets_ == 4
    (rule,) = model.rule_rows()
    assert (rule["antecedent"], rule["consequent"], rule["count"]) == (["x"], ["y"], 3)
    assert (rule["confidence"], rule["lift"], rule["conviction"]) == (1.0, 1.0, None)


def _brute_force(baskets: list[set[int]], min_count: int, max_length: int) -> dict:
    items = sorted(set().union(*baskets))
    found = {}
    for k in range(1, max_length + 1):
        for candidate in combinations(items, k):
            count = sum(1 for b in baskets if set(candidate) <= b)
            if count >= min_count:
                found[candidate] = count
    return found


@pytest.mark.parametrize(("seed", "size"), [(1, 400), (2, 400), (3, 2_000)])
def test_itemsets_equal_brute_force(seed, size):
    """Random baskets (dense enough for 5-itemsets) against counting every candidate; 2,000
    baskets make projected databases large enough to have their identical rows merged."""
    rng = np.random.default_rng(seed)
    baskets = [set(rng.choice(9, size=rng.integers(1, 7), replace=False).tolist())
               for _ in range(size)]
    basket = np.repeat(np.arange(size), [len(b) for b in baskets])
    item = np.concatenate([sorted(b) for b in baskets])
    min_count = size * 3 // 100
    for max_length in (2, 3, 9):
        mined = mine_itemsets(basket, item, min_count=min_count, max_length=max_length)
        got = {tuple(row): int(c) for k in mined.items
               for row, c in zip(mined.items[k].tolist(), mined.counts[k], strict=True)}
        assert got == _brute_force(baskets, min_count, max_length)


def test_rules_equal_brute_force_with_two_item_consequents():
    rng = np.random.default_rng(4)
    baskets = [set(rng.choice(6, size=rng.integers(1, 5), replace=False).tolist())
               for _ in range(300)]
    basket = np.repeat(np.arange(300), [len(b) for b in baskets])
    mined = mine_itemsets(basket, np.concatenate([sorted(b) for b in baskets]), min_count=10)
    rules = association_rules(mined, min_confidence=0.4, max_consequent=2)
    support = _brute_force(baskets, 10, 6)
    expected = set()
    for itemset, count in support.items():
        for size in (1, 2):
            for consequent in combinations(itemset, size):
                antecedent = tuple(i for i in itemset if i not in consequent)
                if antecedent and count / support[antecedent] >= 0.4:
                    expected.add((antecedent, consequent))
    got = {(tuple(i for i in a if i >= 0), tuple(i for i in c if i >= 0))
           for a, c in zip(rules.antecedent.tolist(), rules.consequent.tolist(), strict=True)}
    assert got == expected
    assert len(rules) == len(expected)
    assert not any(math.isnan(v) for v in rules.lift)


def test_bad_thresholds_are_refused():
    with pytest.raises(ValueError, match="min_support"):
        AssociationRules(min_support=0).fit([1], ["a"])
    with pytest.raises(ValueError, match="at least 1"):
        mine_itemsets(np.array([1]), np.array([1]), min_count=0)
