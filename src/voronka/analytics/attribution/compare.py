"""Every attribution model side by side on the same journeys, as one tidy table."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Protocol

import pandas as pd

from voronka.analytics.attribution.heuristic import (
    DIRECT,
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


class Estimator(Protocol):
    conversions_: pd.Series
    value_: pd.Series

    def fit(self, paths: Paths) -> Estimator: ...


class Model(StrEnum):
    FIRST_TOUCH = "first_touch"
    LAST_TOUCH = "last_touch"
    LAST_NON_DIRECT = "last_non_direct"
    LINEAR = "linear"
    POSITION_BASED = "position_based"
    TIME_DECAY = "time_decay"
    MARKOV = "markov"
    SHAPLEY = "shapley"


#: Labels for people (English, Russian).
MODEL_LABELS = {
    Model.FIRST_TOUCH: ("First touch", "Первое касание"),
    Model.LAST_TOUCH: ("Last touch", "Последнее касание"),
    Model.LAST_NON_DIRECT: ("Last non-direct touch", "Последнее непрямое касание"),
    Model.LINEAR: ("Linear", "Линейная"),
    Model.POSITION_BASED: ("Position-based", "С учётом позиции"),
    Model.TIME_DECAY: ("Time decay", "С распадом во времени"),
    Model.MARKOV: ("Markov chain (removal effect)", "Цепь Маркова (эффект удаления)"),
    Model.SHAPLEY: ("Shapley value", "Вектор Шепли"),
}
#: Models that need the time of each touch.
TIMED = frozenset({Model.TIME_DECAY})
COLUMNS = ("model", "channel", "conversions", "value", "conversion_share_pct",
           "removal_effect", "value_removal_effect")


def compare(
    paths: Paths,
    models: Iterable[Model | str] = tuple(Model),
    *,
    order: int = 1,
    direct: Sequence[str] = DIRECT,
    first: float = 0.4,
    last: float = 0.4,
    half_life_days: float = 7.0,
) -> pd.DataFrame:
    """Credited conversions and value per model and channel (``COLUMNS``), each model's
    channels by credited conversions, most first."""
    chosen = [Model(m) for m in models]
    if paths.ages is None:
        chosen = [m for m in chosen if m not in TIMED]
    frames = []
    for model in chosen:
        fitted = _estimator(model, order, direct, first, last, half_life_days).fit(paths)
        frame = pd.DataFrame({"model": model.value, "channel": list(paths.channels),
                              "conversions": fitted.conversions_.to_numpy(),
                              "value": fitted.value_.to_numpy()})
        total = paths.total_conversions
        frame["conversion_share_pct"] = frame.conversions / total * 100 if total else 0.0
        if isinstance(fitted, MarkovAttribution):
            frame["removal_effect"] = fitted.removal_effects_.to_numpy()
            frame["value_removal_effect"] = fitted.value_removal_effects_.to_numpy()
        frames.append(frame.sort_values(["conversions", "channel"],
                                        ascending=[False, True], kind="stable"))
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.concat(frames, ignore_index=True).reindex(columns=list(COLUMNS))


def _estimator(model: Model, order: int, direct: Sequence[str], first: float, last: float,
               half_life_days: float) -> Estimator:
    factories: dict[Model, Callable[[], Estimator]] = {
        Model.FIRST_TOUCH: FirstTouch,
        Model.LAST_TOUCH: LastTouch,
        Model.LAST_NON_DIRECT: lambda: LastNonDirect(direct),
        Model.LINEAR: Linear,
        Model.POSITION_BASED: lambda: PositionBased(first, last),
        Model.TIME_DECAY: lambda: TimeDecay(half_life_days),
        Model.MARKOV: lambda: MarkovAttribution(order),
        Model.SHAPLEY: ShapleyAttribution,
    }
    return factories[model]()


def attribute(
    frame: pd.DataFrame,
    *,
    path: str,
    conversions: str,
    value: str | None = None,
    nulls: str | None = None,
    separator: str = ">",
    models: Iterable[Model | str] = tuple(Model),
    order: int = 1,
    direct: Sequence[str] = DIRECT,
    first: float = 0.4,
    last: float = 0.4,
) -> pd.DataFrame:
    """Attribution of a frame of journeys (one path string per row) by every model.

    ``path`` holds channels joined by ``separator``; ``conversions``, ``value`` and ``nulls``
    are per-row counts (rows with the same path are added up). Time decay needs touch times
    and is left out here. Returns the tidy table of ``compare``.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"path": ["seo > email", "email"], "conv": [1, 1]})
    >>> attribute(frame, path="path", conversions="conv", models=["linear"])[
    ...     ["channel", "conversions"]].to_dict("records")
    [{'channel': 'email', 'conversions': 1.5}, {'channel': 'seo', 'conversions': 0.5}]
    """
    journeys = Paths.from_frame(frame, path=path, conversions=conversions, value=value,
                                nulls=nulls, separator=separator)
    return compare(journeys, models, order=order, direct=direct, first=first, last=last)
