"""Lead scoring recovers the demo's planted conversion effects, on every engine.

The demo (docs/demo.md, ``demo/params.py``) wins a lead with probability channel win rate ×
campaign multiplier × manager multiplier. A 4 000-client company (seed 11) is generated; the
scorer trained on its closed deals must find the best-built manager and the best and worst
channels, predict each big channel's win rate within four binomial standard errors, and beat
the constant forecast in a time-split backtest.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from voronka.analytics.scoring.features import FEATURES, deal_features
from voronka.analytics.scoring.service import train
from voronka.demo import DemoParams, generate

PARAMS = DemoParams()


@pytest.fixture
def demo_runner(store, analytics):  # type: ignore[no-untyped-def]
    generate(store, clients=4_000, seed=11)
    return analytics()


def _name(category: str) -> str:
    return category.rsplit(" #", 1)[0]


def test_scoring_recovers_the_planted_effects(demo_runner):
    training = train(demo_runner)
    effects = training.metrics["effects"]
    managers = {_name(k): v for k, v in effects["manager"].items()}
    assert max(managers, key=managers.get) == PARAMS.managers[PARAMS.best_manager].name
    channels = {_name(k): v for k, v in effects["channel"].items()}
    planted = {c.name: c.win_rate for c in PARAMS.channels}
    assert max(channels, key=channels.get) == max(planted, key=planted.get)  # Referral
    assert min(channels, key=channels.get) == min(planted, key=planted.get)  # VK Ads

    frame = pd.DataFrame(demo_runner.rows(deal_features(demo_runner.sources)))
    closed = frame[frame["status"].isin(("won", "lost"))].copy()
    closed["probability"] = training.scorer.predict_probability(closed[list(FEATURES)])
    by_channel = closed.groupby(closed["channel"].map(_name))["probability"].agg(["mean", "size"])
    for channel in sorted(PARAMS.channels, key=lambda c: c.lead_share, reverse=True)[:3]:
        mean, deals = by_channel.loc[channel.name]
        tolerance = 4 * math.sqrt(channel.win_rate * (1 - channel.win_rate) / deals)
        assert abs(mean - channel.win_rate) < tolerance, channel.name

    backtest = training.metrics["backtest"]
    assert backtest["test_deals"] == round(len(closed) * 0.2)
    assert backtest["auc"] > 0.58  # the planted effects make a ranking; the noise caps it
    assert backtest["brier"] < backtest["baseline_brier"]
    assert backtest["log_loss"] < backtest["baseline_log_loss"]
    assert backtest["lift_by_decile"][0]["lift"] > 1.3
    assert len(training.scores) == int((frame["status"] == "open").sum())
