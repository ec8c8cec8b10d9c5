"""Is a day's figure a sharp drop? A robust z-score against the same weekday of past weeks.

Sales have a weekly rhythm (a Sunday has a fraction of a Monday's leads), so a day is
compared with the same weekday of the ``weeks`` weeks before it: the expected value is their
median and the spread their median absolute deviation (MAD) scaled by 1.4826, which estimates
the standard deviation of normal data but ignores a past outlier (a holiday, an outage). The
modified z-score (Iglewicz & Hoaglin 1993) of the day is

    z = (value − median) / (1.4826 · MAD),

and a day alerts when z is beyond ``threshold`` in the bad direction (down for metrics where
higher is better, up for costs and miss rates) *and* the change is at least ``min_change`` of
the expected value: a flat history (MAD 0) must not turn a one-lead dip into an alarm, so the
spread is floored at ``min_change`` / ``threshold`` of the expected value.

References
----------
Iglewicz, B. & Hoaglin, D. C. (1993). *How to Detect and Handle Outliers*. ASQC Quality
Press, §2.2 (the modified z-score and the 3.5 cut-off).
Rousseeuw, P. J. & Croux, C. (1993). Alternatives to the median absolute deviation.
*JASA* 88(424), 1273–1283 (the 1.4826 consistency constant).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class Verdict:
    """The day against its history."""

    value: float | None
    expected: float | None
    spread: float | None
    z_score: float | None
    change: float | None
    change_pct: float | None
    alert: bool


def robust_z(value: float, history: Sequence[float], *, min_change: float = 0.2,
             threshold: float = 3.5) -> tuple[float, float, float]:
    """(median, robust spread, z-score) of ``value`` against ``history``."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    spread = max(MAD_TO_SD * mad, abs(median) * min_change / threshold, 1e-9)
    return median, spread, (value - median) / spread


def judge(value: float | None, history: Sequence[float | None], *, higher_is_better: bool = True,
          threshold: float = 3.5, min_change: float = 0.2,
          min_history: int = 3) -> Verdict:
    """Judge ``value`` against ``history`` (the same weekday of past weeks; None = undefined)."""
    known = [x for x in history if x is not None]
    if value is None or len(known) < min_history:
        return Verdict(value, None, None, None, None, None, False)
    median, spread, z = robust_z(value, known, min_change=min_change, threshold=threshold)
    change = value - median
    change_pct = change / abs(median) * 100 if median else None
    worse = z <= -threshold if higher_is_better else z >= threshold
    big = abs(change) >= abs(median) * min_change if median else change != 0
    return Verdict(value, median, spread, z, change, change_pct, worse and big)
