"""The BG/NBD model of repeat purchases ("counting your customers the easy way")."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln, hyp2f1

from voronka.analytics.ltv.fitting import (
    Floats,
    Patterns,
    as_array,
    check_fitted,
    check_rfm,
    log_standard_errors_from_gradient,
    maximise,
    time_scale,
)


class BetaGeoModel:
    """Beta-geometric/NBD model: Poisson purchases until a geometric dropout.

    While alive a customer buys at rate ``λ ~ Gamma(r, α)``; after each purchase they drop out
    for good with probability ``p ~ Beta(a, b)``. Fitted by maximum likelihood on the
    customer summary ``(x, t_x, T)``: repeat purchases, time of the last one and age, all
    measured from the first purchase in one time unit (days or weeks).

    Attributes
    ----------
    r_, alpha_, a_, b_ : float
        Fitted parameters (``alpha_`` in the data's time unit).
    log_likelihood_ : float
        Maximised log-likelihood, summed over customers.
    n_customers_ : int
        Customers the model was fitted on.
    standard_errors_ : dict
        Asymptotic standard error of each parameter (inverse observed information, delta
        method from the log scale).

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy
    way: An alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275–284.
    """

    parameter_names = ("r", "alpha", "a", "b")

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> BetaGeoModel:
        """Estimate ``r, α, a, b`` by maximum likelihood; return self."""
        x, t_x, age = check_rfm(frequency, recency, T)
        scale = time_scale(age)
        rows = Patterns.of(x, t_x * scale, age * scale)
        start = np.zeros(4)
        log_params, negative = maximise(lambda p: _negative(p, rows), start, gradient=True)
        r, alpha, a, b = np.exp(log_params)
        self.r_, self.alpha_, self.a_, self.b_ = float(r), float(alpha / scale), float(a), float(b)
        # the likelihood of the unscaled data differs by the Jacobian of the time change
        self.log_likelihood_ = float(-negative + _time_jacobian(x, scale))
        self.n_customers_ = len(x)
        log_se = log_standard_errors_from_gradient(lambda p: _negative(p, rows), log_params)
        self.standard_errors_ = dict(zip(self.parameter_names,
                                         (float(v) for v in np.exp(log_params) * log_se
                                          / np.array([1, scale, 1, 1])), strict=True))
        return self

    @property
    def params_(self) -> dict[str, float]:
        check_fitted(self, "r_")
        return {"r": self.r_, "alpha": self.alpha_, "a": self.a_, "b": self.b_}

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> float:
        """Log-likelihood of a summary under the fitted parameters."""
        check_fitted(self, "r_")
        x, t_x, age = check_rfm(frequency, recency, T)
        rows = Patterns.of(x, t_x, age)
        return -_negative(np.log([self.r_, self.alpha_, self.a_, self.b_]), rows)[0]

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike,
                          T: ArrayLike) -> Floats:
        """P(still a customer at T | x, t_x, T) (FHL 2005, eq. 12 of the technical note)."""
        check_fitted(self, "r_")
        x, t_x, age = _arrays(frequency, recency, T)
        return 1.0 / (1.0 + self._dropout_odds(x, t_x, age))

    def expected_purchases(self, horizon: float, frequency: ArrayLike, recency: ArrayLike,
                           T: ArrayLike) -> Floats:
        """E[purchases in (T, T + horizon] | x, t_x, T] (FHL 2005, eq. 10)."""
        check_fitted(self, "r_")
        x, t_x, age = _arrays(frequency, recency, T)
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        z = horizon / (alpha + age + horizon)
        bracket = 1.0 - np.exp((r + x) * np.log((alpha + age) / (alpha + age + horizon))) \
            * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        return (a + b + x - 1.0) / (a - 1.0) * bracket / (1.0 + self._dropout_odds(x, t_x, age))

    def expected_purchases_new(self, horizon: float) -> float:
        """E[X(t)] for a customer just acquired: purchases in their first ``horizon``."""
        check_fitted(self, "r_")
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        z = horizon / (alpha + horizon)
        return float((a + b - 1) / (a - 1) * (
            1 - (alpha / (alpha + horizon)) ** r * hyp2f1(r, b, a + b - 1, z)))

    def _dropout_odds(self, x: Floats, t_x: Floats, age: Floats) -> Floats:
        r, alpha, a, b = self.r_, self.alpha_, self.a_, self.b_
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds = np.log(a) - np.log(np.maximum(b + x - 1.0, 1e-300)) \
                + (r + x) * np.log((alpha + age) / (alpha + t_x))
        return np.where(x > 0, np.exp(log_odds), 0.0)


def _arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[Floats, ...]:
    return as_array(frequency, "frequency"), as_array(recency, "recency"), as_array(T, "T")


def _time_jacobian(x: Floats, scale: float) -> float:
    """log|d(scaled times)/d(times)| of the ``x`` purchase times: Σ x · log(scale)."""
    return float(np.sum(x) * np.log(scale))


def _negative(log_params: Floats, rows: Patterns) -> tuple[float, Floats]:
    """Weighted negative log-likelihood and its gradient in log-parameters (FHL 2005, eq. 6).

    ``A1 + A2`` depend on ``x`` alone and are summed per distinct ``x``; only the mixture
    ``ln(e^A3 + δ e^A4)`` is evaluated per row.
    """
    r, alpha, a, b = np.exp(log_params)
    xs, per_x, n = rows.x_levels, rows.x_counts, rows.count
    a1 = gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs)
    repeat_level = xs > 0
    b_x_level = np.where(repeat_level, b + xs - 1.0, 1.0)
    log_age = np.log(alpha + rows.T_levels)[rows.T_index]
    log_last = np.log(alpha + rows.t_x_levels)[rows.t_x_index]
    r_x = r + rows.x
    # e^A4 / e^A3 = a/(b + x − 1) · ((α + T)/(α + t_x))^(r + x), zero without repeats
    log_odds = np.where(repeat_level, np.log(a) - np.log(b_x_level), -np.inf)[rows.x_index] \
        + r_x * (log_age - log_last)
    odds = np.exp(log_odds)
    mix = -r_x * log_age + np.log1p(odds)  # ln(e^A3 + δ e^A4)
    w4 = odds / (1.0 + odds)  # share of the "dropped out after the last purchase" branch
    w3 = 1.0 - w4
    inv_age = (1.0 / (alpha + rows.T_levels))[rows.T_index]
    inv_last = (1.0 / (alpha + rows.t_x_levels))[rows.t_x_index]
    n_w3, n_w4 = n * w3, n * w4
    w4_by_x = np.bincount(rows.x_index, weights=n_w4, minlength=len(xs))
    d_r = np.dot(per_x, digamma(r + xs) - digamma(r) + np.log(alpha)) \
        - np.dot(n_w3, log_age) - np.dot(n_w4, log_last)
    d_alpha = np.dot(per_x, np.full_like(xs, r / alpha)) \
        - np.dot(n_w3 * r_x, inv_age) - np.dot(n_w4 * r_x, inv_last)
    d_a = np.dot(per_x, digamma(a + b) - digamma(a + b + xs)) + w4_by_x.sum() / a
    d_b = np.dot(per_x, digamma(a + b) + digamma(b + xs) - digamma(b) - digamma(a + b + xs)) \
        - np.dot(w4_by_x, 1.0 / b_x_level)
    value = float(np.dot(per_x, a1 + a2) + np.dot(n, mix))
    grad = np.array([d_r, d_alpha, d_a, d_b]) * np.array([r, alpha, a, b])
    return -value, -grad
