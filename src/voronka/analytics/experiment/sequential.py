"""A guard against peeking: always-valid p-values by the mixture SPRT (mSPRT).

A fixed-horizon p-value is valid only at the sample size planned in advance; looking at it
every day and stopping at the first p < 0.05 makes false winners far more often than 5 %.
The mSPRT of Johari et al. (2017) mixes the likelihood ratio of a normal estimate θ̂ (the
difference of two means, with variance V) over a N(0, τ²) prior on the effect:

    Λ = √(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²)))

and the always-valid p-value after look t is p_t = min(p_{t−1}, 1 / Λ_t). Whatever the
number of looks, P(some p_t ≤ α) ≤ α under no effect, so "stop when p_t ≤ α" is safe.

References
----------
Johari, R., Koomen, P., Pekelis, L. & Walsh, D. (2017). Peeking at A/B tests: why it
matters, and what to do about it. *Proc. 23rd ACM SIGKDD*, 1517–1525.
https://doi.org/10.1145/3097983.3097992
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


def mixture_likelihood_ratio(estimate: float, variance: float, mixture_sd: float) -> float:
    """Λ of the normal mixture SPRT for an estimate with known ``variance``."""
    if variance <= 0:
        return 1.0
    tau2 = mixture_sd**2
    log_ratio = (0.5 * math.log(variance / (variance + tau2))
                 + tau2 * estimate**2 / (2 * variance * (variance + tau2)))
    return math.exp(min(log_ratio, 700.0))


@dataclass(frozen=True)
class Look:
    """One look at the data: the estimate, its variance, and the always-valid p so far."""

    units: int
    estimate: float
    variance: float
    p_value: float


def always_valid(looks: Iterable[tuple[int, float, float]], mixture_sd: float) -> list[Look]:
    """Always-valid p-values for looks ``(units, estimate, variance)`` in time order."""
    out: list[Look] = []
    running = 1.0
    for units, estimate, variance in looks:
        running = min(running, 1.0 / mixture_likelihood_ratio(estimate, variance, mixture_sd))
        out.append(Look(units, estimate, variance, running))
    return out
