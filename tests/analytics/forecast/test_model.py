"""Forecast models on textbook series and a backtest computed by hand."""

from __future__ import annotations

import numpy as np
import pytest

from voronka.analytics.forecast.model import (
    SalesForecaster,
    fit_airline,
    mase,
    seasonal_naive,
    smape,
)

#: Box & Jenkins (1976) Series G: international airline passengers, thousands, monthly
#: January 1949 – December 1960 (also R's ``AirPassengers``).
AIRLINE = np.array([
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
    115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
    145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,
    196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,
    204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,
    315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,
    360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432], dtype=float)


def test_airline_series_checksum():
    # 144 months summing to 40,363 (sum(AirPassengers) in R)
    assert (len(AIRLINE), AIRLINE.sum()) == (144, 40_363)


def test_airline_model_reproduces_box_jenkins():
    """ARIMA(0,1,1)(0,1,1)₁₂ on log passengers: statsmodels' exact ML gives
    θ = −0.4018, Θ = −0.5569, σ² = 0.001348 (the statsmodels SARIMAX airline example); Box &
    Jenkins report θ ≈ 0.40 (their sign convention) and σ² ≈ 0.00134."""
    fitted, on_logs = fit_airline(AIRLINE, 12)
    assert on_logs
    theta, seasonal_theta, variance = fitted.params
    assert theta == pytest.approx(-0.4018, abs=5e-4)
    assert seasonal_theta == pytest.approx(-0.5569, abs=5e-4)
    assert variance == pytest.approx(0.001348, abs=2e-5)


def test_airline_holdout_year():
    """Fit on 1949–1959, forecast 1960: the backtest picks the airline model (lowest MASE);
    its forecasts miss 1960 by 2.9 % on average (mean absolute percentage error, only March
    1960, famously low, by more than 5 %) and the 95 % intervals cover every month but that March
    (419 below the lower bound 423.6)."""
    model = SalesForecaster(horizon=12, season_length=12, folds=2).fit(AIRLINE[:-12])
    assert model.best_ == "arima"
    scores = {b["model"]: b["mase"] for b in model.backtest_}
    assert scores["arima"] < scores["seasonal_naive"]
    actual = AIRLINE[-12:]
    forecast = model.forecast_
    errors = np.abs(forecast.mean / actual - 1)
    assert errors.mean() == pytest.approx(0.029, abs=0.001)
    assert np.flatnonzero(errors > 0.05).tolist() == [2]
    covered = (forecast.lower <= actual) & (actual <= forecast.upper)
    assert np.flatnonzero(~covered).tolist() == [2]
    assert smape(actual, forecast.mean) < 5


def test_backtest_by_hand():
    """y = 1..8, naive forecast (season 1), horizon 2, two folds: origins 4 and 6.

    Origin 4: train 1..4, forecast 4, 4 for actual 5, 6 → MAE 1.5; in-sample naive MAE 1 →
    MASE 1.5; sMAPE mean(200·1/9, 200·2/10) = 31.111. Origin 6: forecast 6, 6 for 7, 8 →
    MASE 1.5; sMAPE mean(200/13, 400/14) = 21.978. Means: MASE 1.5, sMAPE 26.545.
    """
    model = SalesForecaster(horizon=2, season_length=1, candidates=("seasonal_naive",),
                            folds=2).fit(np.arange(1, 9))
    assert model.origins(8) == [4, 6]
    (row,) = model.backtest_
    assert row["mase"] == pytest.approx(1.5)
    expected = (200 / 9 + 200 * 2 / 10) / 2 / 2 + (200 / 13 + 200 * 2 / 14) / 2 / 2
    assert row["smape"] == pytest.approx(expected)
    assert row["smape"] == pytest.approx(26.545, abs=1e-3)
    assert model.forecast_.mean.tolist() == [8.0, 8.0]


def test_seasonal_naive_interval_widens_each_season():
    """Residuals y_t − y_{t−2} of 1, 3, 2, 4, 3, 5 are all 2 → σ̂ = 2; 95 % half-width
    1.96 × 2 × √k for forecasts in the k-th season ahead."""
    y = np.array([1.0, 3, 3, 5, 5, 7, 7, 9])
    f = seasonal_naive(y, 2, 4, 0.95)
    assert f.mean.tolist() == [7.0, 9.0, 7.0, 9.0]
    half = f.upper - f.mean
    assert half == pytest.approx(1.959964 * 2 * np.sqrt([1, 1, 2, 2]), rel=1e-6)


def test_error_measures_by_hand():
    # |e| = 1, 1; in-sample naive MAE of 0, 2, 4 is 2 → MASE 0.5; sMAPE (200/5 + 0)/2 = 20
    assert mase(np.array([2.0, 4.0]), np.array([3.0, 5.0]), np.array([0.0, 2, 4]), 1) == 0.5
    assert smape(np.array([2.0, 0.0]), np.array([3.0, 0.0])) == pytest.approx(20.0)


def test_short_series_is_refused():
    with pytest.raises(ValueError, match="needs at least 16"):
        SalesForecaster(horizon=12).fit(np.ones(10))
