"""Markov-chain attribution with exact removal effects (Anderl et al. 2016).

Journeys are walks of an absorbing Markov chain: from ``(start)`` through channel states to
``(conversion)`` or ``(null)``. The probability of conversion from ``(start)`` is the
absorption probability ``x[start]`` solving ``(I - Q) x = r``, where ``Q`` holds the
transition probabilities between transient states and ``r`` the probability of converting
next. Removing a channel sends every state that contains it to ``(null)``; the relative drop
in conversion probability is the channel's removal effect. Both are computed by sparse
linear algebra — an LU factorisation, or for large chains the Neumann series run to rounding
error — never by simulating journeys.

Order ``k`` > 1 uses states that are the last ``k`` channels of the journey (fewer at its
start), so the next step may depend on the ``k`` channels before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from voronka.analytics.attribution.paths import Paths

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
MAX_ORDER = 3
SOLVERS = ("auto", "lu", "iterative")
#: Chains up to this many states are solved by sparse LU; larger ones (order 3 over many
#: channels: LU fill-in grows fast, ~0.3 s per factorisation at 1,800 states) iteratively.
LU_MAX_STATES = 400
ITERATION_TOLERANCE = 1e-15
MAX_ITERATIONS = 20_000


@dataclass(frozen=True)
class Transitions:
    """Weighted transitions of the chain, counted from journeys.

    ``states[i]`` is the tuple of channel codes of transient state ``i``; state 0 is
    ``(start)`` (the empty tuple). ``source → target`` with ``count`` are moves between
    transient states; per state, ``conversions``, ``value`` and ``nulls`` are the journeys
    that ended there converting (with their value) or not.
    """

    channels: tuple[str, ...]
    states: list[tuple[int, ...]]
    source: np.ndarray
    target: np.ndarray
    count: np.ndarray
    conversions: np.ndarray
    value: np.ndarray
    nulls: np.ndarray


def collapse_repeats(paths: Paths) -> Paths:
    """The same journeys with consecutive touches of one channel merged into one state."""
    codes, offsets = paths.codes, paths.offsets
    first = np.zeros(len(codes), dtype=bool)
    first[offsets[:-1][paths.lengths > 0]] = True
    keep = first | np.concatenate([[True], codes[1:] != codes[:-1]])
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    return Paths(paths.channels, codes[keep], kept_before[offsets], paths.conversions,
                 paths.value, paths.nulls)


def count_transitions(paths: Paths, order: int) -> Transitions:
    """Count the chain's transitions of order ``order`` from ``paths`` (array operations)."""
    if order == 1:
        paths = collapse_repeats(paths)
    weight = paths.conversions + paths.nulls
    live = (weight > 0) & (paths.lengths > 0)
    base = len(paths.channels) + 1
    if order > 1 and float(base) ** order >= 2.0**62:
        raise ValueError(f"too many channels ({base - 1}) for a Markov chain of order {order}")
    position = np.arange(len(paths.codes)) - np.repeat(paths.offsets[:-1], paths.lengths)
    key = np.zeros(len(paths.codes), dtype=np.int64)
    for lag in range(order):  # key = digits (channel + 1) of the last `order` touches
        shifted = np.zeros(len(paths.codes), dtype=np.int64)
        shifted[lag:] = paths.codes[: len(paths.codes) - lag] + 1
        key += np.where(position >= lag, shifted, 0) * base**lag
    distinct, state = np.unique(key, return_inverse=True)
    state = state.astype(np.int64) + 1  # 0 is (start)
    path = paths.path_of_touch
    touch_weight = weight[path]
    previous = np.concatenate([[0], state[:-1]])
    previous[position == 0] = 0
    moving = live[path]
    last = paths.offsets[1:][live] - 1
    size = len(distinct) + 1
    ends = {name: np.bincount(state[last], weights=getattr(paths, name)[live], minlength=size)
            for name in ("conversions", "value", "nulls")}
    return Transitions(
        channels=paths.channels,
        states=[(), *(_digits(int(k), base) for k in distinct)],
        source=previous[moving],
        target=state[moving],
        count=touch_weight[moving],
        **ends,
    )


