"""Discounted customer lifetime value from a purchase model and a spend model."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from voronka.analytics.ltv.bgnbd import BetaGeoModel
from voronka.analytics.ltv.fitting import Floats
from voronka.analytics.ltv.pnbd import ParetoNBDModel


class PurchaseModelName(StrEnum):
    BGNBD = "bgnbd"
    PNBD = "pnbd"


class PurchaseModel(Protocol):
    log_likelihood_: float
    standard_errors_: dict[str, float]

    @property
    def params_(self) -> dict[str, float]: ...

    def fit(self, frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> PurchaseModel: ...

    def probability_alive(self, frequency: ArrayLike, recency: ArrayLike,
                          T: ArrayLike) -> Floats: ...

    def expected_purchases(self, horizon: float, frequency: ArrayLike, recency: ArrayLike,
                           T: ArrayLike) -> Floats: ...


def purchase_model(name: PurchaseModelName | str) -> PurchaseModel:
    """A new, unfitted purchase model by name (``bgnbd`` or ``pnbd``)."""
    models = {PurchaseModelName.BGNBD: BetaGeoModel, PurchaseModelName.PNBD: ParetoNBDModel}
    return models[PurchaseModelName(name)]()  # type: ignore[return-value]


def cumulative_purchases(model: PurchaseModel, periods: int, period_length: float,
                         frequency: ArrayLike, recency: ArrayLike, T: ArrayLike) -> Floats:
    """Expected purchases by the end of each of ``periods`` periods: shape (customers, periods)."""
    return np.column_stack([
        model.expected_purchases(k * period_length, frequency, recency, T)
        for k in range(1, periods + 1)
    ])


def discounted_value(cumulative: Floats, spend: ArrayLike, *, discount_rate: float,
                     margin: float = 1.0) -> Floats:
    """Σₖ margin × spend × (purchases in period k) ÷ (1 + d)ᵏ, per customer.

    ``cumulative`` is ``cumulative_purchases(...)``; ``discount_rate`` is per period (e.g.
    0.01 a month), the purchases of period k are discounted as if made at its end.

    References
    ----------
    Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using iso-value curves
    for customer base analysis. *Journal of Marketing Research*, 42(4), 415–430 (DERT × the
    expected value of a purchase; here in discrete periods).
    """
    per_period = np.diff(cumulative, axis=1, prepend=0.0)
    factors = (1.0 + discount_rate) ** -np.arange(1, cumulative.shape[1] + 1)
    return margin * np.asarray(spend, dtype=np.float64) * (per_period @ factors)
