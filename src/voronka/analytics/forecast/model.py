"""Sales forecasting: candidate models chosen by a rolling-origin backtest.

Candidates (each returns a mean forecast and a prediction interval):

* ``seasonal_naive`` — the value one season earlier; interval from the residual standard
  deviation, widened by √(completed seasons) (Hyndman & Athanasopoulos, FPP3 §5.5);
* ``ets`` — exponential smoothing (Holt-Winters) state-space model ETS(A,Ad,A), or ETS(M,Ad,M)
  for positive series, by maximum likelihood (statsmodels ``ETSModel``; Hyndman et al. 2008);
* ``theta`` — the Theta method (Assimakopoulos & Nikolopoulos 2000) as the drifted SES of
  Hyndman & Billah (2003), on the seasonally adjusted series (statsmodels ``ThetaModel``);
* ``arima`` — the "airline" model ARIMA(0,1,1)(0,1,1)ₘ of Box & Jenkins, on logarithms when the
  series is positive (statsmodels ``SARIMAX``); ARIMA(0,1,1) when there is no season.

The backtest uses rolling origins (Tashman 2000): ``folds`` origins, each ``horizon`` buckets
apart, ending ``horizon`` buckets before the last observation; at each origin every candidate
is fitted on the data before it and scored on the next ``horizon`` buckets by MASE (mean
absolute error ÷ the in-sample MAE of the seasonal naive forecast; Hyndman & Koehler 2006)
and sMAPE (mean of 200·|y − ŷ| ÷ (|y| + |ŷ|), in percent; 0 when both are 0). The candidate
with the lowest mean MASE is refitted on all the data.

References
----------
Box, G. E. P., Jenkins, G. M. (1976). *Time Series Analysis: Forecasting and Control*.
Holden-Day (Series G, the airline model).
Hyndman, R. J., Koehler, A. B., Ord, J. K., Snyder, R. D. (2008). *Forecasting with
Exponential Smoothing: The State Space Approach*. Springer.
Hyndman, R. J., Koehler, A. B. (2006). Another look at measures of forecast accuracy.
*International Journal of Forecasting* 22(4), 679–688.
Assimakopoulos, V., Nikolopoulos, K. (2000). The theta model: a decomposition approach to
forecasting. *International Journal of Forecasting* 16(4), 521–530.
Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and review.
*International Journal of Forecasting* 16(4), 437–450.
Hyndman, R. J., Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*, 3rd ed.
OTexts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

CANDIDATES = ("seasonal_naive", "ets", "theta", "arima")


@dataclass(frozen=True)
class Forecast:
    """Mean forecast and prediction interval bounds, one value per future bucket."""

    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def seasonal_naive(y: np.ndarray, m: int, horizon: int, level: float,
                   intervals: bool = True) -> Forecast:
    """``ŷ_{T+h} = y_{T+h−m(k+1)}``, k = ⌊(h−1)/m⌋; σ_h = σ̂·√(k+1) (FPP3 §5.5)."""
    m = m if len(y) > m else 1
    steps = np.arange(1, horizon + 1)
    seasons = (steps - 1) // m + 1
    mean = y[len(y) - m + (steps - 1) % m].astype(float)
    residuals = y[m:] - y[:-m]
    sigma = float(np.sqrt(np.mean(residuals**2))) if len(residuals) else 0.0
    half = stats.norm.ppf(0.5 + level / 2) * sigma * np.sqrt(seasons)
    return Forecast(mean, mean - half, mean + half)


def ets(y: np.ndarray, m: int, horizon: int, level: float,
        intervals: bool = True) -> Forecast:
    """ETS(A,Ad,A) — or ETS(M,Ad,M) when every value is positive — by maximum likelihood."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    positive = bool(np.all(y > 0))
    seasonal = "mul" if positive else "add"
    use_season = m > 1 and len(y) >= 2 * m + 2
    model = ETSModel(pd.Series(y.astype(float)), error="mul" if positive else "add", trend="add",
                     damped_trend=True, seasonal=seasonal if use_season else None,
                     seasonal_periods=m if use_season else None)
    fitted = _quiet(lambda: model.fit(disp=False, maxiter=200))
    if not intervals:
        mean = np.asarray(_quiet(lambda: fitted.forecast(horizon)))
        return Forecast(mean, mean, mean)
    # multiplicative errors have no closed-form interval: simulate (seeded: reproducible)
    method = "simulated" if positive else None
    frame = _quiet(lambda: fitted.get_prediction(
        start=len(y), end=len(y) + horizon - 1, method=method, simulate_repetitions=1000,
        random_state=0).summary_frame(alpha=1 - level))
    return Forecast(np.asarray(frame["mean"]), np.asarray(frame["pi_lower"]),
                    np.asarray(frame["pi_upper"]))


