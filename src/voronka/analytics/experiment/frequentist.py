"""Fixed-horizon tests of a variant against the control, and the overall test of k variants.

* conversion: the two-proportion z-test with the pooled variance (as statsmodels'
  ``proportions_ztest``) and a Wald confidence interval of the difference;
* all variants at once: Pearson's chi-square test of the k × 2 table (no continuity
  correction, as ``scipy.stats.chi2_contingency(correction=False)``);
* value per unit and average check: Welch's unequal-variance t-test (Welch 1947) from the
  summaries, with the Welch–Satterthwaite degrees of freedom;
* several variants against one control: Holm's step-down correction (Holm 1979).

References
----------
Welch, B. L. (1947). The generalization of "Student's" problem when several different
population variances are involved. *Biometrika* 34(1–2), 28–35.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
Journal of Statistics* 6(2), 65–70.
Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., §3.1 (difference of proportions).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from voronka.analytics.experiment.summary import VariantSummary


@dataclass(frozen=True)
class Difference:
    """A variant minus the control: estimate, confidence interval, test statistic, p-value."""

    control: float
    variant: float
    difference: float
    low: float
    high: float
    statistic: float
    p_value: float

    @property
    def lift(self) -> float | None:
        """Relative change against the control (0.1 = +10 %)."""
        return self.difference / self.control if self.control else None


def two_proportions(control: VariantSummary, variant: VariantSummary,
                    alpha: float = 0.05) -> Difference | None:
    """Two-sided two-proportion z-test (pooled) and the Wald interval of the difference."""
    if not control.units or not variant.units:
        return None
    pa, pb = control.conversions / control.units, variant.conversions / variant.units
    pooled = (control.conversions + variant.conversions) / (control.units + variant.units)
    se_test = math.sqrt(pooled * (1 - pooled) * (1 / control.units + 1 / variant.units))
    se = math.sqrt(pa * (1 - pa) / control.units + pb * (1 - pb) / variant.units)
    half = stats.norm.ppf(1 - alpha / 2) * se
    if se_test == 0:
        return Difference(pa, pb, pb - pa, pb - pa - half, pb - pa + half, 0.0, 1.0)
    z = (pb - pa) / se_test
    return Difference(pa, pb, pb - pa, pb - pa - half, pb - pa + half, z,
                      float(2 * stats.norm.sf(abs(z))))


def welch(control_n: int, control_mean: float | None, control_var: float | None,
          variant_n: int, variant_mean: float | None, variant_var: float | None,
          alpha: float = 0.05) -> Difference | None:
    """Welch's t-test of two means given as (n, mean, sample variance)."""
    if (control_mean is None or variant_mean is None or control_var is None
            or variant_var is None):
        return None
    va, vb = control_var / control_n, variant_var / variant_n
    se = math.sqrt(va + vb)
    diff = variant_mean - control_mean
    if se == 0:
        return Difference(control_mean, variant_mean, diff, diff, diff, 0.0,
                          1.0 if diff == 0 else 0.0)
    df = (va + vb) ** 2 / (va**2 / (control_n - 1) + vb**2 / (variant_n - 1))
    t = diff / se
    half = stats.t.ppf(1 - alpha / 2, df) * se
    return Difference(control_mean, variant_mean, diff, diff - half, diff + half, t,
                      float(2 * stats.t.sf(abs(t), df)))


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    dof: int
    p_value: float


def chi_square(variants: Sequence[VariantSummary]) -> ChiSquare | None:
    """Pearson's chi-square test that every variant converts at the same rate."""
    used = [v for v in variants if v.units]
    conversions = sum(v.conversions for v in used)
    units = sum(v.units for v in used)
    if len(used) < 2 or conversions in (0, units):
        return None
    table = [[v.conversions, v.units - v.conversions] for v in used]
    result = stats.chi2_contingency(table, correction=False)
    return ChiSquare(float(result.statistic), int(result.dof), float(result.pvalue))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values (monotone, capped at 1); ``None`` stays ``None``."""
    present = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(present):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[index] = running
    return adjusted
