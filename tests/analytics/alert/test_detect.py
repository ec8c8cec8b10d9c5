"""The robust same-weekday z-score, by hand."""

from __future__ import annotations

import pytest

from voronka.analytics.alert.detect import judge, robust_z


def test_robust_z_by_hand():
    # median 100, |deviations| 0 4 4 2 2 0 → MAD 2, spread 1.4826 · 2 = 2.9652 (the floor
    # 100 · 0.01 ÷ 3.5 is lower)
    median, spread, z = robust_z(80, [100, 104, 96, 102, 98, 100], min_change=0.01)
    assert (median, spread) == (100, pytest.approx(2.9652))
    assert z == pytest.approx(-20 / 2.9652)
    # with the default 20 % the floor 100 · 0.2 ÷ 3.5 = 5.714 is the spread
    assert robust_z(80, [100, 104, 96, 102, 98, 100])[1] == pytest.approx(20 / 3.5)


def test_a_sharp_drop_alerts_and_a_small_one_does_not():
    history = [100, 104, 96, 102, 98, 100]
    drop = judge(75, history)
    assert drop.alert and drop.change == -25 and drop.change_pct == pytest.approx(-25.0)
    assert drop.z_score == pytest.approx(-25 / (20 / 3.5))
    assert not judge(95, history).alert  # z = −0.875
    # noisy history: MAD 20 → spread 29.65, so even a 40 % drop is within the noise
    assert not judge(60, [100, 120, 80, 100, 130, 70]).alert
    # a steady series: −10 % is a big z on the MAD alone, but under min_change
    assert not judge(90, [100, 100.5, 99.5, 100, 100, 100]).alert


def test_flat_history_uses_the_relative_floor():
    # MAD 0: spread = 10 · 0.2 ÷ 3.5 = 0.5714…, so 6 vs 10 is z = −7 and a 40 % drop
    verdict = judge(6, [10, 10, 10])
    assert verdict.z_score == pytest.approx(-7.0)
    assert verdict.alert
    assert not judge(9, [10, 10, 10]).alert  # −10 %: under min_change


def test_direction_follows_the_metric():
    rise = judge(15, [10, 10, 10], higher_is_better=False)  # a cost that jumped 50 %
    assert rise.alert
    assert not judge(15, [10, 10, 10]).alert
    assert not judge(5, [10, 10, 10], higher_is_better=False).alert


def test_too_little_history_never_alerts():
    assert not judge(0, [10, None, 10]).alert
    assert judge(None, [10, 10, 10]).z_score is None
