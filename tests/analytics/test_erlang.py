"""Erlang C staffing maths, checked against independent computations and worked examples.

Every expected probability is recomputed here without the module's recursion: exactly,
with rational arithmetic, from the textbook closed form

    C(N, A) = (A^N/N!)·N/(N−A) / (Σ_{k<N} A^k/k! + (A^N/N!)·N/(N−A)),

or, for loads too large for that (A^N overflows a float near A = 145), from the same
closed form evaluated in logarithms with ``math.lgamma``. Plain functions only: no
fixtures, no database.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import pytest

from voronka.analytics.erlang import (
    StaffingAdvice,
    agents_needed,
    average_speed_of_answer,
    erlang_c,
    occupancy,
    offered_load,
    service_level,
)

#: Recursion against the exact closed form: both are one or two roundings from the truth.
EXACT_TOL = 1e-12
#: Recursion against the closed form in logarithms: lgamma(1000) ≈ 5900 carries ~1e-12 of
#: absolute error, which becomes that much relative error after exp.
LOG_FORM_REL_TOL = 1e-9
#: Figures quoted in the docs and below to four decimals.
QUOTED_TOL = 5e-5


def closed_form_c(agents: int, load: float) -> float:
    """Erlang C from the factorial closed form, in exact rational arithmetic."""
    a = Fraction(load)
    top = a**agents / math.factorial(agents) * Fraction(agents) / (agents - a)
    below = sum(a**k / math.factorial(k) for k in range(agents))
    return float(top / (below + top))


def log_closed_form_c(agents: int, load: float) -> float:
    """The same closed form evaluated in logarithms, for loads of hundreds of Erlangs."""
    log_terms = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents)]
    log_top = agents * math.log(load) - math.lgamma(agents + 1) + math.log(agents / (agents - load))
    peak = max([*log_terms, log_top])
    log_sum = peak + math.log(sum(math.exp(t - peak) for t in log_terms) + math.exp(log_top - peak))
    return math.exp(log_top - log_sum)


def closed_form_level(agents: int, load: float, aht: float, target: float) -> float:
    """P(wait <= target) from the closed-form C."""
    return 1.0 - closed_form_c(agents, load) * math.exp(-(agents - load) * target / aht)


# --- the recursion against the closed form -------------------------------------------------


@pytest.mark.parametrize("load", [0.25, 1.0, 2.75, 5.0, 7.3, 10.0, 19.9, 29.5])
def test_erlang_c_matches_closed_form_for_small_agent_counts(load):
    for agents in range(math.floor(load) + 1, 41):
        assert erlang_c(agents, load) == pytest.approx(
            closed_form_c(agents, load), abs=EXACT_TOL, rel=EXACT_TOL
        ), agents


def test_single_and_two_agent_queues_match_their_textbook_formulas():
    # M/M/1: a call waits exactly when the one agent is busy, P(W > 0) = ρ, and the mean
    # wait is ρ/(1 − ρ) handle times. M/M/2: C = A²/(2 + A) (Koole 2013, ch. 5).
    for rho in (0.1, 0.5, 0.9, 0.99):
        assert erlang_c(1, rho) == pytest.approx(rho, abs=EXACT_TOL)
        assert average_speed_of_answer(1, rho, 300) == pytest.approx(
            rho / (1 - rho) * 300, rel=EXACT_TOL
        )
    for load in (0.5, 1.0, 1.5, 1.99):
        assert erlang_c(2, load) == pytest.approx(load**2 / (2 + load), abs=EXACT_TOL)


# --- worked examples --------------------------------------------------------------------------


def test_classic_48_erlang_example():
    # The widely reprinted worked example: 360 calls per half hour, 4-minute handle time,
    # i.e. 720 calls/hour × 240 s / 3600 = 48 Erlangs, with 55 agents. Every number below
    # is recomputed here from the closed form: with 55 agents 23.87 % of calls wait, the
    # ASA is 8.18 s, 86.68 % are answered within 20 s and 84.59 % within 15 s.
    load = offered_load(720, 240)
    assert load == 48.0
    c55 = closed_form_c(55, load)
    assert c55 == pytest.approx(0.2387, abs=QUOTED_TOL)
    assert erlang_c(55, load) == pytest.approx(c55, abs=EXACT_TOL)
    assert service_level(55, load, 240, 20) == pytest.approx(
        closed_form_level(55, load, 240, 20), abs=EXACT_TOL
    )
    assert service_level(55, load, 240, 20) == pytest.approx(0.8668, abs=QUOTED_TOL)
    assert service_level(55, load, 240, 15) == pytest.approx(0.8459, abs=QUOTED_TOL)
    assert average_speed_of_answer(55, load, 240) == pytest.approx(c55 * 240 / 7, rel=EXACT_TOL)
    assert average_speed_of_answer(55, load, 240) == pytest.approx(8.1840, abs=QUOTED_TOL)
    assert occupancy(55, load) == pytest.approx(48 / 55, rel=EXACT_TOL)


def test_classic_example_needs_54_agents_for_80_in_20_seconds():
    # 55 agents is what the worked example staffs, but the Erlang C minimum for 80/20 is
    # 54: the closed form gives 81.72 % within 20 s with 54 agents and 75.18 % with 53.
    assert closed_form_level(54, 48.0, 240, 20) == pytest.approx(0.8172, abs=QUOTED_TOL)
    assert closed_form_level(53, 48.0, 240, 20) == pytest.approx(0.7518, abs=QUOTED_TOL)
    assert closed_form_level(54, 48.0, 240, 20) >= 0.8 > closed_form_level(53, 48.0, 240, 20)

    advice = agents_needed(720, 240, target_level=0.8, target_seconds=20)
    assert advice.agents == 54
    assert advice.load == 48.0
    assert advice.service_level == pytest.approx(
        closed_form_level(54, 48.0, 240, 20), abs=EXACT_TOL
    )
    assert advice.probability_of_waiting == pytest.approx(closed_form_c(54, 48.0), abs=EXACT_TOL)
    assert advice.average_speed_of_answer == pytest.approx(
        closed_form_c(54, 48.0) * 240 / 6, rel=EXACT_TOL
    )
    assert advice.occupancy == pytest.approx(48 / 54, rel=EXACT_TOL)
    assert service_level(53, 48.0, 240, 20) < 0.8


def test_classic_example_needs_55_agents_for_80_in_15_seconds():
    # With the stricter 15-second target, 54 agents answer only 79.29 % in time (closed
    # form), so 55 it is; 30 % shrinkage then schedules ceil(55 / 0.7) = ceil(78.57) = 79.
    assert closed_form_level(54, 48.0, 240, 15) < 0.8 <= closed_form_level(55, 48.0, 240, 15)
    advice = agents_needed(720, 240, target_level=0.8, target_seconds=15, shrinkage=0.3)
    assert (advice.agents, advice.scheduled_agents) == (55, 79)


def test_ten_erlang_example_with_shrinkage():
    # The "Erlang C made simple" example of Call Centre Helper: 100 calls in 30 minutes,
    # 3-minute handle time (10 Erlangs), 80/20, 30 % shrinkage → 14 agents, 20 scheduled.
    # Checked here from the closed form: 13 agents reach 79.56 %, 14 reach 88.84 %.
    assert offered_load(200, 180) == 10.0
    assert closed_form_level(13, 10.0, 180, 20) < 0.8 <= closed_form_level(14, 10.0, 180, 20)
    assert closed_form_level(14, 10.0, 180, 20) == pytest.approx(0.8884, abs=QUOTED_TOL)
    advice = agents_needed(200, 180, target_level=0.8, target_seconds=20, shrinkage=0.3)
    assert (advice.agents, advice.scheduled_agents) == (14, 20)
    assert advice.probability_of_waiting == pytest.approx(closed_form_c(14, 10.0), abs=EXACT_TOL)
    assert advice.probability_of_waiting == pytest.approx(0.1741, abs=QUOTED_TOL)


def test_five_erlang_example():
    # 100 calls/hour × 180 s = 5 Erlangs. Closed form: 7 agents answer 74.04 % within 20 s,
    # 8 agents 88.01 % (C = 0.1673, ASA = 10.04 s): 8 agents for 80/20.
    assert offered_load(100, 180) == 5.0
    assert closed_form_level(7, 5.0, 180, 20) == pytest.approx(0.7404, abs=QUOTED_TOL)
    assert closed_form_level(8, 5.0, 180, 20) == pytest.approx(0.8801, abs=QUOTED_TOL)
    advice = agents_needed(100, 180, target_level=0.8, target_seconds=20)
    assert advice == StaffingAdvice(
        agents=8,
        scheduled_agents=8,
        load=5.0,
        service_level=pytest.approx(closed_form_level(8, 5.0, 180, 20), abs=EXACT_TOL),
        average_speed_of_answer=pytest.approx(closed_form_c(8, 5.0) * 180 / 3, rel=EXACT_TOL),
        occupancy=pytest.approx(5 / 8, rel=EXACT_TOL),
        probability_of_waiting=pytest.approx(closed_form_c(8, 5.0), abs=EXACT_TOL),
    )


# --- large loads ------------------------------------------------------------------------------


def test_large_load_is_finite_and_matches_the_log_closed_form():
    load = 1000.0
    with pytest.raises(OverflowError):
        load**1001  # the naive closed form cannot even start in floating point
    previous = 1.0
    for agents in range(1001, 1101, 3):
        c = erlang_c(agents, load)
        assert math.isfinite(c) and 0.0 <= c <= 1.0
        assert c == pytest.approx(log_closed_form_c(agents, load), rel=LOG_FORM_REL_TOL)
        assert c < previous
        previous = c


def test_large_load_staffing_is_the_first_count_meeting_the_target():
    # 20,000 calls/hour × 180 s = 1000 Erlangs.
    advice = agents_needed(20_000, 180, target_level=0.8, target_seconds=20)
    assert advice.load == 1000.0
    n = advice.agents
    level = [
        1 - log_closed_form_c(k, 1000.0) * math.exp(-(k - 1000.0) * 20 / 180) for k in (n - 1, n)
    ]
    assert level[0] < 0.8 <= level[1]
    for value in (advice.service_level, advice.probability_of_waiting, advice.occupancy):
        assert math.isfinite(value) and 0.0 <= value <= 1.0
    assert math.isfinite(advice.average_speed_of_answer)


# --- shape ------------------------------------------------------------------------------------


def test_more_agents_mean_less_waiting():
    load, aht = 48.0, 240.0
    counts = range(49, 90)
    waits = [erlang_c(n, load) for n in counts]
    levels = [service_level(n, load, aht, 20) for n in counts]
    speeds = [average_speed_of_answer(n, load, aht) for n in counts]
    busy = [occupancy(n, load) for n in counts]
    assert all(a > b for a, b in zip(waits, waits[1:], strict=False))
    assert all(a < b for a, b in zip(levels, levels[1:], strict=False))
    assert all(a > b for a, b in zip(speeds, speeds[1:], strict=False))
    assert all(a > b for a, b in zip(busy, busy[1:], strict=False))


def test_longer_target_means_higher_service_level():
    levels = [service_level(54, 48.0, 240, t) for t in (0, 10, 20, 60, 600)]
    assert levels[0] == pytest.approx(1 - erlang_c(54, 48.0), abs=EXACT_TOL)
    assert all(a < b for a, b in zip(levels, levels[1:], strict=False))


def test_unstable_queue():
    for agents in (0, 30, 48):
        assert erlang_c(agents, 48.0) == 1.0
        assert service_level(agents, 48.0, 240, 20) == 0.0
        assert average_speed_of_answer(agents, 48.0, 240) == math.inf
        assert occupancy(agents, 48.0) == 1.0


def test_no_load():
    assert erlang_c(3, 0.0) == 0.0
    assert service_level(3, 0.0, 240, 0) == 1.0
    assert average_speed_of_answer(3, 0.0, 240) == 0.0
    assert occupancy(3, 0.0) == 0.0


def test_zero_calls_need_no_agents():
    expected = StaffingAdvice(
        agents=0,
        scheduled_agents=0,
        load=0.0,
        service_level=1.0,
        average_speed_of_answer=0.0,
        occupancy=0.0,
        probability_of_waiting=0.0,
    )
    assert agents_needed(0, 240, target_level=0.8, target_seconds=20) == expected
    # An hour without answered calls has no handle time either.
    assert agents_needed(0, 0, target_level=0.8, target_seconds=20, shrinkage=0.3) == expected


def test_occupancy_cap_adds_agents():
    # 54 agents meet 80/20 at 88.9 % occupancy; a cap of 85 % needs ceil(48 / 0.85) = 57.
    advice = agents_needed(720, 240, target_level=0.8, target_seconds=20, max_occupancy=0.85)
    assert advice.agents == math.ceil(48 / 0.85) == 57
    assert advice.occupancy <= 0.85 < occupancy(56, 48.0)
    # A loose cap changes nothing; a cap met exactly (48 / 60 = 0.8) is met.
    loose = agents_needed(720, 240, target_level=0.8, target_seconds=20, max_occupancy=0.95)
    assert loose.agents == 54
    exact = agents_needed(720, 240, target_level=0.8, target_seconds=20, max_occupancy=0.8)
    assert exact.agents == 60


@pytest.mark.parametrize(
    ("calls", "shrinkage", "agents", "scheduled"),
    [
        (720, 0.0, 54, 54),  # no shrinkage: scheduled = raw
        (720, 0.3, 54, 78),  # 54 / 0.7 = 77.14 → 78
        (720, 0.1, 54, 60),  # 54 / 0.9 = 60 exactly
        (720, 0.2, 54, 68),  # 54 / 0.8 = 67.5 → 68
        (200, 0.3, 14, 20),  # 14 / 0.7 = 20 exactly
        # 340 calls/hour × 180 s = 17 Erlangs → 21 agents; 21 / 0.7 is exactly 30, but in
        # floating point 21 / (1 − 0.3) = 30.000000000000004, which a bare ceil makes 31.
        (340, 0.3, 21, 30),
    ],
)
def test_shrinkage_rounds_scheduled_staff_up(calls, shrinkage, agents, scheduled):
    aht = 240 if calls == 720 else 180
    advice = agents_needed(calls, aht, target_level=0.8, target_seconds=20, shrinkage=shrinkage)
    assert (advice.agents, advice.scheduled_agents) == (agents, scheduled)
    assert scheduled == math.ceil(Fraction(agents) / (1 - Fraction(str(shrinkage))))


def test_advice_is_frozen():
    advice = agents_needed(100, 180, target_level=0.8, target_seconds=20)
    with pytest.raises(dataclasses.FrozenInstanceError):
        advice.agents = 1  # type: ignore[misc]


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: offered_load(-1, 180), "calls_per_hour"),
        (lambda: offered_load(100, -180), "average_handle_seconds"),
        (lambda: offered_load(math.nan, 180), "calls_per_hour"),
        (lambda: erlang_c(-1, 5.0), "agents"),
        (lambda: erlang_c(2.5, 5.0), "agents"),  # type: ignore[arg-type]
        (lambda: erlang_c(5, -0.1), "load"),
        (lambda: erlang_c(5, math.inf), "load"),
        (lambda: service_level(8, 5.0, 0, 20), "average_handle_seconds"),
        (lambda: service_level(8, 5.0, 180, -1), "target_seconds"),
        (lambda: average_speed_of_answer(8, 5.0, -3), "average_handle_seconds"),
        (lambda: occupancy(8, -5.0), "load"),
        (lambda: agents_needed(-5, 180, target_level=0.8, target_seconds=20), "calls_per_hour"),
        (lambda: agents_needed(100, 0, target_level=0.8, target_seconds=20), "average_handle"),
        (lambda: agents_needed(100, 180, target_level=0, target_seconds=20), "target_level"),
        (lambda: agents_needed(100, 180, target_level=1, target_seconds=20), "target_level"),
        (lambda: agents_needed(100, 180, target_level=80, target_seconds=20), "target_level"),
        (lambda: agents_needed(100, 180, target_level=0.8, target_seconds=-20), "target_seconds"),
        (
            lambda: agents_needed(100, 180, target_level=0.8, target_seconds=20, max_occupancy=1.2),
            "max_occupancy",
        ),
        (
            lambda: agents_needed(100, 180, target_level=0.8, target_seconds=20, max_occupancy=0),
            "max_occupancy",
        ),
        (
            lambda: agents_needed(100, 180, target_level=0.8, target_seconds=20, shrinkage=1),
            "shrinkage",
        ),
        (
            lambda: agents_needed(100, 180, target_level=0.8, target_seconds=20, shrinkage=-0.1),
            "shrinkage",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, argument):
    with pytest.raises(ValueError, match=argument):
        call()
