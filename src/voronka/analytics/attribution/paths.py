"""Customer journeys as the attribution models read them: distinct paths with their counts.

A journey is the ordered list of channels (or campaigns) that touched a client before a
conversion, or before they stopped without one. Journeys with the same path are counted
together: ``conversions`` and ``value`` (revenue) of those that converted, ``nulls`` of those
that did not. Paths are stored flat (one code per touch, ``offsets`` delimiting paths) so that
a million journeys are handled with array operations, never a Python loop per touch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from voronka.errors import ErrorDetail, InvalidInput


@dataclass(frozen=True)
class Paths:
    """Distinct journeys over ``channels``.

    ``codes[offsets[i]:offsets[i + 1]]`` are the channel codes (indices into ``channels``) of
    path ``i`` in time order. ``ages`` (optional, aligned with ``codes``) are the days from
    each touch to the conversion, which only the time-decay model needs.
    """

    channels: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    value: np.ndarray
    nulls: np.ndarray
    ages: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def path_of_touch(self) -> np.ndarray:
        """For each touch, the index of its path."""
        return np.repeat(np.arange(len(self)), self.lengths)

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_value(self) -> float:
        return float(self.value.sum())

    @classmethod
    def from_lists(
        cls,
        paths: Sequence[Sequence[str]],
        conversions: Sequence[float],
        value: Sequence[float] | None = None,
        nulls: Sequence[float] | None = None,
        ages: Sequence[Sequence[float]] | None = None,
    ) -> Paths:
        """Journeys given as lists of channel names (tests and small examples)."""
        flat = [name for path in paths for name in path]
        codes, channels = pd.factorize(pd.Series(flat, dtype=object), sort=True)
        lengths = np.asarray([len(p) for p in paths], dtype=np.int64)
        return cls(
            channels=tuple(str(c) for c in channels),
            codes=codes.astype(np.int64),
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            conversions=np.asarray(conversions, dtype=float),
            value=np.zeros(len(paths)) if value is None else np.asarray(value, dtype=float),
            nulls=np.zeros(len(paths)) if nulls is None else np.asarray(nulls, dtype=float),
            ages=None if ages is None else np.asarray([a for p in ages for a in p], dtype=float),
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        path: str,
        conversions: str,
        value: str | None = None,
        nulls: str | None = None,
        separator: str = ">",
    ) -> Paths:
        """Journeys from a frame with one path string per row (``"seo > email > direct"``).

        Rows with the same path are added up; channel names are stripped of spaces. Counts
        must be non-negative numbers; a bad value raises ``InvalidInput`` naming row and column.
        """
        if not separator:
            raise _invalid("the path separator must not be empty", "separator", None)
        numbers = {
            "conversions": _numbers(frame, conversions),
            "value": _numbers(frame, value) if value else np.zeros(len(frame)),
            "nulls": _numbers(frame, nulls) if nulls else np.zeros(len(frame)),
        }
        # Hash the raw texts first and clean only the distinct ones: a million journeys
        # repeat a few hundred thousand paths at most.
        raw_keys, raw_distinct = pd.factorize(frame[path], use_na_sentinel=True)
        cleaned = pd.Series(raw_distinct, dtype=object).astype(str).str.strip()
        keys_of_raw, distinct = pd.factorize(cleaned.to_numpy())
        keys = np.where(raw_keys >= 0, keys_of_raw[np.maximum(raw_keys, 0)], -1)
        empty = np.flatnonzero(distinct == "")
        if len(empty):
            keys = np.where(keys == empty[0], -1, keys)
        keep = keys >= 0
        sums = {
            name: np.bincount(keys[keep], weights=column[keep], minlength=len(distinct))
            for name, column in numbers.items()
        }
        used = np.bincount(keys[keep], minlength=len(distinct)) > 0
        sums = {name: column[used] for name, column in sums.items()}
        return cls._parse([str(p) for p in distinct[used]], separator, sums)

    @classmethod
    def _parse(cls, distinct: list[str], separator: str, sums: dict[str, np.ndarray]) -> Paths:
        if not distinct:
            nothing = np.zeros(0)
            return cls((), np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.int64),
                       nothing, nothing, nothing)
        lengths = np.fromiter((p.count(separator) + 1 for p in distinct), np.int64, len(distinct))
        tokens = np.asarray(separator.join(distinct).split(separator), dtype=object)
        raw_codes, raw_names = pd.factorize(tokens)
        stripped = pd.Series(raw_names, dtype=object).str.strip().to_numpy()
        name_codes, channels = pd.factorize(stripped, sort=True)
        codes = name_codes[raw_codes]
        if (stripped == "").any():
            raise _invalid(f"a path has an empty channel name between two {separator!r}",
                           "path", None)
        return cls(
            channels=tuple(str(c) for c in channels),
            codes=codes.astype(np.int64),
            offsets=np.concatenate([[0], np.cumsum(lengths)]),
            conversions=sums["conversions"],
            value=sums["value"],
            nulls=sums["nulls"],
        )

    def code_of(self, name: str) -> int:
        return self.channels.index(name)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """The column as non-negative floats; the first bad value is named with its row."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        parsed = raw.astype(float).fillna(0.0)
        bad = (parsed < 0) | ~np.isfinite(parsed)
        if not bad.any():
            return parsed.to_numpy()
    parsed = pd.to_numeric(raw, errors="coerce")
    blank = raw.isna() | (raw.astype("string").str.strip() == "")
    parsed = parsed.where(~blank, 0.0)
    bad = parsed.isna() | (parsed < 0) | ~np.isfinite(parsed.fillna(0).to_numpy(dtype=float))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        value = raw.iloc[row]
        raise _invalid(
            f"column {column!r}, row {row + 1}: {value!r} is not a non-negative number",
            column, row + 1, value,
        )
    return parsed.to_numpy(dtype=float)


def _invalid(message: str, field: str, row: int | None, value: object = None) -> InvalidInput:
    shown = None if value is None else str(value)[:64]
    return InvalidInput(message, [ErrorDetail(message, field=field, row=row, value=shown)])
