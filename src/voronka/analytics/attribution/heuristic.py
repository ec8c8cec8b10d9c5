"""Rule-based attribution: each converting journey's credit split over its touches by a rule.

Every model gives the touches of a journey weights that sum to 1; a channel is credited the
sum over journeys of ``conversions × weight`` (and ``value × weight``) of its touches.
Journeys without a conversion get no credit from these models.

References
----------
.. [1] Kannan, P. K., Reinartz, W., Verhoef, P. C. (2016). The path to purchase and
   attribution modeling: Introduction to special section. International Journal of Research
   in Marketing 33(3), 449–456 (first/last touch, linear, position-based, time decay).
.. [2] Google Analytics Help, "Attribution models" (position-based 40/20/40; time decay with
   a 7-day half-life) — the conventions used as defaults here.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from voronka.analytics.attribution.paths import Paths

DIRECT = ("direct",)


class _Heuristic:
    """Credit split by per-touch weights; subclasses define ``weights``."""

    def weights(self, paths: Paths) -> np.ndarray:
        raise NotImplementedError

    def fit(self, paths: Paths) -> _Heuristic:
        """Credit each channel with its touches' share of conversions and value."""
        weight = self.weights(paths)
        path = paths.path_of_touch
        size = len(paths.channels)
        conversions = np.bincount(paths.codes, weights=weight * paths.conversions[path],
                                  minlength=size)
        value = np.bincount(paths.codes, weights=weight * paths.value[path], minlength=size)
        self.conversions_ = pd.Series(conversions, index=list(paths.channels), name="conversions")
        self.value_ = pd.Series(value, index=list(paths.channels), name="value")
        return self


def _position(paths: Paths) -> tuple[np.ndarray, np.ndarray]:
    """Each touch's index from the start of its journey and its journey's length."""
    lengths = paths.lengths
    from_start = np.arange(len(paths.codes)) - np.repeat(paths.offsets[:-1], lengths)
    return from_start, np.repeat(lengths, lengths)


class FirstTouch(_Heuristic):
    """All credit to the first touch of the journey."""

    def weights(self, paths: Paths) -> np.ndarray:
        from_start, _ = _position(paths)
        return (from_start == 0).astype(float)


class LastTouch(_Heuristic):
    """All credit to the last touch before the conversion."""

    def weights(self, paths: Paths) -> np.ndarray:
        from_start, length = _position(paths)
        return (from_start == length - 1).astype(float)


class LastNonDirect(_Heuristic):
    """All credit to the last touch that is not direct (the last touch if all are direct).

    Parameters
    ----------
    direct : iterable of str, default ("direct",)
        Channel names that count as direct (typed-in address, bookmarks, no source).
    """

    def __init__(self, direct: Iterable[str] = DIRECT) -> None:
        self.direct = tuple(direct)

    def weights(self, paths: Paths) -> np.ndarray:
        from_start, length = _position(paths)
        is_direct = np.isin(np.asarray(paths.channels, dtype=object)[paths.codes],
                            np.asarray(self.direct, dtype=object))
        chosen = np.where(is_direct, -1, from_start)
        path = paths.path_of_touch
        latest = np.full(len(paths), -1)
        np.maximum.at(latest, path, chosen)
        target = np.where(latest[path] >= 0, latest[path], length - 1)
        return (from_start == target).astype(float)


class Linear(_Heuristic):
    """Equal credit to every touch of the journey."""

    def weights(self, paths: Paths) -> np.ndarray:
        _, length = _position(paths)
        return 1.0 / length


class PositionBased(_Heuristic):
    """``first`` to the first touch, ``last`` to the last, the rest shared by the middle.

    A journey of one touch gives it everything; of two, splits ``first : last`` scaled to 1.

    Parameters
    ----------
    first, last : float, default 0.4
        Shares of the first and last touch (``first + last`` at most 1).
    """

    def __init__(self, first: float = 0.4, last: float = 0.4) -> None:
        self.first = first
        self.last = last

    def weights(self, paths: Paths) -> np.ndarray:
        if self.first < 0 or self.last < 0 or self.first + self.last > 1:
            raise ValueError("position-based shares must be ≥ 0 and add up to at most 1")
        from_start, length = _position(paths)
        return position_weights(from_start, length, self.first, self.last)


def position_weights(from_start: np.ndarray, length: np.ndarray, first: float,
                     last: float) -> np.ndarray:
    """Position-based weights of touches given their index and their journey's length."""
    middle = (1.0 - first - last) / np.maximum(length - 2, 1)
    ends = first + last if first + last > 0 else 1.0
    two = np.where(from_start == 0, first, last) / ends
    many = np.where(from_start == 0, first, np.where(from_start == length - 1, last, middle))
    return np.where(length == 1, 1.0, np.where(length == 2, two, many))


class TimeDecay(_Heuristic):
    """Credit halving with every ``half_life_days`` between a touch and the conversion.

    A touch ``a`` days before the conversion weighs ``2 ** (-a / half_life_days)``; the
    weights of a journey are scaled to sum to 1. Needs ``Paths.ages``.

    Parameters
    ----------
    half_life_days : float, default 7
    """

    def __init__(self, half_life_days: float = 7.0) -> None:
        self.half_life_days = half_life_days

    def weights(self, paths: Paths) -> np.ndarray:
        if paths.ages is None:
            raise ValueError("time decay needs the time of every touch (days to the conversion)")
        if self.half_life_days <= 0:
            raise ValueError("half_life_days must be positive")
        raw = np.exp2(-np.asarray(paths.ages) / self.half_life_days)
        totals = np.bincount(paths.path_of_touch, weights=raw, minlength=len(paths))
        return raw / totals[paths.path_of_touch]
