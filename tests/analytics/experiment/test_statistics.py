"""The experiment statistics against library outputs, integrals and hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_chisquare,
    proportions_ztest,
)

from voronka.analytics.experiment import bayes, frequentist, power, sequential
from voronka.analytics.experiment.summary import VariantSummary


def summary(name: str, values: list[float], converted: list[bool]) -> VariantSummary:
    """The sums the engine would compute from these units."""
    checks = [v for v, c in zip(values, converted, strict=True) if c]
    return VariantSummary(name, len(values), sum(converted), sum(values),
                          sum(v * v for v in values), sum(checks), sum(c * c for c in checks))


def test_two_proportions_matches_statsmodels_and_hand_computation():
    a, b = VariantSummary("a", 4, 1), VariantSummary("b", 4, 3)
    found = frequentist.two_proportions(a, b)
    # By hand: pooled rate 1/2, se = √(¼ · (¼ + ¼)) = √⅛, z = ½ ÷ √⅛ = √2, p = 2(1 − Φ(√2)).
    assert found.statistic == pytest.approx(math.sqrt(2))
    assert found.p_value == pytest.approx(0.1572992, abs=1e-7)

    a, b = VariantSummary("a", 2000, 210), VariantSummary("b", 1900, 251)
    found = frequentist.two_proportions(a, b, alpha=0.05)
    z, p = proportions_ztest([251, 210], [1900, 2000])  # statsmodels 0.14, pooled variance
    low, high = confint_proportions_2indep(251, 1900, 210, 2000, method="wald")
    assert (found.statistic, found.p_value) == (pytest.approx(z), pytest.approx(p))
    assert (found.low, found.high) == (pytest.approx(low), pytest.approx(high))
    assert found.lift == pytest.approx((251 / 1900) / (210 / 2000) - 1)


def test_chi_square_of_three_variants_matches_statsmodels():
    variants = [VariantSummary("a", 500, 40), VariantSummary("b", 520, 61),
                VariantSummary("c", 480, 38)]
    found = frequentist.chi_square(variants)
    statistic, p_value, _ = proportions_chisquare([40, 61, 38], [500, 520, 480])
    assert (found.statistic, found.dof, found.p_value) == (
        pytest.approx(statistic), 2, pytest.approx(p_value))
    two = frequentist.chi_square(variants[:2])
    z = frequentist.two_proportions(*variants[:2]).statistic
    assert two.statistic == pytest.approx(z**2)  # for 2 × 2 tables χ² = z²


def test_welch_from_sums_matches_scipy_on_the_raw_values():
    control = [120.0, 0.0, 0.0, 310.5, 80.0, 0.0, 45.0]
    variant = [200.0, 150.0, 0.0, 390.0, 0.0, 510.0]
    a = summary("a", control, [v > 0 for v in control])
    b = summary("b", variant, [v > 0 for v in variant])
    found = frequentist.welch(a.units, a.value_mean, a.value_var,
                              b.units, b.value_mean, b.value_var)
    reference = stats.ttest_ind(variant, control, equal_var=False)  # scipy 1.17
    assert found.statistic == pytest.approx(reference.statistic)
    assert found.p_value == pytest.approx(reference.pvalue)
    interval = reference.confidence_interval(0.95)
    assert (found.low, found.high) == (pytest.approx(interval.low), pytest.approx(interval.high))


def test_holm_matches_statsmodels():
    p_values = [0.01, 0.04, 0.03, 0.005, None, 0.5]
    present = [p for p in p_values if p is not None]
    reference = list(multipletests(present, method="holm")[1])
    found = frequentist.holm(p_values)
    assert found[4] is None
    assert [p for p in found if p is not None] == pytest.approx(reference)
    # By hand: sorted 0.005·5, 0.01·4, 0.03·3, 0.04·2 → 0.09, 0.5·1; made monotone.
    assert found == pytest.approx([0.04, 0.09, 0.09, 0.025, None, 0.5])


def _integral_greater(a: tuple[int, int], b: tuple[int, int]) -> float:
    """P(X_b > X_a) = ∫ f_b(x) F_a(x) dx by adaptive quadrature (an independent route)."""
    fa, fb = stats.beta(*a), stats.beta(*b)
    return integrate.quad(lambda x: fb.pdf(x) * fa.cdf(x), 0, 1, limit=200, epsabs=1e-12)[0]


def _integral_loss(a: tuple[int, int], b: tuple[int, int]) -> float:
    """E[max(X_a − X_b, 0)] = ∫ f_a(x) (x F_b(x) − E[X_b] F_{b+1}(x)) dx by quadrature."""
    fa, fb = stats.beta(*a), stats.beta(*b)
    fb_plus = stats.beta(b[0] + 1, b[1])
    mean_b = b[0] / (b[0] + b[1])
    inner = lambda x: x * fb.cdf(x) - mean_b * fb_plus.cdf(x)  # noqa: E731
    return integrate.quad(lambda x: fa.pdf(x) * inner(x), 0, 1, limit=200, epsabs=1e-12)[0]


@pytest.mark.parametrize(("a", "b"), [((2, 4), (4, 2)), ((41, 961), (53, 949)),
                                      ((11, 91), (9, 93))])
def test_beta_binomial_closed_forms_match_numerical_integrals(a, b):
    assert bayes.probability_greater(a, b) == pytest.approx(_integral_greater(a, b), abs=1e-9)
    assert bayes.expected_loss(a, b) == pytest.approx(_integral_loss(a, b), abs=1e-9)
    # Evan Miller's symmetric identity: P(B > A) + P(A > B) = 1 for continuous posteriors.
    assert bayes.probability_greater(a, b) + bayes.probability_greater(b, a) == pytest.approx(1)


def test_probability_best_of_two_is_the_probability_to_beat():
    a, b = VariantSummary("a", 1000, 40), VariantSummary("b", 1000, 52)
    best = bayes.probability_best([a, b])
    beat = bayes.probability_greater(bayes.beta_parameters(a), bayes.beta_parameters(b))
    assert best[1] == pytest.approx(beat, abs=1e-6)
    assert sum(best) == pytest.approx(1.0)


def test_sample_size_for_two_proportions_by_hand_and_statsmodels():
    # Hand computation (Fleiss et al. 2003, eq. 4.14): p̄ = 0.11, z = 1.959964, 0.841621;
    # (1.959964·√(2·0.11·0.89) + 0.841621·√(0.09 + 0.1056))² ÷ 0.02² = 3840.8 → 3841.
    assert power.proportions_sample_size(0.10, 0.12) == 3841
    # statsmodels' arcsine (Cohen's h) approximation lands within 1 % of it.
    h = proportion_effectsize(0.12, 0.10)
    assert NormalIndPower().solve_power(h, alpha=0.05, power=0.8) == pytest.approx(3841,
                                                                                     rel=0.01)
    rise = power.proportions_mde(0.10, 3841)
    assert 0.0199 < rise <= 0.02  # the inverse: 3 841 units detect just under +2 points


def test_sample_size_for_means_textbook():
    # Chow, Shao & Wang (2008) §3.2: effect size 0.5, α = 0.05, power 0.8 → 2·(2.8016)²/0.25
    # = 62.8, so 63 per group (64 with the t correction they also give).
    assert power.means_sample_size(1.0, 0.5) == 63
    assert power.means_mde(1.0, 63) == pytest.approx(2.801585 * math.sqrt(2 / 63), rel=1e-6)


def test_mixture_likelihood_ratio_by_hand():
    # V = 0.125, τ = 0.5, θ̂ = 0.5: √(0.125/0.375) · exp(0.25·0.25 / (2·0.125·0.375)) = 1.124525
    assert sequential.mixture_likelihood_ratio(0.5, 0.125, 0.5) == pytest.approx(1.124525,
                                                                                  rel=1e-6)
    looks = sequential.always_valid([(4, 0.5, 0.125), (8, 0.5, 0.09375), (12, 0.0, 0.05)], 0.5)
    # second look: √(0.09375/0.34375) · exp(0.0625 / (2·0.09375·0.34375)) = 1.377204;
    # the third look (no effect) cannot raise the running minimum.
    assert [look.p_value for look in looks] == pytest.approx(
        [1 / 1.124525, 1 / 1.377204, 1 / 1.377204], rel=1e-6)


def _peeking_false_alarms(seed: int) -> tuple[float, float]:
    """A/A tests looked at daily: share stopped by naive z-tests and by the mSPRT."""
    rng = np.random.default_rng(seed)
    experiments, days, per_day, rate = 400, 30, 100, 0.1
    wins = rng.binomial(per_day, rate, size=(experiments, days, 2)).cumsum(axis=1)
    units = per_day * np.arange(1, days + 1)
    naive = msprt = 0
    for e in range(experiments):
        looks, naive_stop = [], False
        for d in range(days):
            a = VariantSummary("a", int(units[d]), int(wins[e, d, 0]))
            b = VariantSummary("b", int(units[d]), int(wins[e, d, 1]))
            naive_stop |= frequentist.two_proportions(a, b).p_value < 0.05
            pa, pb = a.rate, b.rate
            looks.append((2 * a.units, pb - pa, pa * (1 - pa) / a.units + pb * (1 - pb) / b.units))
        naive += naive_stop
        msprt += sequential.always_valid(looks, 0.1 * rate)[-1].p_value <= 0.05
    return naive / experiments, msprt / experiments


def test_msprt_keeps_false_winners_under_alpha_where_daily_peeking_does_not():
    naive, msprt = _peeking_false_alarms(seed=2017)
    # Johari et al. (2017) Fig. 1: peeking at a 5 % z-test makes several times more false
    # winners; the always-valid p-value stays under 5 % (binomial slack for 400 runs: +2 %).
    assert naive > 0.15
    assert msprt <= 0.05 + 0.02