def theta(y: np.ndarray, m: int, horizon: int, level: float,
          intervals: bool = True) -> Forecast:
    """The Theta method (θ = 2) on the seasonally adjusted series."""
    from statsmodels.tsa.forecasting.theta import ThetaModel

    seasonal = m > 1 and len(y) >= 2 * m
    method = "multiplicative" if np.all(y > 0) else "additive"
    model = ThetaModel(y.astype(float), period=m if seasonal else 1, deseasonalize=seasonal,
                       method=method)
    fitted = _quiet(model.fit)
    mean = np.asarray(_quiet(lambda: fitted.forecast(horizon)))
    bounds = np.asarray(_quiet(lambda: fitted.prediction_intervals(horizon, alpha=1 - level)))
    return Forecast(mean, bounds[:, 0], bounds[:, 1])


def arima(y: np.ndarray, m: int, horizon: int, level: float,
          intervals: bool = True) -> Forecast:
    """The airline model ARIMA(0,1,1)(0,1,1)ₘ, on logarithms of a positive series."""
    fitted, log = fit_airline(y, m)
    result = _quiet(lambda: fitted.get_forecast(horizon))
    mean = np.asarray(result.predicted_mean)
    bounds = np.asarray(result.conf_int(alpha=1 - level))
    if log:  # the back-transformed mean is the median forecast (FPP3 §5.6)
        return Forecast(np.exp(mean), np.exp(bounds[:, 0]), np.exp(bounds[:, 1]))
    return Forecast(mean, bounds[:, 0], bounds[:, 1])


def fit_airline(y: np.ndarray, m: int) -> tuple[Any, bool]:
    """Fit ARIMA(0,1,1)(0,1,1)ₘ by exact maximum likelihood; returns (results, on_logs)."""
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    log = bool(np.all(y > 0))
    values = np.log(y) if log else y.astype(float)
    seasonal = (0, 1, 1, m) if m > 1 and len(y) >= 2 * m + 2 else (0, 0, 0, 0)
    model = SARIMAX(values, order=(0, 1, 1), seasonal_order=seasonal)
    return _quiet(lambda: model.fit(disp=False)), log


MODELS: dict[str, Callable[..., Forecast]] = {
    "seasonal_naive": seasonal_naive, "ets": ets, "theta": theta, "arima": arima}


