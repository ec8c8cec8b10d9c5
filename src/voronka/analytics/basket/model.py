"""Market-basket estimator: frequent itemsets and strong association rules on labelled baskets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from voronka.analytics.basket.mining import (
    FrequentItemsets,
    Rules,
    association_rules,
    mine_itemsets,
)

RULE_ORDER = ("lift", "confidence", "support", "leverage", "conviction", "count")


class AssociationRules:
    """Frequent itemsets and the strong rules ``A ⇒ C`` among them.

    Parameters
    ----------
    min_support
        Share of baskets an itemset must appear in (0 < s ≤ 1); the count threshold is
        ``⌈min_support × N⌉``, as in arules and pyfim.
    min_confidence, min_lift
        Rules below either are not kept ("strong rules").
    max_length
        Largest itemset (antecedent + consequent), ``None`` for no limit.
    max_consequent
        Largest right-hand side; 1 (the usual definition, as arules) by default.

    Attributes
    ----------
    labels_ : ndarray
        Item label of each item code.
    itemsets_ : FrequentItemsets
        Every frequent itemset with its basket count.
    rules_ : Rules
        The strong rules.
    n_baskets_ : int
        N, the number of baskets (weights included).

    References
    ----------
    Agrawal, R., Imieliński, T., Swami, A. (1993). Mining association rules between sets of
    items in large databases. *SIGMOD '93*, 207–216.
    Brin, S., Motwani, R., Ullman, J. D., Tsur, S. (1997). Dynamic itemset counting and
    implication rules for market basket data. *SIGMOD '97*, 255–264 (lift, conviction).
    Piatetsky-Shapiro, G. (1991). Discovery, analysis, and presentation of strong rules.
    *Knowledge Discovery in Databases*, 229–248 (leverage).
    """

    def __init__(self, *, min_support: float = 0.01, min_confidence: float = 0.5,
                 min_lift: float = 0.0, max_length: int | None = None,
                 max_consequent: int = 1) -> None:
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.min_lift = min_lift
        self.max_length = max_length
        self.max_consequent = max_consequent

    def fit(self, baskets: Sequence[Any] | np.ndarray | pd.Series,
            items: Sequence[Any] | np.ndarray | pd.Series,
            weights: Sequence[int] | np.ndarray | None = None) -> AssociationRules:
        """Mine ``(basket, item)`` pairs; ``weights`` repeat a basket (read on its first pair)."""
        self._check()
        basket_codes = pd.factorize(pd.Series(baskets), sort=False)[0]
        item_codes, labels = pd.factorize(pd.Series(items), sort=True)
        if (basket_codes < 0).any() or (item_codes < 0).any():
            raise ValueError("baskets and items must not be empty")
        weight = None if weights is None else np.asarray(weights)
        n = int(weight[np.unique(basket_codes, return_index=True)[1]].sum()) \
            if weight is not None else int(basket_codes.max() + 1 if len(basket_codes) else 0)
        self.labels_ = np.asarray(labels, dtype=object)
        self.n_baskets_ = n
        self.itemsets_: FrequentItemsets = mine_itemsets(
            basket_codes, item_codes, min_count=self.min_count(n), max_length=self.max_length,
            weight=weight)
        self.rules_: Rules = association_rules(
            self.itemsets_, min_confidence=self.min_confidence, min_lift=self.min_lift,
            max_consequent=self.max_consequent)
        return self

    def min_count(self, baskets: int) -> int:
        """The absolute support threshold for ``baskets`` baskets."""
        return max(1, math.ceil(self.min_support * baskets - 1e-9))

    def itemset_rows(self, min_length: int = 1) -> list[dict[str, Any]]:
        """Frequent itemsets, most frequent first: ``items``, ``length``, ``count``, ``support``."""
        rows = []
        for k, codes in self.itemsets_.items.items():
            if k < min_length:
                continue
            counts = self.itemsets_.counts[k]
            for row, count in zip(codes, counts, strict=True):
                rows.append({"items": [self.labels_[c] for c in row], "length": k,
                             "count": int(count), "support": count / self.n_baskets_})
        rows.sort(key=lambda r: (-r["count"], r["length"], [str(i) for i in r["items"]]))
        return rows

    def rule_rows(self, sort_by: str = "lift", limit: int | None = None) -> list[dict[str, Any]]:
        """Rules best first by ``sort_by`` (then confidence, support); conviction ``None`` = ∞."""
        if sort_by not in RULE_ORDER:
            raise ValueError(f"rules can be sorted by {', '.join(RULE_ORDER)}, not {sort_by!r}")
        r = self.rules_
        key = getattr(r, sort_by)
        order = np.lexsort((-r.support, -r.confidence, -key))[:limit]
        return [
            {"antecedent": self._names(r.antecedent[i]),
             "consequent": self._names(r.consequent[i]),
             "count": int(r.count[i]), "support": float(r.support[i]),
             "confidence": float(r.confidence[i]), "lift": float(r.lift[i]),
             "leverage": float(r.leverage[i]),
             "conviction": None if math.isinf(r.conviction[i]) else float(r.conviction[i])}
            for i in order
        ]

    def _names(self, codes: np.ndarray) -> list[Any]:
        return [self.labels_[c] for c in codes if c >= 0]

    def _check(self) -> None:
        if not 0 < self.min_support <= 1:
            raise ValueError("min_support must be a share in (0, 1]")
        if not 0 <= self.min_confidence <= 1:
            raise ValueError("min_confidence must be a share in [0, 1]")
        if self.min_lift < 0:
            raise ValueError("min_lift must not be negative")
        if self.max_length is not None and self.max_length < 1:
            raise ValueError("max_length must be at least 1")
        if self.max_consequent < 1:
            raise ValueError("max_consequent must be at least 1")
