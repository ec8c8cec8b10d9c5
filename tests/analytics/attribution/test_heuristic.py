"""Rule-based models on journeys small enough to check by eye."""

from __future__ import annotations

import pytest

from voronka.analytics.attribution import (
    LastNonDirect,
    Paths,
    PositionBased,
    TimeDecay,
)

#: seo > email > ads > direct converts twice (value 100); direct alone once (value 10).
JOURNEYS = Paths.from_lists([["seo", "email", "ads", "direct"], ["direct"]],
                            conversions=[2, 1], value=[100, 10],
                            ages=[[6, 4, 2, 0], [0]])


def test_position_based_40_20_40():
    # First seo 0.4, middle email and ads 0.2 / 2 = 0.1 each, last direct 0.4; ×2 conversions.
    # direct alone: 1. Conversions: seo 0.8, email 0.2, ads 0.2, direct 0.8 + 1 = 1.8.
    model = PositionBased().fit(JOURNEYS)
    assert model.conversions_.to_dict() == pytest.approx(
        {"seo": 0.8, "email": 0.2, "ads": 0.2, "direct": 1.8}, rel=1e-12)
    assert model.value_.to_dict() == pytest.approx(
        {"seo": 40, "email": 10, "ads": 10, "direct": 50}, rel=1e-12)


def test_position_based_of_two_touches_scales_the_ends():
    # 30/10/60 on a two-touch journey: 30 : 60 scaled to 1 → 1/3 and 2/3.
    two = Paths.from_lists([["a", "b"]], conversions=[3])
    model = PositionBased(first=0.3, last=0.6).fit(two)
    assert model.conversions_.to_dict() == pytest.approx({"a": 1.0, "b": 2.0}, rel=1e-12)


def test_last_non_direct_skips_direct_unless_all_are():
    # Journey 1: ads is the last non-direct touch (2 conversions); journey 2 is all direct.
    model = LastNonDirect().fit(JOURNEYS)
    assert model.conversions_.to_dict() == {"ads": 2.0, "direct": 1.0, "email": 0.0,
                                            "seo": 0.0}


def test_time_decay_halves_per_half_life():
    # Half-life 2 days: ages 6, 4, 2, 0 weigh 1/8, 1/4, 1/2, 1 → / 15/8 = 1/15, 2/15, 4/15,
    # 8/15 of 2 conversions; direct alone gets its 1 conversion.
    model = TimeDecay(half_life_days=2).fit(JOURNEYS)
    assert model.conversions_.to_dict() == pytest.approx(
        {"seo": 2 / 15, "email": 4 / 15, "ads": 8 / 15, "direct": 16 / 15 + 1}, rel=1e-12)


def test_time_decay_needs_touch_times():
    with pytest.raises(ValueError, match="time decay needs the time of every touch"):
        TimeDecay().fit(Paths.from_lists([["a"]], conversions=[1]))
