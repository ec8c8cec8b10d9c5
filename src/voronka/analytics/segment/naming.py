"""Readable names of behaviour segments, in English and Russian, from their centres.

A segment is named by value (mean revenue), activity (recency, tenure, orders) and, when one
stands out, its favourite product group or acquisition channel. The rule reads standardised
centres (z-scores): ±0.5 of a standard deviation marks "high" or "low".
"""

from __future__ import annotations

import pandas as pd

THRESHOLD = 0.5
DISTINCT = 1.0  # a category or channel column this far above average names the segment

VALUE = {"high": ("High-value", "Ценные"), "mid": ("Mid-value", "Средние"),
         "low": ("Low-value", "Небольшие")}
ACTIVITY = {
    "lapsed": ("lapsed buyers", "ушедшие покупатели"),
    "new": ("newcomers", "новички"),
    "regular": ("regulars", "постоянные покупатели"),
    "occasional": ("occasional buyers", "разовые покупатели"),
}


def _level(z: float) -> str:
    return "high" if z > THRESHOLD else "low" if z < -THRESHOLD else "mid"


def _activity(center: pd.Series) -> str:
    if center.get("recency_days", 0.0) > THRESHOLD:
        return "lapsed"
    if center.get("tenure_days", 0.0) < -THRESHOLD:
        return "new"
    if center.get("orders", 0.0) > THRESHOLD:
        return "regular"
    return "occasional"


def segment_names(centers: pd.DataFrame, labels: dict[str, str]) -> list[tuple[str, str]]:
    """``(english, russian)`` per segment; ``labels`` names the category and channel columns.

    Names are made unique by a number when two segments would read the same.
    """
    names = []
    for _, center in centers.iterrows():
        value_en, value_ru = VALUE[_level(center.get("revenue", 0.0))]
        act_en, act_ru = ACTIVITY[_activity(center)]
        english, russian = f"{value_en} {act_en}", f"{value_ru} {act_ru}"
        marked = [c for c in labels if c in center.index and center[c] > DISTINCT]
        if marked:
            column = max(marked, key=lambda c: center[c])
            label = labels[column]
            if column.startswith("group_"):
                english, russian = f"{english}: {label}", f"{russian}: {label}"
            else:
                english, russian = f"{english} via {label}", f"{russian} из канала {label}"
        names.append((english, russian))
    return _unique(names)


def _unique(names: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        count = seen[name]
        out.append(name if count == 1 else (f"{name[0]} #{count}", f"{name[1]} #{count}"))
    return out
