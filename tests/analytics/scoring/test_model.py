"""LeadScorer on synthetic deals with planted log-odds effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from voronka.analytics.scoring.features import FEATURES
from voronka.analytics.scoring.model import LeadScorer

#: Planted log-odds of winning: channel a −1, b 0, c +1; manager m2 +0.8 over m1.
CHANNEL = {"a": -1.0, "b": 0.0, "c": 1.0}
MANAGER = {"m1": 0.0, "m2": 0.8}


def synthetic(n: int = 6000, seed: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    channel = rng.choice(list(CHANNEL), n)
    manager = rng.choice(list(MANAGER), n)
    frame = pd.DataFrame({
        "channel": channel, "campaign": "none", "manager": manager, "pipeline": "Sales #1",
        "client_kind": rng.choice(["person", "company"], n),
        "log_amount": rng.normal(10, 1, n), "prior_orders": rng.poisson(0.3, n),
        "prior_won": 0, "contacts": rng.poisson(1.5, n), "response_hours": rng.uniform(0, 24, n),
    })
    logit = -1.2 + np.vectorize(CHANNEL.get)(channel) + np.vectorize(MANAGER.get)(manager)
    won = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame[list(FEATURES)], won


@pytest.fixture(scope="module")
def fitted():  # type: ignore[no-untyped-def]
    frame, won = synthetic()
    return frame, won, LeadScorer().fit(frame, won)


def test_planted_effects_are_recovered(fitted):
    _, _, scorer = fitted
    channel, manager = scorer.category_effects("channel"), scorer.category_effects("manager")
    # planted differences 1.0 per channel step and 0.8 between managers; standard errors
    # with ~2 000 deals per channel are ≈ 0.08, the tolerance is 3 of them
    assert channel["c"] - channel["a"] == pytest.approx(2.0, abs=0.25)
    assert channel["b"] - channel["a"] == pytest.approx(1.0, abs=0.25)
    assert manager["m2"] - manager["m1"] == pytest.approx(0.8, abs=0.2)


def test_contributions_add_up_to_the_log_odds(fitted):
    frame, _, scorer = fitted
    sample = frame.head(50)
    parts = scorer.contributions(sample)
    assert list(parts.columns) == list(FEATURES)
    base = scorer.regression_.intercept_[0] + scorer.regression_.coef_[0] @ scorer.mean_encoded_
    assert (parts.sum(axis=1).to_numpy() + base) == pytest.approx(scorer.log_odds(sample))


def test_calibrated_probabilities_follow_the_log_odds_and_the_observed_rate(fitted):
    frame, won, scorer = fitted
    probability = scorer.predict_probability(frame)
    order = np.argsort(scorer.log_odds(frame))
    assert np.all(np.diff(probability[order]) >= -1e-12)  # isotonic: a monotone map
    # isotonic regression reproduces the training rate on average (out-of-fold fit: ±0.01)
    assert probability.mean() == pytest.approx(won.mean(), abs=0.01)


def test_sigmoid_calibration_and_bad_options():
    frame, won = synthetic(1500, seed=9)
    scorer = LeadScorer(calibration="sigmoid").fit(frame, won)
    assert 0 < scorer.predict_probability(frame).min() < scorer.predict_probability(frame).max() < 1
    with pytest.raises(ValueError, match="isotonic or sigmoid"):
        LeadScorer(calibration="magic").fit(frame, won)
    with pytest.raises(ValueError, match="both won and lost"):
        LeadScorer().fit(frame, np.zeros(len(frame), dtype=int))
