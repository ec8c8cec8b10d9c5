"""``ABTest``: every experiment figure of A/B/n variants from their summaries.

Fit it on one ``VariantSummary`` per variant (the first, or the one named ``control``, is the
control) and, for the peeking guard, on the cumulative summaries after each look (e.g. each
day). It reports, for conversion, value per unit and average check:

* frequentist: difference with confidence interval, z- or Welch t-test, Holm-adjusted p-value
  over the k − 1 comparisons with the control, and the chi-square test of all variants;
* Bayesian: probability to beat the control, expected loss, probability to be the best;
* planning: units per variant needed for the minimum effect of interest, and the smallest
  effect detectable with the units so far;
* sequential: the mSPRT always-valid p-value, and a verdict "may stop" / "keep running".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from voronka.analytics.experiment import bayes, frequentist, power, sequential
from voronka.analytics.experiment.summary import VariantSummary

CONVERSION, VALUE, CHECK = "conversion", "value_per_unit", "average_check"
FIGURES = (CONVERSION, VALUE, CHECK)
STOP, KEEP_RUNNING = "may_stop", "keep_running"


def _figure(v: VariantSummary, figure: str) -> tuple[int, float | None, float | None]:
    """(n, mean, sample variance) of ``figure`` for ``v``."""
    if figure == CONVERSION:
        rate = v.rate
        return v.units, rate, None if rate is None else rate * (1 - rate)
    if figure == VALUE:
        return v.units, v.value_mean, v.value_var
    return v.conversions, v.check_mean, v.check_var


class ABTest:
    """A/B/n test of conversion, value per unit and average check.

    Parameters
    ----------
    alpha : float
        Level of every two-sided test (family-wise, over the comparisons with the control).
    power : float
        Power the sample-size plan aims at.
    mde : float
        Minimum effect of interest, relative to the control (0.1 = a 10 % lift): the sample
        size plan detects it, and the mSPRT mixes over effects of this size (τ = mde × the
        control's figure).
    primary : str
        The figure the verdict is about: conversion, value_per_unit or average_check.
    seed : int
        Seed of the Monte Carlo draws of the money comparisons.
    burn_in : int
        Looks where an arm has fewer units (conversions, for the average check) are skipped
        by the peeking guard: its normal approximation needs a few dozen units per arm.

    Attributes
    ----------
    variants_ : list of dict
        Each variant's units, conversions, rate, value per unit and average check.
    comparisons_ : list of dict
        One per (variant other than the control, figure).
    probability_best_ : list of float
        P(each variant has the highest conversion rate).
    chi_square_ : dict or None
        Pearson's test that every variant converts alike.
    plan_ : dict
        Sample size for ``mde`` and the effect detectable now, for the primary figure.
    verdict_ : dict
        ``decision`` (may_stop / keep_running), the reason in English and Russian.

    References
    ----------
    Johari, R., Koomen, P., Pekelis, L. & Walsh, D. (2017). Peeking at A/B tests: why it
    matters, and what to do about it. *KDD '17*, 1517–1525.
    Holm, S. (1979). A simple sequentially rejective multiple test procedure.
    Miller, E. (2015). Formulas for Bayesian A/B testing.
    Fleiss, J. L., Levin, B. & Paik, M. C. (2003). *Statistical Methods for Rates and
    Proportions*, 3rd ed.
    """

    def __init__(self, alpha: float = 0.05, power: float = 0.8, mde: float = 0.1,
                 primary: str = CONVERSION, seed: int = 0, burn_in: int = 50) -> None:
        self.alpha = alpha
        self.power = power
        self.mde = mde
        self.primary = primary
        self.seed = seed
        self.burn_in = burn_in

    def _check(self, variants: Sequence[VariantSummary]) -> None:
        if not 0 < self.alpha < 1 or not 0 < self.power < 1 or self.mde <= 0:
            raise ValueError("alpha and power must lie in (0, 1) and mde must be positive")
        if self.primary not in FIGURES:
            raise ValueError(f"primary must be one of {', '.join(FIGURES)}")
        if len(variants) < 2:
            raise ValueError("an experiment needs at least two variants (control first)")
        if len({v.name for v in variants}) != len(variants):
            raise ValueError("variant names must be distinct")

    def fit(self, variants: Sequence[VariantSummary],
            looks: Sequence[Sequence[VariantSummary]] | None = None) -> ABTest:
        """Compare ``variants[1:]`` with ``variants[0]``.

        ``looks`` are the cumulative summaries after each look in time order, each aligned
        with ``variants``; without them the final figures are the only look.
        """
        self._check(variants)
        looks = list(looks) if looks else [list(variants)]
        self.figures_ = [f for f in FIGURES
                         if f == CONVERSION or any(v.value_sum or v.check_sum for v in variants)]
        control = variants[0]
        self.variants_ = [
            {"variant": v.name, "is_control": i == 0, "units": v.units,
             "conversions": v.conversions, "conversion_rate": v.rate,
             "value_per_unit": v.value_mean, "average_check": v.check_mean,
             "value_total": v.value_sum}
            for i, v in enumerate(variants)
        ]
        self.comparisons_ = []
        for figure in self.figures_:
            self.comparisons_ += self._compare(figure, control, variants, looks)
        self.probability_best_ = bayes.probability_best(variants)
        chi = frequentist.chi_square(variants)
        self.chi_square_ = None if chi is None else {
            "statistic": chi.statistic, "dof": chi.dof, "p_value": chi.p_value}
        self.plan_ = self._plan(control, variants)
        self.verdict_ = self._verdict(variants)
        return self

    # -- comparisons ---------------------------------------------------------------------

    def _compare(self, figure: str, control: VariantSummary,
                 variants: Sequence[VariantSummary],
                 looks: Sequence[Sequence[VariantSummary]]) -> list[dict[str, Any]]:
        rows = []
        control_draws = (None if figure == CONVERSION
                         else bayes.money_draws(control, figure, self.seed))
        for index, variant in enumerate(variants[1:], start=1):
            test = self._test(figure, control, variant)
            row: dict[str, Any] = {
                "figure": figure, "variant": variant.name, "control": control.name,
                "control_value": None, "variant_value": None, "difference": None,
                "lift": None, "ci_low": None, "ci_high": None, "statistic": None,
                "p_value": None,
            }
            if test is not None:
                row.update(control_value=test.control, variant_value=test.variant,
                           difference=test.difference, lift=test.lift, ci_low=test.low,
                           ci_high=test.high, statistic=test.statistic, p_value=test.p_value)
            row.update(self._bayes(figure, control, variant, control_draws, index))
            row["always_valid_p"] = self._sequential(figure, looks, index)
            rows.append(row)
        adjusted = frequentist.holm([r["p_value"] for r in rows])
        for row, p in zip(rows, adjusted, strict=True):
            row["p_adjusted"] = p
            row["significant"] = p is not None and p <= self.alpha
        return rows

    def _test(self, figure: str, control: VariantSummary,
              variant: VariantSummary) -> frequentist.Difference | None:
        if figure == CONVERSION:
            return frequentist.two_proportions(control, variant, self.alpha)
        na, ma, va = _figure(control, figure)
        nb, mb, vb = _figure(variant, figure)
        return frequentist.welch(na, ma, va, nb, mb, vb, self.alpha)

    def _bayes(self, figure: str, control: VariantSummary, variant: VariantSummary,
               control_draws: Any, index: int) -> dict[str, float | None]:
        if figure == CONVERSION:
            a, b = bayes.beta_parameters(control), bayes.beta_parameters(variant)
            return {"probability_to_beat_control": bayes.probability_greater(a, b),
                    "expected_loss": bayes.expected_loss(a, b)}
        found = bayes.compare_money(control_draws,
                                    bayes.money_draws(variant, figure, self.seed + index))
        if found is None:
            return {"probability_to_beat_control": None, "expected_loss": None}
        return {"probability_to_beat_control": found.probability_to_beat,
                "expected_loss": found.expected_loss}

    def _sequential(self, figure: str, looks: Sequence[Sequence[VariantSummary]],
                    index: int) -> float | None:
        series = []
        for look in looks:
            na, ma, va = _figure(look[0], figure)
            nb, mb, vb = _figure(look[index], figure)
            if (ma is None or mb is None or va is None or vb is None
                    or min(na, nb) < max(self.burn_in, 2)):
                continue
            series.append((na + nb, mb - ma, va / na + vb / nb))
        if not series:
            return None
        _, control_mean, _ = _figure(looks[-1][0], figure)
        scale = abs(control_mean or 0.0) * self.mde
        if scale == 0:
            return None
        return sequential.always_valid(series, scale)[-1].p_value

    # -- planning and verdict --------------------------------------------------------------

    def _plan(self, control: VariantSummary,
              variants: Sequence[VariantSummary]) -> dict[str, Any]:
        comparisons = len(variants) - 1
        level = self.alpha / comparisons
        n_c, mean, var = _figure(control, self.primary)
        reached = min(_figure(v, self.primary)[0] for v in variants)
        plan: dict[str, Any] = {"figure": self.primary, "baseline": mean, "mde": self.mde,
                                "alpha_per_comparison": level, "power": self.power,
                                "units_needed": None, "units_reached": reached,
                                "mde_now": None}
        if mean is None or var is None or mean == 0:
            return plan
        target = mean * (1 + self.mde)
        if self.primary == CONVERSION:
            if 0 < mean < 1 and target < 1:
                plan["units_needed"] = power.proportions_sample_size(mean, target, level,
                                                                     self.power)
            rise = power.proportions_mde(mean, reached, level, self.power)
            plan["mde_now"] = None if rise is None else rise / mean
        elif var > 0:
            sd = var**0.5
            plan["units_needed"] = power.means_sample_size(sd, mean * self.mde, level,
                                                           self.power)
            shift = power.means_mde(sd, reached, level, self.power)
            plan["mde_now"] = None if shift is None else shift / abs(mean)
        return plan

    def _verdict(self, variants: Sequence[VariantSummary]) -> dict[str, Any]:
        level = self.alpha / (len(variants) - 1)
        primary = [r for r in self.comparisons_ if r["figure"] == self.primary]
        decided = [r for r in primary
                   if r["always_valid_p"] is not None and r["always_valid_p"] <= level]
        needed, reached = self.plan_["units_needed"], self.plan_["units_reached"]
        if decided:
            best = max(decided, key=lambda r: r["difference"] or 0.0)
            direction = "better" if (best["difference"] or 0) > 0 else "worse"
            word_ru = "лучше" if direction == "better" else "хуже"
            return {"decision": STOP, "variant": best["variant"], "direction": direction,
                    "reason_en": f"{best['variant']} is {direction} than the control on "
                    f"{self.primary} (always-valid p = {best['always_valid_p']:.4f} ≤ "
                    f"{level:.4f}); the result holds however often it was looked at",
                    "reason_ru": f"вариант {best['variant']} {word_ru} контрольного по "
                    f"показателю {self.primary} (p = {best['always_valid_p']:.4f} ≤ "
                    f"{level:.4f} с поправкой на подглядывание); можно останавливать"}
        if needed is not None and reached >= needed:
            return {"decision": STOP, "variant": None, "direction": None,
                    "reason_en": f"the planned {needed} units per variant are reached and no "
                    f"variant differs: any effect on {self.primary} is likely smaller than "
                    f"{self.mde:.0%}",
                    "reason_ru": f"набран запланированный объём ({needed} на вариант), "
                    f"различий нет: эффект, если он есть, скорее всего меньше {self.mde:.0%}"}
        more = "" if needed is None else f"; about {needed - reached} more units per variant"
        more_ru = "" if needed is None else f"; нужно ещё около {needed - reached} на вариант"
        return {"decision": KEEP_RUNNING, "variant": None, "direction": None,
                "reason_en": "no variant differs from the control yet at a level that "
                f"survives peeking{more}",
                "reason_ru": f"различия с контрольным вариантом пока не доказаны{more_ru}; "
                "продолжайте эксперимент"}

    def as_dict(self) -> dict[str, Any]:
        """Every fitted figure as plain JSON-ready values."""
        return {"variants": self.variants_, "comparisons": self.comparisons_,
                "probability_best": dict(zip([v["variant"] for v in self.variants_],
                                             self.probability_best_, strict=True)),
                "chi_square": self.chi_square_, "plan": self.plan_, "verdict": self.verdict_,
                "settings": {"alpha": self.alpha, "power": self.power, "mde": self.mde,
                             "primary": self.primary, "seed": self.seed,
                             "burn_in": self.burn_in}}
