"""Exact Shapley values: a textbook game and journeys checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from voronka.analytics.attribution import Paths, ShapleyAttribution
from voronka.analytics.attribution.shapley import shapley_values, subset_sums


def test_glove_game() -> None:
    # Two left gloves (players 0, 1) and one right (player 2); a pair is worth 1. Of the
    # 6 orders, R completes a pair when it comes 2nd or 3rd (4 orders) → 4/6 = 2/3; each
    # left glove completes it only when it directly follows R as the first L (1 order) → 1/6.
    worth = np.array([1.0 if mask & 4 and mask & 3 else 0.0 for mask in range(8)])
    assert shapley_values(worth) == pytest.approx([1 / 6, 1 / 6, 2 / 3], rel=1e-12)


def test_subset_sums_add_every_subset() -> None:
    # own: {0} 1, {1} 2, {0,1} 4 → v({0,1}) = 1 + 2 + 4.
    assert subset_sums(np.array([0.0, 1.0, 2.0, 4.0])).tolist() == [0.0, 1.0, 2.0, 7.0]


def test_journeys_by_hand() -> None:
    # A converts 1 (value 10); A > B > A converts 2 (value 20); B > C converts 3 (value 60).
    # Worth v(S) = conversions of journeys using only channels of S: v(A) = 1, v(AB) = 3,
    # v(AC) = 1, v(BC) = 3, v(ABC) = 6, others 0. Shapley weights for n = 3 by |S| = 0, 1, 2:
    # 1/3, 1/6, 1/3.
    #   A: 1/3·1 + 1/6·(3−0) + 1/6·(1−0) + 1/3·(6−3) = 2
    #   B: 1/3·0 + 1/6·(3−1) + 1/6·(3−0) + 1/3·(6−1) = 2.5
    #   C: 1/3·0 + 1/6·(1−1) + 1/6·(3−0) + 1/3·(6−3) = 1.5
    # (= each journey's conversions split equally over its distinct channels, Zhao et al.)
    # Values the same way: A 10 + 20/2 = 20, B 20/2 + 60/2 = 40, C 60/2 = 30.
    journeys = Paths.from_lists([["A"], ["A", "B", "A"], ["B", "C"]], conversions=[1, 2, 3],
                                value=[10, 20, 60])
    model = ShapleyAttribution().fit(journeys)
    assert model.exact_
    assert model.conversions_.to_dict() == pytest.approx({"A": 2, "B": 2.5, "C": 1.5},
                                                         rel=1e-12)
    assert model.value_.to_dict() == pytest.approx({"A": 20, "B": 40, "C": 30}, rel=1e-12)


def test_many_channels_use_the_closed_form() -> None:
    # 22 channels: the journey through all of them converts 22 (1 each), c00 alone 1 more.
    names = [f"c{i:02d}" for i in range(22)]
    journeys = Paths.from_lists([names, ["c00"]], conversions=[22, 1])
    model = ShapleyAttribution().fit(journeys)
    assert not model.exact_
    assert model.conversions_.to_dict() == pytest.approx(
        {name: 2.0 if name == "c00" else 1.0 for name in names}, rel=1e-12)
