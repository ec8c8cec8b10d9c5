"""How many units each variant needs, and the smallest effect a sample can detect.

Two-sided tests at level ``alpha`` with power ``power``, equal allocation. Proportions use
the normal-approximation formula without continuity correction (Fleiss, Levin & Paik 2003,
eq. 4.14); means use the two-sample z formula with a common standard deviation. With k > 2
variants the level is split Bonferroni-wise over the k − 1 comparisons with the control
(planning for Holm's procedure, which is never less powerful).

References
----------
Fleiss, J. L., Levin, B. & Paik, M. C. (2003). *Statistical Methods for Rates and
Proportions*, 3rd ed., §4.2. Wiley.
Chow, S.-C., Shao, J. & Wang, H. (2008). *Sample Size Calculations in Clinical Research*,
2nd ed., §3.2 and §4.2. Chapman & Hall.
"""

from __future__ import annotations

import math

from scipy import optimize, stats


def _z(alpha: float, power: float) -> tuple[float, float]:
    return float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))


def proportions_sample_size(baseline: float, target: float, alpha: float = 0.05,
                            power: float = 0.8) -> int:
    """Units per variant to tell ``target`` from ``baseline`` (rates in 0..1)."""
    if not 0 < baseline < 1 or not 0 < target < 1 or baseline == target:
        raise ValueError("rates must lie strictly between 0 and 1 and differ")
    z_alpha, z_power = _z(alpha, power)
    mean = (baseline + target) / 2
    top = (z_alpha * math.sqrt(2 * mean * (1 - mean))
           + z_power * math.sqrt(baseline * (1 - baseline) + target * (1 - target)))
    return math.ceil(top**2 / (target - baseline) ** 2)


def _power_units(baseline: float, target: float, alpha: float, power: float) -> float:
    z_alpha, z_power = _z(alpha, power)
    mean = (baseline + target) / 2
    top = (z_alpha * math.sqrt(2 * mean * (1 - mean))
           + z_power * math.sqrt(baseline * (1 - baseline) + target * (1 - target)))
    return top**2 / (target - baseline) ** 2


def proportions_mde(baseline: float, units: int, alpha: float = 0.05,
                    power: float = 0.8) -> float | None:
    """The smallest absolute rise of ``baseline`` detectable with ``units`` per variant."""
    if not 0 < baseline < 1 or units < 2:
        return None
    top = 1 - 1e-9
    if _power_units(baseline, top, alpha, power) > units:
        return None  # not even a rise to 100 % would be detected
    target = optimize.brentq(lambda p: _power_units(baseline, p, alpha, power) - units,
                             baseline + 1e-9, top, xtol=1e-10)
    return float(target - baseline)


def means_sample_size(sd: float, difference: float, alpha: float = 0.05,
                      power: float = 0.8) -> int:
    """Units per variant to detect a shift ``difference`` of a mean with spread ``sd``."""
    if sd <= 0 or difference == 0:
        raise ValueError("sd must be positive and the difference non-zero")
    z_alpha, z_power = _z(alpha, power)
    return math.ceil(2 * (z_alpha + z_power) ** 2 * sd**2 / difference**2)


def means_mde(sd: float, units: int, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """The smallest shift of a mean detectable with ``units`` per variant."""
    if sd <= 0 or units < 2:
        return None
    z_alpha, z_power = _z(alpha, power)
    return (z_alpha + z_power) * sd * math.sqrt(2 / units)
