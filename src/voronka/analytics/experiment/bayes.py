"""Bayesian comparison of variants.

Conversion: each variant's rate has the posterior Beta(1 + conversions, 1 + misses) under a
uniform prior. The probability that a variant beats the control is Evan Miller's exact sum
(integer parameters), the expected loss of choosing it is Stucchio's closed form built on the
same sum, and the probability of being the best of k variants is a numerical integral
∫ f_i(x) Π_{j≠i} F_j(x) dx on a fine grid (Simpson's rule).

Money (value per unit, average check): the mean check of a variant has the Student-t
posterior of a normal mean under the Jeffreys prior, centred on the sample mean with scale
s/√n (a normal approximation for skewed checks, fair from a few dozen conversions); the value
per unit is the conversion rate times the mean check. These are compared by seeded Monte
Carlo with enough draws that the third decimal is stable.

References
----------
Miller, E. (2015). Formulas for Bayesian A/B testing.
https://www.evanmiller.org/bayesian-ab-testing.html
Stucchio, C. (2015). Bayesian A/B testing at VWO. VWO technical paper, §5 (expected loss).
Gelman, A. et al. (2013). *Bayesian Data Analysis*, 3rd ed., §3.2 (normal mean, unknown
variance, noninformative prior).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special, stats

from voronka.analytics.experiment.summary import VariantSummary

#: Monte Carlo draws for the money comparisons: standard error of a probability ≤ 0.0011.
DRAWS = 200_000
#: Grid points of the "best of k" integral.
GRID = 20_001


def beta_parameters(v: VariantSummary) -> tuple[int, int]:
    return 1 + v.conversions, 1 + v.units - v.conversions


def probability_greater(a: tuple[int, int], b: tuple[int, int]) -> float:
    """P(X_b > X_a) for X_a ~ Beta(*a), X_b ~ Beta(*b), integer parameters (Evan Miller)."""
    alpha_a, beta_a = a
    alpha_b, beta_b = b
    i = np.arange(alpha_b, dtype=float)
    log_terms = (special.betaln(alpha_a + i, beta_a + beta_b) - np.log(beta_b + i)
                 - special.betaln(1 + i, beta_b) - special.betaln(alpha_a, beta_a))
    return float(min(1.0, max(0.0, np.exp(log_terms).sum())))


def expected_loss(a: tuple[int, int], b: tuple[int, int]) -> float:
    """E[max(X_a − X_b, 0)]: the rate lost on average by choosing b over a (Stucchio)."""
    alpha_a, beta_a = a
    alpha_b, beta_b = b
    mean_a, mean_b = alpha_a / (alpha_a + beta_a), alpha_b / (alpha_b + beta_b)
    # h(x, y) = P(X_x > X_y) = probability_greater(y, x)
    first = mean_a * probability_greater((alpha_b, beta_b), (alpha_a + 1, beta_a))
    second = mean_b * probability_greater((alpha_b + 1, beta_b), (alpha_a, beta_a))
    return max(first - second, 0.0)


def probability_best(variants: Sequence[VariantSummary]) -> list[float]:
    """P(variant i has the highest rate) for each variant, by numerical integration."""
    params = [beta_parameters(v) for v in variants]
    dists = [stats.beta(a, b) for a, b in params]
    low = min(d.ppf(1e-12) for d in dists)
    high = max(d.isf(1e-12) for d in dists)
    x = np.linspace(low, high, GRID)
    pdfs = np.array([d.pdf(x) for d in dists])
    cdfs = np.array([d.cdf(x) for d in dists])
    out = []
    for i in range(len(dists)):
        others = np.prod(np.delete(cdfs, i, axis=0), axis=0)
        out.append(float(integrate.simpson(pdfs[i] * others, x=x)))
    total = sum(out)
    return [p / total for p in out] if total > 0 else out


@dataclass(frozen=True)
class MoneyComparison:
    """A variant against the control on a money figure, from posterior draws."""

    probability_to_beat: float
    expected_loss: float


def _check_draws(v: VariantSummary, rng: np.random.Generator) -> np.ndarray | None:
    if v.conversions < 2 or v.check_mean is None or v.check_var is None:
        return None
    scale = math.sqrt(v.check_var / v.conversions)
    return v.check_mean + scale * rng.standard_t(v.conversions - 1, DRAWS)


def money_draws(v: VariantSummary, figure: str, seed: int) -> np.ndarray | None:
    """Posterior draws of ``figure`` ("value_per_unit" or "average_check") for ``v``."""
    rng = np.random.default_rng(seed)
    checks = _check_draws(v, rng)
    if checks is None:
        return None
    if figure == "average_check":
        return checks
    a, b = beta_parameters(v)
    return rng.beta(a, b, DRAWS) * checks


def compare_money(control: np.ndarray | None, variant: np.ndarray | None) -> MoneyComparison | None:
    if control is None or variant is None:
        return None
    return MoneyComparison(float(np.mean(variant > control)),
                           float(np.mean(np.maximum(control - variant, 0.0))))
