"""Exact Markov removal effects on journeys small enough to solve by hand."""

from __future__ import annotations

import pytest

from voronka.analytics.attribution import MarkovAttribution, Paths

#: A > B converts (value 10); A stops; B converts (value 30); B > A stops.
FOUR = Paths.from_lists([["A", "B"], ["A"], ["B"], ["B", "A"]], conversions=[1, 0, 1, 0],
                        value=[10, 0, 30, 0], nulls=[0, 1, 0, 1])


def test_order_one_removal_effects_by_hand() -> None:
    # Transitions: start→A 2, start→B 2; A→B 1, A→null 2; B→conv 2, B→A 1.
    # x_A = x_B/3, x_B = 2/3 + x_A/3 → x_B = 3/4, x_A = 1/4; P = (2·1/4 + 2·3/4)/4 = 1/2.
    # Without A: x_B = 2/3, P = 1/3 → RE_A = 1/3. Without B: nothing converts → RE_B = 1.
    # Conversions 2 split 1/3 : 1 → A 0.5, B 1.5.
    # Value: reward at B = 40/3 per exit; v_B = 15, v_A = 5, V = 10; without A V = 20/3
    # (RE 1/3), without B 0 (RE 1): value 40 split A 10, B 30.
    model = MarkovAttribution(order=1).fit(FOUR)
    assert model.conversion_probability_ == pytest.approx(0.5, rel=1e-12)
    assert model.expected_value_ == pytest.approx(10.0, rel=1e-12)
    assert model.removal_effects_.to_dict() == pytest.approx({"A": 1 / 3, "B": 1.0}, rel=1e-12)
    assert model.conversions_.to_dict() == pytest.approx({"A": 0.5, "B": 1.5}, rel=1e-12)
    assert model.value_.to_dict() == pytest.approx({"A": 10.0, "B": 30.0}, rel=1e-12)
    assert model.n_states_ == 3


def test_order_two_uses_pairs_of_channels() -> None:
    # States (A), (B), (A,B), (B,A): start→(A)→(A,B)→conv; start→(A)→null;
    # start→(B)→conv; start→(B)→(B,A)→null. x_(A,B) = 1, x_(B,A) = 0, x_(A) = x_(B) = 1/2,
    # P = 1/2. Without A (every state holding A): x_(B) = 1/2, P = 1/4 → RE_A = 1/2;
    # without B: P = 0 → RE_B = 1. Conversions 2 split 1/2 : 1 → A 2/3, B 4/3.
    model = MarkovAttribution(order=2).fit(FOUR)
    assert model.removal_effects_.to_dict() == pytest.approx({"A": 0.5, "B": 1.0}, rel=1e-12)
    assert model.conversions_.to_dict() == pytest.approx({"A": 2 / 3, "B": 4 / 3}, rel=1e-12)
    assert model.n_states_ == 5


def test_order_one_merges_repeats_but_order_two_keeps_them() -> None:
    # A > A > B converts, A stops. Order 1: A → B 1 and A → null 1 (no A → A), so
    # P(A→B) = 1/2. Order 2: (A) → (A,A) → (A,B): three states besides (start).
    journeys = Paths.from_lists([["A", "A", "B"], ["A"]], conversions=[1, 0], nulls=[0, 1])
    first = MarkovAttribution(1).fit(journeys).transition_matrix_
    moves = {(r.source, r.target): r.probability for r in first.itertuples()}
    assert moves == pytest.approx({("(start)", "A"): 1.0, ("A", "B"): 0.5,
                                   ("A", "(null)"): 0.5, ("B", "(conversion)"): 1.0})
    second = MarkovAttribution(2).fit(journeys)
    assert second.n_states_ == 4
    assert second.conversion_probability_ == pytest.approx(0.5, rel=1e-12)


def test_a_channel_that_always_converts_alone_gets_everything() -> None:
    # Only C converts, D never leads anywhere but null: RE_D = 0, all credit to C.
    journeys = Paths.from_lists([["C"], ["D"]], conversions=[3, 0], nulls=[1, 4])
    model = MarkovAttribution().fit(journeys)
    assert model.removal_effects_.to_dict() == {"C": 1.0, "D": 0.0}
    assert model.conversions_.to_dict() == {"C": 3.0, "D": 0.0}


def test_order_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="order must be 1 to 3"):
        MarkovAttribution(order=4).fit(FOUR)