def _digits(key: int, base: int) -> tuple[int, ...]:
    """Channel codes of a state key, oldest first."""
    found = []
    while key:
        key, digit = divmod(key, base)
        found.append(digit - 1)
    return tuple(reversed(found))


@dataclass(frozen=True)
class _Chain:
    transient: sp.csr_matrix
    to_conversion: np.ndarray
    to_value: np.ndarray
    membership: sp.csc_matrix  # state x channel: 1 where the state contains the channel


def _chain(t: Transitions) -> _Chain:
    size = len(t.states)
    moves = sp.coo_matrix((t.count, (t.source, t.target)), shape=(size, size)).tocsr()
    moves.sum_duplicates()
    out = np.asarray(moves.sum(axis=1)).ravel() + t.conversions + t.nulls
    safe = np.where(out > 0, out, 1.0)
    scale = sp.diags(1.0 / safe)
    rows = [i for i, s in enumerate(t.states) for _ in set(s)]
    cols = [c for s in t.states for c in set(s)]
    membership = sp.csc_matrix((np.ones(len(rows)), (rows, cols)),
                               shape=(size, len(t.channels)))
    return _Chain((scale @ moves).tocsr(), t.conversions / safe, t.value / safe, membership)


def _absorb(chain: _Chain, keep: np.ndarray, solver: str) -> tuple[float, float]:
    """Probability of conversion and expected value from (start), within states ``keep``."""
    rhs = np.column_stack([chain.to_conversion, chain.to_value]) * keep[:, None]
    if solver == "iterative" or (solver == "auto" and len(keep) > LU_MAX_STATES):
        solved = _iterate(chain.transient, rhs, keep)
        if solved is not None:
            return float(solved[0, 0]), float(solved[0, 1])
    index = np.flatnonzero(keep)
    q = chain.transient[index][:, index]
    system = (sp.identity(len(index), format="csc") - q).tocsc()
    solved = splu(system).solve(rhs[index])
    return float(solved[0, 0]), float(solved[0, 1])  # (start) is state 0 and always kept


def _iterate(transient: sp.csr_matrix, rhs: np.ndarray, keep: np.ndarray) -> np.ndarray | None:
    """Solve ``x = rhs + Q x`` (states outside ``keep`` fixed at 0) by the Neumann series.

    The update of step n is ``Q^(n+1) rhs``, which is also the residual of ``(I − Q) x = rhs``,
    so iterating until it is below ``ITERATION_TOLERANCE`` (relative) solves the system to
    rounding. ``None`` if the chain mixes too slowly (then LU is used).
    """
    mask = keep[:, None].astype(float)
    x = rhs.copy()
    for _ in range(MAX_ITERATIONS):
        step = (transient @ x) * mask
        x_next = rhs + step
        if np.abs(x_next - x).max() <= ITERATION_TOLERANCE * max(1.0, np.abs(x_next).max()):
            return x_next
        x = x_next
    return None


