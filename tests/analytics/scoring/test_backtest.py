"""Backtest figures on ten hand-checkable deals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from voronka.analytics.scoring.backtest import (
    calibration_table,
    lift_by_decile,
    quality,
    time_split,
)

WON = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 1])
PROBABILITY = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])


def test_quality_by_hand():
    found = quality(WON, PROBABILITY, base_rate=0.3)
    # AUC: of 3 × 7 won/lost pairs, 0.9 outranks 7 lost, 0.7 outranks 6, 0.05 none: 13/21
    assert found["auc"] == pytest.approx(13 / 21)
    # Brier: (0.1² + 0.8² + 0.3² + 0.6² + 0.5² + 0.4² + 0.3² + 0.2² + 0.1² + 0.95²) / 10
    assert found["brier"] == pytest.approx(0.25525)
    assert found["baseline_brier"] == pytest.approx(0.21)  # 0.3 · 0.7² + 0.7 · 0.3²
    assert found["baseline_log_loss"] == pytest.approx(-(0.3 * np.log(0.3) + 0.7 * np.log(0.7)))


def test_lift_by_decile_by_hand():
    deciles = lift_by_decile(WON, PROBABILITY)
    assert [d["deals"] for d in deciles] == [1] * 10
    # one deal per decile: lift is won ÷ 0.3
    assert [d["lift"] for d in deciles] == pytest.approx(
        [1 / 0.3, 0, 1 / 0.3, 0, 0, 0, 0, 0, 0, 1 / 0.3])


def test_calibration_table_by_hand():
    table = calibration_table(WON, PROBABILITY)
    first = table[0]  # 0.05 (won) in 0–10 %
    assert (first["low"], first["deals"], first["observed_rate"]) == (0.0, 1, 1.0)
    last = table[-1]  # 0.9 (won) in 90–100 %
    assert (last["low"], last["deals"], last["mean_probability"]) == (0.9, 1, 0.9)
    assert sum(row["deals"] for row in table) == 10


def test_time_split_keeps_the_earliest_for_training():
    frame = pd.DataFrame({"deal_id": [3, 1, 2, 4, 5],
                          "created_at": pd.to_datetime(["2026-01-03", "2026-01-01",
                                                        "2026-01-01", "2026-01-04",
                                                        "2026-01-05"])})
    train, test = time_split(frame, 0.6)
    assert list(train["deal_id"]) == [1, 2, 3]
    assert list(test["deal_id"]) == [4, 5]
