"""The Gamma-Gamma model of the value of a customer's purchases."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from voronka.analytics.ltv.fitting import (
    Floats,
    as_array,
    check_fitted,
    log_standard_errors,
    maximise,
)
from voronka.errors import ErrorDetail, InvalidInput


class GammaGammaModel:
    """Gamma-Gamma spend: each purchase ``z ~ Gamma(p, ν)``, ``ν ~ Gamma(q, v)`` per customer.

    Fitted on customers with at least one repeat purchase, from ``x`` (repeat purchases) and
    ``m_x`` (their mean value). Assumes the value of purchases does not depend on how often a
    customer buys (check the correlation of ``x`` and ``m_x`` before trusting it).

    Attributes
    ----------
    p_, q_, v_ : float
        Fitted parameters (``v_`` in the money unit of ``m_x``).
    log_likelihood_ : float
        Maximised log-likelihood of the observed means (with the normalising constant, as
        in Fader & Hardie 2013).

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using iso-value curves
    for customer base analysis. *Journal of Marketing Research*, 42(4), 415–430.

    Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
    http://brucehardie.com/notes/025/
    """

    parameter_names = ("p", "q", "v")

    def fit(self, frequency: ArrayLike, monetary: ArrayLike) -> GammaGammaModel:
        """Estimate ``p, q, v`` by maximum likelihood on repeat customers; return self."""
        x, m = _repeat_customers(frequency, monetary)
        scale = 10.0 / float(np.mean(m))  # brings the mean spend near 10, whatever the currency
        rows, counts = np.unique(np.column_stack([x, m * scale]), axis=0, return_counts=True)
        x_u, m_u, n = rows[:, 0], rows[:, 1], counts.astype(np.float64)
        log_params, negative = maximise(lambda lp: _negative(lp, x_u, m_u, n), np.zeros(3),
                                        gradient=True)
        p, q, v = np.exp(log_params)
        self.p_, self.q_, self.v_ = float(p), float(q), float(v / scale)
        # density of m_x in the original unit: one Jacobian factor per customer
        self.log_likelihood_ = float(-negative + len(x) * np.log(scale))
        self.n_customers_ = len(x)
        log_se = log_standard_errors(lambda lp: _negative(lp, x_u, m_u, n)[0], log_params)
        self.standard_errors_ = dict(zip(self.parameter_names,
                                         (float(v) for v in np.exp(log_params) * log_se
                                          / np.array([1, 1, scale])), strict=True))
        return self

    @property
    def params_(self) -> dict[str, float]:
        check_fitted(self, "p_")
        return {"p": self.p_, "q": self.q_, "v": self.v_}

    def expected_spend(self, frequency: ArrayLike, monetary: ArrayLike) -> Floats:
        """E[value of a purchase | x, m_x] (FHL 2005 RFM and CLV, eq. 5); the population mean
        ``p v / (q − 1)`` for customers without repeat purchases."""
        check_fitted(self, "p_")
        x, m = as_array(frequency, "frequency"), as_array(monetary, "monetary")
        p, q, v = self.p_, self.q_, self.v_
        m = np.where(x > 0, m, 0.0)
        return p * (v + x * m) / (p * x + q - 1.0)

    @property
    def mean_spend_(self) -> float:
        """Population mean value of a purchase, ``p v / (q − 1)`` (infinite when q ≤ 1)."""
        check_fitted(self, "p_")
        return self.p_ * self.v_ / (self.q_ - 1.0) if self.q_ > 1 else float("inf")


def _repeat_customers(frequency: ArrayLike, monetary: ArrayLike) -> tuple[Floats, Floats]:
    x, m = as_array(frequency, "frequency"), as_array(monetary, "monetary")
    if len(x) != len(m):
        raise InvalidInput("frequency and monetary must have the same length",
                           [ErrorDetail("length differs", field="monetary")])
    keep = x > 0
    if np.any(m[keep] <= 0):
        raise InvalidInput("the mean purchase value of repeat customers must be positive",
                           [ErrorDetail("not positive", field="monetary")])
    if keep.sum() < 2:
        raise InvalidInput("the spend model needs at least two customers with repeat purchases",
                           [ErrorDetail("too few repeat customers", field="frequency")])
    return x[keep], m[keep]


def _negative(log_params: Floats, x: Floats, m: Floats, n: Floats) -> tuple[float, Floats]:
    p, q, v = np.exp(log_params)
    px = p * x
    ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m)
          + px * np.log(x) - (px + q) * np.log(v + x * m))
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - np.log(v + x * m))
    d_q = digamma(px + q) - digamma(q) + np.log(v) - np.log(v + x * m)
    d_v = q / v - (px + q) / (v + x * m)
    grad = np.array([np.dot(n, d) for d in (d_p, d_q, d_v)]) * np.array([p, q, v])
    return -float(np.dot(n, ll)), -grad