def _quiet(call: Callable[[], Any]) -> Any:
    """Run a statsmodels call single-threaded, without its convergence and frequency warnings.

    The backtest scores every fit by its out-of-sample error, so a fit that converged
    poorly shows up there rather than as a warning (warnings are errors in the tests). The
    matrices are tiny: BLAS threads only add overhead, which turned a 0.5 s ARIMA fit into
    9 s on a busy 2-core machine (measured).
    """
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return call()


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray, m: int) -> float:
    """MAE of the forecast ÷ in-sample MAE of the seasonal naive forecast (Hyndman & Koehler)."""
    m = m if len(train) > m else 1
    scale = float(np.mean(np.abs(train[m:] - train[:-m])))
    error = float(np.mean(np.abs(actual - forecast)))
    if scale == 0:
        return 0.0 if error == 0 else math.inf
    return error / scale


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Mean of 200·|y − ŷ| ÷ (|y| + |ŷ|), in percent; a term is 0 when y = ŷ = 0."""
    denominator = np.abs(actual) + np.abs(forecast)
    terms = np.where(denominator == 0, 0.0,
                     200 * np.abs(actual - forecast) / np.where(denominator == 0, 1, denominator))
    return float(np.mean(terms))


class SalesForecaster:
    """Choose the best candidate by rolling-origin backtest, then forecast with it.

    Parameters
    ----------
    horizon
        Buckets to forecast (and the length of each backtest window).
    season_length
        Buckets per season (7 for days, 52 for weeks, 12 for months; 1 for none).
    candidates
        Names from ``CANDIDATES``.
    folds
        Backtest origins; fewer are used when the series is short.
    level
        Coverage of the prediction interval, e.g. 0.95.

    Attributes
    ----------
    backtest_ : list of dict
        Per candidate: ``model``, ``mase``, ``smape`` (means over folds), ``folds``, ``error``
        (why it could not be scored, else None).
    best_ : str
        The candidate with the lowest mean MASE (ties: the earlier in ``candidates``).
    forecast_ : Forecast
        The best candidate refitted on the whole series.

    References
    ----------
    See the module docstring.
    """

    def __init__(self, *, horizon: int = 12, season_length: int = 12,
                 candidates: Sequence[str] = CANDIDATES, folds: int = 3,
                 level: float = 0.95) -> None:
        self.horizon = horizon
        self.season_length = season_length
        self.candidates = candidates
        self.folds = folds
        self.level = level

    def fit(self, y: Sequence[float] | np.ndarray) -> SalesForecaster:
        """Backtest every candidate on ``y`` (oldest first), refit the best on all of it."""
        values = np.asarray(y, dtype=float)
        self._check(values)
        origins = self.origins(len(values))
        self.backtest_ = [self._score(name, values, origins) for name in self.candidates]
        scored = [b for b in self.backtest_ if b["error"] is None]
        if not scored:
            raise ValueError("no candidate model could be fitted: "
                             + "; ".join(f"{b['model']}: {b['error']}" for b in self.backtest_))
        self.best_ = min(scored, key=lambda b: b["mase"])["model"]
        self.forecast_ = MODELS[self.best_](values, self.season_length, self.horizon,
                                            self.level)
        return self

    def origins(self, n: int) -> list[int]:
        """Backtest origins: the last is n − horizon, each earlier one horizon before.

        An origin needs a season and two more points before it (seasonal models fitted on
        less than two seasons fall back to their non-seasonal form); the last origin is
        always kept.
        """
        shortest = self.season_length + 2 if self.season_length > 1 else 4
        found = [n - self.horizon * (k + 1) for k in range(self.folds)]
        return sorted(t for t in found if t >= min(shortest, n - self.horizon))

    def _score(self, name: str, y: np.ndarray, origins: list[int]) -> dict[str, Any]:
        m, h = self.season_length, self.horizon
        scores: list[tuple[float, float]] = []
        try:
            for origin in origins:
                train, actual = y[:origin], y[origin:origin + h]
                predicted = MODELS[name](train, m, h, self.level, intervals=False).mean
                if not np.all(np.isfinite(predicted)):
                    raise ValueError("the fit produced no finite forecast")
                scores.append((mase(actual, predicted, train, m), smape(actual, predicted)))
        except (ValueError, np.linalg.LinAlgError, IndexError) as exc:
            return {"model": name, "mase": None, "smape": None, "folds": len(scores),
                    "error": str(exc)[:200]}
        return {"model": name, "mase": float(np.mean([s[0] for s in scores])),
                "smape": float(np.mean([s[1] for s in scores])), "folds": len(scores),
                "error": None}

    def _check(self, y: np.ndarray) -> None:
        unknown = [c for c in self.candidates if c not in MODELS]
        if unknown or not self.candidates:
            raise ValueError(f"unknown model {unknown[0] if unknown else '(none)'}; "
                             f"models: {', '.join(CANDIDATES)}")
        if self.horizon < 1 or self.season_length < 1 or self.folds < 1:
            raise ValueError("horizon, season length and folds must be at least 1")
        if not 0 < self.level < 1:
            raise ValueError("the interval level must be between 0 and 1, e.g. 0.95")
        if not np.all(np.isfinite(y)):
            raise ValueError("the series has missing or non-numeric values")
        if len(y) < self.horizon + 4:
            raise ValueError(f"the series has {len(y)} points; forecasting {self.horizon} "
                             f"ahead needs at least {self.horizon + 4}")
