"""Lifetime value on a plain table of transactions: the analyst-mode entry point.

``fit_ltv(frame, customer=..., date=..., amount=...)`` takes any pandas frame (values may be
text, as read from a CSV) and returns the fitted parameters and per-customer predictions as
one JSON-ready dict: the CLI (``voronka analyze ltv``) prints exactly this.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from voronka.analytics.ltv.gamma_gamma import GammaGammaModel
from voronka.analytics.ltv.summary import TimeUnit, daily_transactions, summarise
from voronka.analytics.ltv.value import (
    PurchaseModelName,
    cumulative_purchases,
    discounted_value,
    purchase_model,
)
from voronka.errors import ErrorDetail, InvalidInput, VoronkaError

#: Days in the CLV period ("a month") and in the default prediction horizon ("a year").
MONTH_DAYS = 365.25 / 12
YEAR_DAYS = 365.0


def fit_ltv(
    frame: pd.DataFrame,
    *,
    customer: str,
    date: str,
    amount: str,
    calibration_end: date | None = None,
    time_unit: TimeUnit | str = TimeUnit.WEEK,
    model: PurchaseModelName | str = PurchaseModelName.BGNBD,
    horizon: float | None = None,
    periods: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    top: int | None = None,
) -> dict[str, Any]:
    """Fit the purchase model (BG/NBD or Pareto/NBD) and Gamma-Gamma on ``frame``.

    Parameters
    ----------
    frame
        One row per purchase; ``customer``, ``date`` and ``amount`` name its columns.
    calibration_end
        Last day the models learn from; later purchases form the holdout, which is
        compared with the prediction (default: the last day in the data, no holdout).
    horizon
        Time units ahead for ``expected_purchases`` (default: one year).
    periods, discount_rate, margin
        CLV: ``periods`` months ahead, discounted at ``discount_rate`` a month, times the
        ``margin`` share of revenue kept.
    top
        Keep only the ``top`` customers by CLV (default: all).
    """
    unit = TimeUnit(time_unit)
    _check_options(periods, discount_rate, margin, horizon, top)
    daily = daily_transactions(_typed(frame, customer, date, amount), customer=customer,
                               day=date, amount=amount)
    summary = summarise(daily, calibration_end=calibration_end, time_unit=unit)
    purchases = purchase_model(model).fit(summary["frequency"], summary["recency"],
                                          summary["T"])
    spend = _spend_model(summary)
    horizon = horizon if horizon is not None else YEAR_DAYS / unit.days
    predictions = _predictions(summary, purchases, spend, unit, horizon, periods,
                               discount_rate, margin)
    result: dict[str, Any] = {
        "model": PurchaseModelName(model).value,
        "time_unit": unit.value,
        "calibration_end": (calibration_end or pd.to_datetime(daily["day"]).max().date())
        .isoformat(),
        "customers_total": int(len(summary)),
        "repeat_customers": int((summary["frequency"] > 0).sum()),
        **purchases.params_,
        "log_likelihood": purchases.log_likelihood_,
        "standard_errors": {**purchases.standard_errors_,
                            **(spend.standard_errors_ if spend else {})},
        **_spend_fields(spend),
        "horizon": horizon,
        "clv_periods": periods,
        "discount_rate": discount_rate,
        "margin": margin,
        "holdout": _holdout(summary, purchases),
    }
    ranked = predictions.sort_values(["clv", "customer"], ascending=[False, True])
    ranked = ranked.head(top) if top else ranked
    # NaN (no spend model) is not JSON: it becomes null
    result["customers"] = [{k: None if isinstance(v, float) and np.isnan(v) else v
                            for k, v in row.items()} for row in ranked.to_dict("records")]
    return result


def _check_options(periods: int, discount_rate: float, margin: float, horizon: float | None,
                   top: int | None) -> None:
    checks = [(periods >= 1, "periods", "must be at least 1"),
              (0 <= discount_rate < 1, "discount_rate", "must be in [0, 1)"),
              (0 < margin <= 1, "margin", "must be in (0, 1]"),
              (horizon is None or horizon > 0, "horizon", "must be positive"),
              (top is None or top >= 1, "top", "must be at least 1")]
    for ok, field, message in checks:
        if not ok:
            raise InvalidInput(f"{field} {message}", [ErrorDetail(message, field=field)])


def _typed(frame: pd.DataFrame, customer: str, date: str, amount: str) -> pd.DataFrame:
    """Dates and amounts parsed; the first bad value is reported with its row (1 = header)."""
    days = pd.to_datetime(frame[date], errors="coerce", format="mixed")
    values = pd.to_numeric(frame[amount], errors="coerce")
    for column, parsed in ((date, days), (amount, values)):
        bad = np.flatnonzero(parsed.isna().to_numpy())
        if len(bad):
            row = int(bad[0])
            raise InvalidInput(
                f"column {column!r}, row {row + 2}: cannot read {frame[column].iloc[row]!r} as "
                f"{'a date' if column == date else 'a number'}",
                [ErrorDetail("unreadable value", field=column, row=row + 2,
                             value=str(frame[column].iloc[row])[:64])])
    ids = frame[customer]
    empty = (ids.isna() | (ids.astype(str).str.strip() == "")).to_numpy()
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise InvalidInput(f"column {customer!r}, row {row + 2}: empty customer",
                           [ErrorDetail("empty", field=customer, row=row + 2)])
    return pd.DataFrame({customer: ids, date: days.dt.normalize(), amount: values})


def _spend_model(summary: pd.DataFrame) -> GammaGammaModel | None:
    try:
        return GammaGammaModel().fit(summary["frequency"], summary["monetary"])
    except VoronkaError:
        return None  # too few repeat customers: purchases are still predicted, CLV is not


def _spend_fields(spend: GammaGammaModel | None) -> dict[str, Any]:
    if spend is None:
        return {"p": None, "q": None, "v": None, "spend_log_likelihood": None,
                "mean_spend": None}
    return {**spend.params_, "spend_log_likelihood": spend.log_likelihood_,
            "mean_spend": spend.mean_spend_}


def _predictions(summary: pd.DataFrame, purchases: Any, spend: GammaGammaModel | None,
                 unit: TimeUnit, horizon: float, periods: int, discount_rate: float,
                 margin: float) -> pd.DataFrame:
    x, t_x, age = summary["frequency"], summary["recency"], summary["T"]
    out = summary[["frequency", "recency", "T", "monetary"]].copy()
    out["probability_alive"] = purchases.probability_alive(x, t_x, age)
    out["expected_purchases"] = purchases.expected_purchases(horizon, x, t_x, age)
    if spend is None:
        out["expected_spend"] = np.nan
        out["clv"] = np.nan
    else:
        out["expected_spend"] = spend.expected_spend(x, summary["monetary"])
        cumulative = cumulative_purchases(purchases, periods, MONTH_DAYS / unit.days, x, t_x, age)
        out["clv"] = discounted_value(cumulative, out["expected_spend"],
                                      discount_rate=discount_rate, margin=margin)
    return out.reset_index()


def _holdout(summary: pd.DataFrame, purchases: Any) -> dict[str, Any] | None:
    """Predicted vs actual purchases after the calibration end (None without a holdout)."""
    if "frequency_holdout" not in summary:
        return None
    duration = float(summary["duration_holdout"].iloc[0])
    predicted = purchases.expected_purchases(duration, summary["frequency"],
                                             summary["recency"], summary["T"])
    actual = summary["frequency_holdout"].to_numpy(dtype=np.float64)
    return {
        "duration": duration,
        "actual_purchases": int(actual.sum()),
        "predicted_purchases": float(predicted.sum()),
        "mean_absolute_error": float(np.mean(np.abs(predicted - actual))),
        "correlation": float(np.corrcoef(predicted, actual)[0, 1]) if actual.std() > 0 else None,
    }
