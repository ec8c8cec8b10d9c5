"""Ragged arrays: many children per parent, kept flat, as ``counts`` per parent.

The generator builds every one-to-many table (a deal's stage changes, a client's touchpoints)
as flat numpy arrays; these helpers map children to parents without Python loops.
"""

from __future__ import annotations

import numpy as np


def starts(counts: np.ndarray) -> np.ndarray:
    """Return the flat index of each parent's first child."""
    return np.cumsum(counts) - counts


def parent_of(counts: np.ndarray) -> np.ndarray:
    """Return, for each child, the index of its parent."""
    return np.repeat(np.arange(len(counts)), counts)


def position_in_parent(counts: np.ndarray) -> np.ndarray:
    """Return, for each child, its position 0, 1, 2... among its parent's children."""
    return np.arange(int(counts.sum())) - np.repeat(starts(counts), counts)


def cumsum_within(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Return the running sum of ``values`` that restarts at each parent's first child."""
    total = np.cumsum(values)
    nonempty = counts > 0
    offset = (total - values)[starts(counts)[nonempty]]
    return total - np.repeat(offset, counts[nonempty])


def last_child(counts: np.ndarray) -> np.ndarray:
    """Return the flat index of each parent's last child (parents need at least one)."""
    return np.cumsum(counts) - 1


def sum_by_parent(values: np.ndarray, parent: np.ndarray, parents: int) -> np.ndarray:
    """Return the sum of children's ``values`` per parent."""
    return np.bincount(parent, weights=values, minlength=parents)
