"""What every experiment statistic is computed from: a few sums per variant.

The engine (or, in analyst mode, pandas over a file) reduces the units of each variant to
counts and sums of values and of squared values; means, variances and every test follow
from those numbers, so no raw rows are needed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VariantSummary:
    """One variant's units, conversions and value sums.

    ``value_*`` sums run over every unit (value 0 for units that brought nothing);
    ``check_*`` sums run over converted units only (their value is the "check").
    """

    name: str
    units: int
    conversions: int
    value_sum: float = 0.0
    value_sq_sum: float = 0.0
    check_sum: float = 0.0
    check_sq_sum: float = 0.0

    def __post_init__(self) -> None:
        if self.units < 0 or self.conversions < 0 or self.conversions > self.units:
            raise ValueError(
                f"variant {self.name!r}: need 0 ≤ conversions ({self.conversions}) "
                f"≤ units ({self.units})"
            )

    @property
    def rate(self) -> float | None:
        return self.conversions / self.units if self.units else None

    @property
    def value_mean(self) -> float | None:
        return self.value_sum / self.units if self.units else None

    @property
    def value_var(self) -> float | None:
        """Sample variance (n − 1) of the value per unit."""
        return _variance(self.units, self.value_sum, self.value_sq_sum)

    @property
    def check_mean(self) -> float | None:
        return self.check_sum / self.conversions if self.conversions else None

    @property
    def check_var(self) -> float | None:
        return _variance(self.conversions, self.check_sum, self.check_sq_sum)

    def plus(self, other: VariantSummary) -> VariantSummary:
        """The sums of both (used to accumulate daily figures)."""
        return VariantSummary(
            self.name,
            self.units + other.units,
            self.conversions + other.conversions,
            self.value_sum + other.value_sum,
            self.value_sq_sum + other.value_sq_sum,
            self.check_sum + other.check_sum,
            self.check_sq_sum + other.check_sq_sum,
        )


def _variance(n: int, total: float, squares: float) -> float | None:
    if n < 2:
        return None
    return max(squares - total * total / n, 0.0) / (n - 1)