class MarkovAttribution:
    """Data-driven attribution by the removal effect of an absorbing Markov chain.

    Parameters
    ----------
    order : int, default 1
        How many previous channels the next step depends on (1 to 3).
    solver : {"auto", "lu", "iterative"}, default "auto"
        How the absorption equations are solved: sparse LU factorisation, or the Neumann
        series ``x ← r + Qx`` run until its update (which equals the residual) is below
        1e-15 relative — both to rounding error. "auto" uses LU up to 400 states.

    Attributes
    ----------
    conversion_probability_ : float
        Probability that a journey from ``(start)`` converts.
    removal_effects_ : pandas.Series
        Per channel: 1 − P(conversion without the channel) / P(conversion).
    value_removal_effects_ : pandas.Series
        The same for expected value, converting journeys weighted by their value.
    conversions_, value_ : pandas.Series
        Conversions and value credited: the totals split in proportion to the removal
        effects.
    transition_matrix_ : pandas.DataFrame
        ``source``, ``target``, ``probability`` of every observed transition (states are
        channel names joined by " > ").
    n_states_ : int
        Transient states, ``(start)`` included.

    Notes
    -----
    At order 1, consecutive touches of the same channel are one state: a self-loop changes
    no absorption probability, and the transition matrix then reads like ChannelAttribution's.
    At higher orders repeats are kept (``a > a`` is a state of its own), as ChannelAttribution
    does.

    References
    ----------
    .. [1] Anderl, E., Becker, I., von Wangenheim, F., Schumann, J. H. (2016). Mapping the
       customer journey: Lessons learned from graph-based online attribution modeling.
       International Journal of Research in Marketing 33(3), 457–474.
    .. [2] Kemeny, J. G., Snell, J. L. (1960). Finite Markov Chains, ch. 3 (absorbing chains).
    """

    def __init__(self, order: int = 1, solver: str = "auto") -> None:
        self.order = order
        self.solver = solver

    def fit(self, paths: Paths) -> MarkovAttribution:
        """Count transitions in ``paths`` and compute every channel's removal effect."""
        if not 1 <= int(self.order) <= MAX_ORDER:
            raise ValueError(f"order must be 1 to {MAX_ORDER}, got {self.order}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        return self.fit_transitions(count_transitions(paths, int(self.order)))

    def fit_transitions(self, transitions: Transitions) -> MarkovAttribution:
        """Fit on transitions already counted (e.g. aggregated by the analytics engine)."""
        chain = _chain(transitions)
        names = list(transitions.channels)
        everything = np.ones(len(transitions.states), dtype=bool)
        base_conv, base_value = _absorb(chain, everything, self.solver)
        effects, value_effects = np.zeros(len(names)), np.zeros(len(names))
        for code in range(len(names)):
            contains = chain.membership[:, code].toarray().ravel() > 0
            conv, value = _absorb(chain, ~contains, self.solver)
            effects[code] = 1 - conv / base_conv if base_conv > 0 else 0.0
            value_effects[code] = 1 - value / base_value if base_value > 0 else 0.0
        self.conversion_probability_ = base_conv
        self.expected_value_ = base_value
        self.removal_effects_ = pd.Series(effects, index=names, name="removal_effect")
        self.value_removal_effects_ = pd.Series(value_effects, index=names,
                                                name="value_removal_effect")
        self.conversions_ = _share(self.removal_effects_, float(transitions.conversions.sum()))
        self.value_ = _share(self.value_removal_effects_, float(transitions.value.sum()))
        self.transition_matrix_ = _matrix(transitions, chain)
        self.n_states_ = len(transitions.states)
        return self


def _share(effects: pd.Series, total: float) -> pd.Series:
    """``total`` split in proportion to ``effects`` (nothing when no channel matters)."""
    clipped = effects.clip(lower=0)
    weight = float(clipped.sum())
    return clipped * (total / weight) if weight > 0 else clipped * 0.0


def _matrix(t: Transitions, chain: _Chain) -> pd.DataFrame:
    names = [START, *(" > ".join(t.channels[c] for c in s) for s in t.states[1:])]
    q = chain.transient.tocoo()
    parts = [pd.DataFrame({"source": np.asarray(names, dtype=object)[q.row],
                           "target": np.asarray(names, dtype=object)[q.col],
                           "probability": q.data})]
    for label, column in ((CONVERSION, chain.to_conversion),
                          (NULL, 1 - np.asarray(chain.transient.sum(axis=1)).ravel()
                           - chain.to_conversion)):
        hit = np.flatnonzero(column > 1e-15)
        parts.append(pd.DataFrame({"source": np.asarray(names, dtype=object)[hit],
                                   "target": label, "probability": column[hit]}))
    return pd.concat(parts, ignore_index=True)
