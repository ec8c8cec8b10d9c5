"""Multi-touch attribution: which channels and campaigns earned the conversions.

Rule-based models (first touch, last touch, last non-direct, linear, position-based, time
decay) and data-driven ones (Markov-chain removal effect of order 1–3, exact Shapley values),
side by side on the same conversions. ``Paths`` holds journeys; the estimators follow
scikit-learn conventions (``fit`` returns self, fitted values end in ``_``); ``attribute``
runs them all on a pandas frame; ``report`` is the catalogue report on CRM data.
"""

from voronka.analytics.attribution.compare import Model, attribute, compare
from voronka.analytics.attribution.heuristic import (
    FirstTouch,
    LastNonDirect,
    LastTouch,
    Linear,
    PositionBased,
    TimeDecay,
)
from voronka.analytics.attribution.markov import MarkovAttribution
from voronka.analytics.attribution.paths import Paths
from voronka.analytics.attribution.shapley import ShapleyAttribution

__all__ = [
    "FirstTouch",
    "LastNonDirect",
    "LastTouch",
    "Linear",
    "MarkovAttribution",
    "Model",
    "Paths",
    "PositionBased",
    "ShapleyAttribution",
    "TimeDecay",
    "attribute",
    "compare",
]
