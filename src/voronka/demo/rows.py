"""Rows of one table as columns, the unit the generator hands to the bulk loader.

A column is a numpy array (``datetime64[us]`` for timestamps with NaT for NULL,
``datetime64[D]`` for dates, a masked array for nullable numbers, an object array for
nullable text) or a scalar repeated on every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Columns every demo row of a versioned table carries.
WORKSPACE_ID = 1
VERSION = 1


@dataclass(frozen=True)
class TableRows:
    """Rows for ``table``; ``columns`` maps a column name to its values."""

    table: str
    columns: dict[str, Any]
    count: int

    def __post_init__(self) -> None:
        for name, values in self.columns.items():
            if isinstance(values, np.ndarray) and len(values) != self.count:
                raise ValueError(f"{self.table}.{name} has {len(values)} values, not {self.count}")

    def take(self, start: int, stop: int) -> TableRows:
        """Return rows ``start`` to ``stop`` (scalars stay scalars)."""
        sliced = {
            name: values[start:stop] if isinstance(values, np.ndarray) else values
            for name, values in self.columns.items()
        }
        return TableRows(self.table, sliced, min(stop, self.count) - start)


def rows(table: str, ids: np.ndarray, **columns: Any) -> TableRows:
    """Build ``TableRows`` with ``id`` and ``workspace_id`` first."""
    return TableRows(table, {"id": ids, "workspace_id": WORKSPACE_ID, **columns}, len(ids))


def nullable(values: np.ndarray, present: np.ndarray) -> np.ma.MaskedArray:
    """Return ``values`` as NULL where ``present`` is false (numbers)."""
    return np.ma.masked_array(values, mask=~present)


def nullable_text(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Return text ``values`` as an object array with None where ``present`` is false."""
    out = np.full(len(values), None, dtype=object)
    out[present] = values[present]
    return out


def when(at: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Return timestamps with NaT (NULL) where ``present`` is false."""
    return np.where(present, at, np.datetime64("NaT", "us"))


def pick(choices: np.ndarray | Sequence[Any], index: np.ndarray) -> np.ndarray:
    """Return ``choices[index]`` as an array (text choices become a compact unicode array)."""
    return np.asarray(choices)[index]
