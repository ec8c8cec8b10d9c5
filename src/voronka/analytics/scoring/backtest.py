"""Backtesting a scorer on closed deals with a time split, and the figures of its quality.

The closed deals created first (``train_share`` of them) train the model, the later ones test
it, as the model will be used: learnt on the past, applied to deals that arrive later.

References
----------
Brier, G. W. (1950). Verification of forecasts expressed in terms of probability. *Monthly
Weather Review* 78(1), 1–3.
Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a receiver
operating characteristic (ROC) curve. *Radiology* 143(1), 29–36.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from voronka.analytics.scoring.features import FEATURES
from voronka.analytics.scoring.model import LeadScorer

DECILES = 10
CALIBRATION_BINS = 10


def time_split(closed: pd.DataFrame, train_share: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The earliest-created ``train_share`` of the deals, and the rest."""
    ordered = closed.sort_values(["created_at", "deal_id"], kind="stable")
    cut = int(round(len(ordered) * train_share))
    return ordered.iloc[:cut], ordered.iloc[cut:]


def lift_by_decile(won: np.ndarray, probability: np.ndarray) -> list[dict[str, Any]]:
    """Deals sorted by score, cut into ten groups: win rate and lift over the overall rate."""
    order = np.argsort(-probability, kind="stable")
    overall = float(won.mean())
    out = []
    for index, part in enumerate(np.array_split(order, DECILES), start=1):
        if len(part) == 0:
            continue
        rate = float(won[part].mean())
        out.append({"decile": index, "deals": int(len(part)), "won": int(won[part].sum()),
                    "win_rate": rate, "mean_probability": float(probability[part].mean()),
                    "lift": rate / overall if overall else None})
    return out


def calibration_table(won: np.ndarray, probability: np.ndarray) -> list[dict[str, Any]]:
    """Deals by predicted probability in bins 0–10 %, 10–20 %, …: predicted vs observed."""
    bins = np.minimum((probability * CALIBRATION_BINS).astype(int), CALIBRATION_BINS - 1)
    out = []
    for b in range(CALIBRATION_BINS):
        mask = bins == b
        if not mask.any():
            continue
        out.append({"low": b / CALIBRATION_BINS, "high": (b + 1) / CALIBRATION_BINS,
                    "deals": int(mask.sum()), "mean_probability": float(probability[mask].mean()),
                    "observed_rate": float(won[mask].mean())})
    return out


def quality(won: np.ndarray, probability: np.ndarray, base_rate: float) -> dict[str, Any]:
    """AUC, Brier score and log loss, with those of always predicting ``base_rate``."""
    clipped = np.clip(probability, 1e-6, 1 - 1e-6)
    constant = np.full(len(won), min(max(base_rate, 1e-6), 1 - 1e-6))
    both = len(np.unique(won)) == 2
    return {
        "deals": int(len(won)), "won": int(won.sum()),
        "auc": float(roc_auc_score(won, probability)) if both else None,
        "brier": float(brier_score_loss(won, probability)),
        "log_loss": float(log_loss(won, clipped, labels=[0, 1])),
        "baseline_brier": float(brier_score_loss(won, constant)),
        "baseline_log_loss": float(log_loss(won, constant, labels=[0, 1])),
        "lift_by_decile": lift_by_decile(won, probability),
        "calibration": calibration_table(won, probability),
    }


def backtest(closed: pd.DataFrame, train_share: float = 0.8,
             make: Callable[[], LeadScorer] = LeadScorer) -> dict[str, Any]:
    """Train on the earlier closed deals, measure on the later ones."""
    train, test = time_split(closed, train_share)
    if len(test) == 0 or train["won"].nunique() < 2:
        return {"train_deals": int(len(train)), "test_deals": int(len(test)),
                "skipped": "too few closed deals of each outcome for a backtest"}
    scorer = make().fit(train[list(FEATURES)], train["won"])
    probability = scorer.predict_probability(test[list(FEATURES)])
    result = quality(test["won"].to_numpy(dtype=int), probability, scorer.base_rate_)
    return {"train_deals": int(len(train)), "test_deals": int(len(test)),
            "split_at": test["created_at"].min().isoformat(), **result}
