"""The LTV estimators reproduce the published CDNOW figures and hand-checked small cases.

Published references (CDNOW sample, 2,357 customers, calibration weeks 1–39):
- BG/NBD: Fader, Hardie & Lee (2005), "Counting your customers the easy way", Sec. 7:
  r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4.
- Pareto/NBD, same paper and data: r = 0.553, α = 10.578, s = 0.606, β = 11.669,
  LL = −9595.0 (the brief's rounding: 0.55, 10.58, 0.61, 11.67).
- Gamma-Gamma on the 946 repeat customers: Fader & Hardie (2013), "The Gamma-Gamma model of
  monetary value": p = 6.25, q = 3.74, v = 15.44; LL = −4055.9177 (CLVTools' correctness test
  of the same note).
Tolerance: the published rounding — each estimate rounds to the published digits (±half a
unit of the last digit), except Pareto/NBD's, whose likelihood is flat along β: within 0.1 %
of the published three decimals and equal at two; log-likelihoods within 0.05 (published to
one decimal), Gamma-Gamma's within 0.001.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tests.analytics.ltv import cdnow
from voronka.analytics.ltv import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    TimeUnit,
    daily_transactions,
    discounted_value,
    summarise,
)
from voronka.errors import InvalidInput

CALIBRATION_END = date(1997, 9, 30)  # the end of week 39


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    return cdnow.summary()


@pytest.fixture(scope="module")
def cdnow_built() -> pd.DataFrame:
    """The summary built by our own summariser from the raw transactions."""
    raw = cdnow.transactions()
    raw = raw.assign(day=pd.to_datetime(raw["date"], format="%Y%m%d"),
                     amount=raw["amount"].astype(float))
    daily = daily_transactions(raw, customer="customer", day="day", amount="amount")
    return summarise(daily, calibration_end=CALIBRATION_END, observation_end=date(1998, 6, 30),
                     time_unit=TimeUnit.WEEK)


def test_bgnbd_reproduces_the_published_cdnow_fit(cdnow_summary, cdnow_built):
    for x, t_x, age in ((cdnow_summary.x, cdnow_summary.t_x, cdnow_summary["T"]),
                        (cdnow_built.frequency, cdnow_built.recency, cdnow_built["T"])):
        model = BetaGeoModel().fit(x, t_x, age)
        assert {k: round(v, 3) for k, v in model.params_.items()} == {
            "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
        assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
        assert model.n_customers_ == 2357


def test_pareto_nbd_reproduces_the_published_cdnow_fit(cdnow_summary):
    model = ParetoNBDModel().fit(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary["T"])
    # the likelihood is flat along β: lifetimes finds 11.6681, we 11.6684 (published 11.669)
    assert model.params_ == pytest.approx(
        {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}, rel=1e-3)
    assert {k: round(v, 2) for k, v in model.params_.items()} == {
        "r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    assert model.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


def test_gamma_gamma_reproduces_the_published_cdnow_fit(cdnow_built):
    model = GammaGammaModel().fit(cdnow_built.frequency, cdnow_built.monetary)
    assert model.n_customers_ == 946
    assert {k: round(v, 2) for k, v in model.params_.items()} == {
        "p": 6.25, "q": 3.74, "v": 15.44}
    assert model.log_likelihood_ == pytest.approx(-4055.9177, abs=0.001)


def test_summary_matches_the_published_calibration_summary(cdnow_summary, cdnow_built):
    # the published file rounds times to 0.01 week and spend to 0.01
    assert list(cdnow_built.index.astype(int)) == list(cdnow_summary.ID)
    assert (cdnow_built.frequency.to_numpy() == cdnow_summary.x.to_numpy()).all()
    assert np.abs(cdnow_built.recency.to_numpy() - cdnow_summary.t_x.to_numpy()).max() < 0.005
    assert np.abs(cdnow_built["T"].to_numpy() - cdnow_summary["T"].to_numpy()).max() < 0.005
    assert np.abs(cdnow_built.monetary.to_numpy() - cdnow_summary.zbar.to_numpy()).max() < 0.005 + 1e-9
    assert cdnow_built.duration_holdout.iloc[0] == 39.0


def test_predictions_match_the_lifetimes_library(cdnow_summary):
    # Reference values: lifetimes 0.11.3 fitted on the same summary, customer 1 of CDNOW
    # (x = 2, t_x = 30.43, T = 38.86): conditional_probability_alive = 0.7266091,
    # conditional_expected_number_of_purchases_up_to_time(39) = 1.2259104; ParetoNBDFitter:
    # 0.8691154 and 1.4550956.
    bgnbd = BetaGeoModel().fit(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary["T"])
    assert bgnbd.probability_alive([2], [30.43], [38.86])[0] == pytest.approx(0.7266091, rel=1e-5)
    assert bgnbd.expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(
        1.2259104, rel=1e-5)
    pnbd = ParetoNBDModel().fit(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary["T"])
    assert pnbd.probability_alive([2], [30.43], [38.86])[0] == pytest.approx(0.8691154, rel=1e-5)
    # The Pareto/NBD likelihood is flat around its maximum: two optimisers stopping on it
    # agree on this prediction to about 1e-5 (ours moved by 1.2e-5 between machines'
    # floating-point summation orders), so it is held to 3e-5.
    assert pnbd.expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(
        1.4550956, rel=3e-5)


def test_bgnbd_likelihood_of_one_customer_by_hand():
    # FHL 2005 eq. 6 for r = α = a = b = 1, x = 1, t_x = 1, T = 2:
    # A1 = lnΓ(2) − lnΓ(1) + 0 = 0; A2 = lnΓ(2) + lnΓ(2) − lnΓ(1) − lnΓ(3) = −ln 2;
    # exp(A3) = 3^-2 = 1/9; exp(A4) = a/(b + x − 1) · 2^-2 = 1/4;
    # LL = −ln 2 + ln(1/9 + 1/4) = ln(13/72).
    model = BetaGeoModel()
    model.r_, model.alpha_, model.a_, model.b_ = 1.0, 1.0, 1.0, 1.0
    assert model.log_likelihood([1], [1], [2]) == pytest.approx(np.log(13 / 72), abs=1e-12)
    # P(alive) = 1 / (1 + a/(b + x − 1) · ((α + T)/(α + t_x))^(r + x)) = 1 / (1 + 9/4) = 4/13
    assert model.probability_alive([1], [1], [2])[0] == pytest.approx(4 / 13, abs=1e-12)
    # without repeat purchases a customer is alive for sure under BG/NBD
    assert model.probability_alive([0], [0], [5])[0] == 1.0


def test_summary_counts_same_day_purchases_once_and_splits_the_holdout():
    frame = pd.DataFrame({
        "customer": ["a", "a", "a", "a", "b", "c"],
        "day": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-15", "2026-01-29",
                               "2026-01-08", "2026-02-10"]),
        "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 9.0],
    })
    daily = daily_transactions(frame, customer="customer", day="day", amount="amount")
    summary = summarise(daily, calibration_end=date(2026, 1, 22),
                        observation_end=date(2026, 2, 19), time_unit=TimeUnit.WEEK)
    # a: first day 1 Jan (10 + 5 = one transaction), repeat on 15 Jan (20) → x = 1,
    #    t_x = 14 days = 2 weeks, T = 21 days = 3 weeks, monetary 20; 29 Jan is holdout.
    # b: first on 8 Jan, no repeat → x = 0, t_x = 0, T = 2 weeks.  c: first seen after the
    #    calibration end → left out.  Holdout: 22 Jan → 19 Feb = 4 weeks.
    assert summary.to_dict("index") == {
        "a": {"frequency": 1, "recency": 2.0, "T": 3.0, "monetary": 20.0,
              "frequency_holdout": 1, "duration_holdout": 4.0},
        "b": {"frequency": 0, "recency": 0.0, "T": 2.0, "monetary": 0.0,
              "frequency_holdout": 0, "duration_holdout": 4.0},
    }


def test_discounted_value_by_hand():
    # two customers, three periods: cumulative purchases (1, 1.5, 1.75) and (0, 0, 1);
    # spend 100 and 10, 10% per period, margin 0.5:
    # 0.5·100·(1/1.1 + 0.5/1.21 + 0.25/1.331) = 75.4320…; 0.5·10·(1/1.331) = 3.7566…
    cumulative = np.array([[1.0, 1.5, 1.75], [0.0, 0.0, 1.0]])
    value = discounted_value(cumulative, [100.0, 10.0], discount_rate=0.1, margin=0.5)
    expected = [50 * (1 / 1.1 + 0.5 / 1.21 + 0.25 / 1.331), 5 / 1.331]
    assert value == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("frequency", "recency", "T", "field"), [
    ([1.5], [1], [2], "frequency"),
    ([1], [3], [2], "recency"),
    ([0], [1], [2], "recency"),
    ([0], [0], [0], "T"),
    ([], [], [], "frequency"),
])
def test_invalid_summaries_name_the_field(frequency, recency, T, field):
    with pytest.raises(InvalidInput) as raised:
        BetaGeoModel().fit(frequency, recency, T)
    assert raised.value.details[0].field == field


def test_unfitted_model_says_so():
    with pytest.raises(InvalidInput, match="not fitted"):
        BetaGeoModel().probability_alive([1], [1], [2])
