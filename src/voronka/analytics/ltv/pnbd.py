"""The Pareto/NBD model of repeat purchases (Schmittlein, Morrison & Colombo 1987)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln, hyp2f1

from voronka.analytics.ltv.fitting import (
    Floats,
    Patterns,
    as_array,
    check_fitted,
    check_rfm,
    log_standard_errors,
    maximise,
    time_scale,
)


class ParetoNBDModel:
    """Pareto/NBD: Poisson purchases at ``λ ~ Gamma(r, α)`` during an exponential lifetime
    with rate ``μ ~ Gamma(s, β)``.

    Fitted by maximum likelihood on ``(x, t_x, T)``, with the likelihood written as in Fader
    & Hardie's note (eq. 22–23, the Gaussian hypergeometric form), evaluated in logs.

    Attributes
    ----------
    r_, alpha_, s_, beta_ : float
        Fitted parameters (``alpha_`` and ``beta_`` in the data's time unit).
    log_likelihood_ : float
        Maximised log-likelihood, summed over customers.
    standard_errors_ : dict
        Asymptotic standard error of each parameter.

    References
    ----------
    Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: Who
    are they and what will they do next? *Management Science*, 33(1), 1–24.

    Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and
    related expressions. http://brucehardie.com/notes/009/
    """

    parameter_names = ("r", "alpha", "s", "beta")

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> ParetoNBDModel:
        """Estimate ``r, α, s, β`` by maximum likelihood; return self."""
        x, t_x, age = check_rfm(frequency, recency, T)
        scale = time_scale(age)
        rows = Patterns.of(x, t_x * scale, age * scale)
        log_params, negative = maximise(lambda p: -_log_likelihood(np.exp(p), rows),
                                        np.zeros(4), gradient=False)
        r, alpha, s, beta = np.exp(log_params)
        self.r_, self.alpha_ = float(r), float(alpha / scale)
        self.s_, self.beta_ = float(s), float(beta / scale)
        self.log_likelihood_ = float(-negative + np.sum(x) * np.log(scale))
        self.n_customers_ = len(x)
        log_se = log_standard_errors(lambda p: -_log_likelihood(np.exp(p), rows), log_params)
        self.standard_errors_ = dict(zip(self.parameter_names,
                                         (float(v) for v in np.exp(log_params) * log_se
                                          / np.array([1, scale, 1, scale])), strict=True))
        return self

    @property
    def params_(self) -> dict[str, float]:
        check_fitted(self, "r_")
        return {"r": self.r_, "alpha": self.alpha_, "s": self.s_, "beta": self.beta_}

    def log_likelihood(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> float:
        check_fitted(self, "r_")
        rows = Patterns.of(*check_rfm(frequency, recency, T))
        return _log_likelihood(np.array([self.r_, self.alpha_, self.s_, self.beta_]), rows)

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike,
                          T: ArrayLike) -> Floats:
        """P(alive at T | x, t_x, T) (Fader & Hardie 2005 note, eq. 24)."""
        check_fitted(self, "r_")
        x, t_x, age = _arrays(frequency, recency, T)
        r, alpha, s, beta = self.r_, self.alpha_, self.s_, self.beta_
        log_a0 = _log_a0(r, alpha, s, beta, x, t_x, age)
        log_ratio = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + age)
                     + s * np.log(beta + age) + log_a0)
        return 1.0 / (1.0 + np.exp(log_ratio))

    def expected_purchases(self, horizon: float, frequency: ArrayLike, recency: ArrayLike,
                           T: ArrayLike) -> Floats:
        """E[purchases in (T, T + horizon] | x, t_x, T] (Fader & Hardie 2005 note, eq. 25)."""
        alive = self.probability_alive(frequency, recency, T)
        x, _, age = _arrays(frequency, recency, T)
        r, alpha, s, beta = self.r_, self.alpha_, self.s_, self.beta_
        if abs(s - 1.0) < 1e-9:
            lifetime = (beta + age) * np.log((beta + age + horizon) / (beta + age))
        else:
            lifetime = (beta + age) / (s - 1) * (1 - ((beta + age) / (beta + age + horizon))
                                                 ** (s - 1))
        return alive * (r + x) / (alpha + age) * lifetime


def _arrays(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[Floats, ...]:
    return as_array(frequency, "frequency"), as_array(recency, "recency"), as_array(T, "T")


def _log_a0(r: float, alpha: float, s: float, beta: float, x: Floats, t_x: Floats,
            age: Floats) -> Floats:
    """log A₀ of the note's eq. 23 (the hypergeometric terms), whichever of α, β is larger."""
    total = r + s + x
    second: float | Floats
    if alpha >= beta:
        top, second, shift = alpha, s + 1.0, alpha - beta
    else:
        top, second, shift = beta, r + x, beta - alpha
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        early = np.log(hyp2f1(total, second, total + 1.0, shift / (top + t_x))) \
            - total * np.log(top + t_x)
        late = np.log(hyp2f1(total, second, total + 1.0, shift / (top + age))) \
            - total * np.log(top + age)
        return early + np.log1p(-np.exp(late - early))


def _log_likelihood(params: Floats, rows: Patterns) -> float:
    r, alpha, s, beta = params
    x, t_x, age = rows.x, rows.t_x, rows.T
    total = r + s + x
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    log_a0 = _log_a0(r, alpha, s, beta, x, t_x, age)
    with np.errstate(invalid="ignore"):
        dead = np.where(t_x < age, np.log(s) - np.log(total) + log_a0, -np.inf)
        value = float(np.dot(rows.count, head + np.logaddexp(alive, dead)))
    return value if np.isfinite(value) else -1e300
