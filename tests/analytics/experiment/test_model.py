"""ABTest: the verdict, the plan and the correction for several variants."""

from __future__ import annotations

import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from voronka.analytics.experiment import ABTest, VariantSummary
from voronka.analytics.experiment.power import proportions_sample_size


def test_three_variants_are_corrected_by_holm():
    variants = [VariantSummary("control", 3000, 300), VariantSummary("b", 3000, 352),
                VariantSummary("c", 3000, 341)]
    test = ABTest().fit(variants)
    conversion = [c for c in test.comparisons_ if c["figure"] == "conversion"]
    raw = [proportions_ztest([v.conversions, 300], [v.units, 3000])[1] for v in variants[1:]]
    assert [c["p_value"] for c in conversion] == pytest.approx(raw)
    assert [c["p_adjusted"] for c in conversion] == pytest.approx(
        list(multipletests(raw, method="holm")[1]))  # statsmodels 0.14
    assert test.figures_ == ["conversion"]  # no values given: no money figures
    assert sum(test.probability_best_) == pytest.approx(1.0)
    assert test.probability_best_[1] > test.probability_best_[2] > test.probability_best_[0]


def test_a_clear_winner_may_stop():
    looks = [[VariantSummary("a", n, n // 10), VariantSummary("b", n, n * 14 // 100)]
             for n in (1000, 2000, 3000, 4000)]
    test = ABTest(mde=0.2).fit(looks[-1], looks)
    assert test.verdict_["decision"] == "may_stop"
    assert (test.verdict_["variant"], test.verdict_["direction"]) == ("b", "better")
    row = test.comparisons_[0]
    assert row["always_valid_p"] <= 0.05
    assert row["always_valid_p"] >= row["p_value"]  # the price of being allowed to peek


def test_no_difference_before_the_planned_size_keeps_running():
    variants = [VariantSummary("a", 800, 80), VariantSummary("b", 800, 82)]
    test = ABTest(mde=0.1).fit(variants)
    needed = proportions_sample_size(0.10, 0.11)  # plan for a 10 % lift of 10 %
    assert test.plan_["units_needed"] == needed
    assert test.plan_["units_reached"] == 800
    assert test.verdict_["decision"] == "keep_running"
    assert str(needed - 800) in test.verdict_["reason_en"]
    assert test.plan_["mde_now"] > 0.1  # 800 units only detect a bigger lift


def test_no_difference_at_the_planned_size_may_stop_without_a_winner():
    variants = [VariantSummary("a", 5000, 500), VariantSummary("b", 5000, 503)]
    test = ABTest(mde=0.2).fit(variants)
    assert test.plan_["units_needed"] == proportions_sample_size(0.10, 0.12) == 3841
    assert test.verdict_["decision"] == "may_stop"
    assert test.verdict_["variant"] is None


def test_money_figures_when_values_are_given():
    a = VariantSummary("a", 100, 10, 10_000.0, 10_400_000.0, 10_000.0, 10_400_000.0)
    b = VariantSummary("b", 100, 20, 19_000.0, 18_500_000.0, 19_000.0, 18_500_000.0)
    test = ABTest(seed=7).fit([a, b])
    assert test.figures_ == ["conversion", "value_per_unit", "average_check"]
    value = next(c for c in test.comparisons_ if c["figure"] == "value_per_unit")
    assert (value["control_value"], value["variant_value"]) == (100.0, 190.0)
    again = next(c for c in ABTest(seed=7).fit([a, b]).comparisons_
                 if c["figure"] == "value_per_unit")
    assert again["probability_to_beat_control"] == value["probability_to_beat_control"]
    assert 0.5 < value["probability_to_beat_control"] <= 1.0


@pytest.mark.parametrize(("options", "message"), [
    ({"alpha": 1.5}, "alpha"), ({"primary": "speed"}, "primary")])
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        ABTest(**options).fit([VariantSummary("a", 10, 1), VariantSummary("b", 10, 2)])


def test_one_variant_is_refused():
    with pytest.raises(ValueError, match="at least two variants"):
        ABTest().fit([VariantSummary("a", 10, 1)])


def test_burn_in_keeps_tiny_early_looks_out_of_the_peeking_guard():
    # a first look of 10 vs 10 units with 1 and 9 conversions is an extreme estimate from a
    # sample far too small for the normal approximation; the final look alone is sober
    early = [VariantSummary("a", 10, 1), VariantSummary("b", 10, 9)]
    final = [VariantSummary("a", 400, 40), VariantSummary("b", 400, 52)]
    guarded = ABTest().fit(final, [early, final]).comparisons_[0]["always_valid_p"]
    alone = ABTest().fit(final, [final]).comparisons_[0]["always_valid_p"]
    naive = ABTest(burn_in=1).fit(final, [early, final]).comparisons_[0]["always_valid_p"]
    assert guarded == alone
    assert naive < guarded
