"""What the lifetime-value estimators share: input checks, pattern compression, the optimiser.

Customers with the same ``(x, t_x, T)`` contribute the same log-likelihood, so the models fit
on the unique rows weighted by how many customers share them (Fader & Hardie's "compressed
CBS"). On data in whole days this divides the work by one to two orders of magnitude.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

from voronka.errors import ErrorDetail, InvalidInput

Floats = NDArray[np.float64]
#: Log-parameters stay inside this box: e^-12 … e^12 covers every sane time unit.
LOG_BOUND = 12.0


@dataclass(frozen=True)
class Patterns:
    """Unique ``(x, t_x, T)`` rows and the number of customers showing each.

    ``*_levels``/``*_index`` factor each column (``x == x_levels[x_index]``): terms of the
    likelihood that depend on one column only (special functions of ``x``, logarithms of
    ``α + T``) are computed once per distinct value, which is what makes the fit fast.
    """

    x: Floats
    t_x: Floats
    T: Floats
    count: Floats
    x_levels: Floats
    x_index: NDArray[np.intp]
    t_x_levels: Floats
    t_x_index: NDArray[np.intp]
    T_levels: Floats
    T_index: NDArray[np.intp]

    @classmethod
    def of(cls, x: Floats, t_x: Floats, T: Floats) -> Patterns:
        # factor each column, then find unique rows through one integer key: ~30× faster
        # than ``np.unique(axis=0)`` on a million rows
        levels, codes = zip(*(np.unique(c, return_inverse=True) for c in (x, t_x, T)),
                            strict=True)
        sizes = [len(level) for level in levels]
        key = (codes[0].astype(np.int64) * sizes[1] + codes[1]) * sizes[2] + codes[2]
        unique_key, counts = np.unique(key, return_counts=True)
        x_code, rest = np.divmod(unique_key, sizes[1] * sizes[2])
        t_x_code, T_code = np.divmod(rest, sizes[2])
        return cls(levels[0][x_code], levels[1][t_x_code], levels[2][T_code],
                   counts.astype(np.float64), levels[0], x_code, levels[1], t_x_code,
                   levels[2], T_code)

    @property
    def x_counts(self) -> Floats:
        """Customers per distinct ``x`` (aligned with ``x_levels``)."""
        counts = np.bincount(self.x_index, weights=self.count, minlength=len(self.x_levels))
        return counts.astype(np.float64)


def as_array(values: ArrayLike, name: str) -> Floats:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise _invalid(f"{name} must be one-dimensional", name)
    if not np.all(np.isfinite(array)):
        raise _invalid(f"{name} holds a missing or infinite value", name)
    return array


def check_rfm(frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> tuple[Floats, ...]:
    """Validate a customer summary: whole ``x ≥ 0``, ``0 ≤ t_x ≤ T``, ``t_x = 0`` when x = 0."""
    x, t_x, age = (as_array(frequency, "frequency"), as_array(recency, "recency"),
                   as_array(T, "T"))
    if not len(x) == len(t_x) == len(age):
        raise _invalid("frequency, recency and T must have the same length", "frequency")
    if len(x) == 0:
        raise _invalid("no customers to fit", "frequency")
    if np.any(x < 0) or np.any(x != np.round(x)):
        raise _invalid("frequency must be a whole number ≥ 0", "frequency")
    if np.any(t_x < 0) or np.any(t_x > age + 1e-9):
        raise _invalid("recency must lie between 0 and T", "recency")
    if np.any((x == 0) & (t_x != 0)):
        raise _invalid("recency must be 0 for customers without repeat purchases", "recency")
    # a customer first seen on the last day (T = 0) adds nothing to the likelihood: allowed
    if np.any(age < 0) or not np.any(age > 0):
        raise _invalid("T must be ≥ 0 and positive for some customer", "T")
    return x, t_x, age


def time_scale(T: Floats) -> float:
    """A factor bringing the longest observation to 10 units, so starting values fit any unit."""
    return 10.0 / float(np.max(T))


def maximise(
    negative: Callable[[Floats], tuple[float, Floats] | float],
    start: Floats,
    *,
    gradient: bool,
) -> tuple[Floats, float]:
    """Minimise a negative log-likelihood over log-parameters; return them and the minimum."""
    result = minimize(
        negative, start, jac=gradient, method="L-BFGS-B",
        bounds=[(-LOG_BOUND, LOG_BOUND)] * len(start),
        options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8},
    )
    if not np.isfinite(result.fun):
        raise InvalidInput("the model could not be fitted: the likelihood is not finite",
                           [ErrorDetail("likelihood not finite", field="data")])
    return result.x, float(result.fun)


def check_fitted(model: object, *names: str) -> None:
    if not all(hasattr(model, name) for name in names):
        raise InvalidInput(f"{type(model).__name__} is not fitted yet: call fit first",
                           [ErrorDetail("not fitted", field="model")])


def _invalid(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, [ErrorDetail(message, field=field)])


def log_standard_errors(negative: Callable[[Floats], float], log_params: Floats,
                        step: float = 1e-4) -> Floats:
    """Standard errors of the log-parameters: the inverse observed information (a central
    difference Hessian of the negative log-likelihood). NaN where it is not invertible."""
    k = len(log_params)
    hessian = np.empty((k, k))
    shifts = np.eye(k) * step
    for i in range(k):
        for j in range(i, k):
            value = (negative(log_params + shifts[i] + shifts[j])
                     - negative(log_params + shifts[i] - shifts[j])
                     - negative(log_params - shifts[i] + shifts[j])
                     + negative(log_params - shifts[i] - shifts[j])) / (4 * step * step)
            hessian[i, j] = hessian[j, i] = value
    try:
        variance = np.diag(np.linalg.inv(hessian))
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    return np.sqrt(np.where(variance > 0, variance, np.nan))


def log_standard_errors_from_gradient(negative: Callable[[Floats], tuple[float, Floats]],
                                      log_params: Floats, step: float = 1e-5) -> Floats:
    """As ``log_standard_errors``, from central differences of an analytic gradient
    (2k evaluations instead of 4k²)."""
    k = len(log_params)
    columns = [(negative(log_params + step * e)[1] - negative(log_params - step * e)[1])
               / (2 * step) for e in np.eye(k)]
    hessian = np.column_stack(columns)
    hessian = (hessian + hessian.T) / 2
    try:
        variance = np.diag(np.linalg.inv(hessian))
    except np.linalg.LinAlgError:
        return np.full(k, np.nan)
    return np.sqrt(np.where(variance > 0, variance, np.nan))
