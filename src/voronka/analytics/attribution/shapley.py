"""Shapley-value attribution: channels as players of a cooperative game (Shapley 1953).

The worth ``v(S)`` of a coalition of channels ``S`` is what the journeys that touched only
channels of ``S`` produced — their conversions (or value) — following Zhao et al. (2018); a
channel's Shapley value is its average marginal contribution over every order in which the
channels could join:

    φ_c = Σ_{S ⊆ N∖{c}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {c}) − v(S)).

The values add up to ``v(N)``, all conversions. Up to ``MAX_EXACT_CHANNELS`` channels the sum
runs over all 2ⁿ coalitions (the worths by a subset-sum transform); Zhao et al. prove that for
this game it equals ``Σ_T r(T) · [c ∈ T] / |T|`` where ``r(T)`` is what journeys with channel
set exactly ``T`` produced, which is used for more channels (campaign level).
"""

from __future__ import annotations

from math import factorial

import numpy as np
import pandas as pd

from voronka.analytics.attribution.paths import Paths

MAX_EXACT_CHANNELS = 20


def subset_sums(own: np.ndarray) -> np.ndarray:
    """``v(S) = Σ_{T ⊆ S} own(T)`` for every bitmask ``S`` (the zeta transform)."""
    worth = np.array(own, dtype=float)
    players = int(len(worth)).bit_length() - 1
    masks = np.arange(len(worth))
    for player in range(players):
        has = (masks >> player) & 1 == 1
        worth[has] += worth[masks[has] ^ (1 << player)]
    return worth


def shapley_values(worth: np.ndarray) -> np.ndarray:
    """Exact Shapley values of a game given ``worth[mask]`` for all 2ⁿ coalitions."""
    players = int(len(worth)).bit_length() - 1
    if len(worth) != 1 << players:
        raise ValueError("worth needs one value per coalition: 2 ** players values")
    masks = np.arange(len(worth))
    sizes = np.zeros(len(worth), dtype=np.int64)
    for player in range(players):
        sizes += (masks >> player) & 1
    weight = np.array([factorial(s) * factorial(players - s - 1) / factorial(players)
                       for s in range(players)])
    values = np.zeros(players)
    for player in range(players):
        without = masks[(masks >> player) & 1 == 0]
        gain = worth[without | (1 << player)] - worth[without]
        values[player] = float(np.dot(weight[sizes[without]], gain))
    return values


def _channel_sets(paths: Paths) -> tuple[np.ndarray, np.ndarray]:
    """Per journey, its distinct channels as (journey index, code) pairs."""
    pairs = np.unique(np.column_stack([paths.path_of_touch, paths.codes]), axis=0)
    return pairs[:, 0], pairs[:, 1]


class ShapleyAttribution:
    """Credit by exact Shapley values of the channel coalition game.

    Attributes
    ----------
    conversions_, value_ : pandas.Series
        Shapley values of the conversions game and the value game, per channel.
    exact_ : bool
        True when the values were summed over all coalitions (≤ ``MAX_EXACT_CHANNELS``
        channels); otherwise Zhao et al.'s closed form, equal for this game.

    References
    ----------
    .. [1] Shapley, L. S. (1953). A value for n-person games. In Contributions to the Theory
       of Games II, Annals of Mathematics Studies 28, 307–317.
    .. [2] Zhao, K., Mahboobi, S. H., Bagheri, S. R. (2018). Shapley value methods for
       attribution modeling in online advertising. arXiv:1804.05327.
    .. [3] Dalessandro, B., Perlich, C., Stitelman, O., Provost, F. (2012). Causally
       motivated attribution for online advertising. ADKDD '12.
    """

    def fit(self, paths: Paths) -> ShapleyAttribution:
        """Compute each channel's Shapley value for conversions and for value."""
        names = list(paths.channels)
        journey, code = _channel_sets(paths)
        self.exact_ = len(names) <= MAX_EXACT_CHANNELS
        if self.exact_:
            bits = np.zeros(len(paths), dtype=np.int64)
            np.bitwise_or.at(bits, journey, np.int64(1) << code)
            found = []
            for amounts in (paths.conversions, paths.value):
                own = np.bincount(bits, weights=amounts, minlength=1 << len(names))
                found.append(shapley_values(subset_sums(own)))
        else:
            size = np.bincount(journey, minlength=len(paths))
            found = [np.bincount(code, weights=amounts[journey] / size[journey],
                                 minlength=len(names))
                     for amounts in (paths.conversions, paths.value)]
        self.conversions_ = pd.Series(found[0], index=names, name="conversions")
        self.value_ = pd.Series(found[1], index=names, name="value")
        return self
