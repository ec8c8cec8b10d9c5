"""From transactions (customer, date, amount) to the customer summary the models fit on.

Rules (the BTYD convention, as in Fader & Hardie's CDNOW work):
- purchases of one customer on one day are one transaction (their amounts add up);
- the first transaction starts the customer's clock and is not a repeat purchase;
- ``frequency`` = repeat transactions up to the calibration end, ``recency`` = time from the
  first to the last of them (0 without repeats), ``T`` = time from the first transaction to
  the calibration end, ``monetary`` = mean value of the repeat transactions (0 without);
- with a holdout, ``frequency_holdout`` counts transactions after the calibration end up to
  the observation end, over ``duration_holdout``; customers first seen after the calibration
  end are left out;
- time is measured in days, or in weeks of seven days (day counts ÷ 7).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import numpy as np
import pandas as pd

from voronka.errors import ErrorDetail, InvalidInput


class TimeUnit(StrEnum):
    DAY = "day"
    WEEK = "week"

    @property
    def days(self) -> int:
        return 7 if self is TimeUnit.WEEK else 1


SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary")


def daily_transactions(frame: pd.DataFrame, *, customer: str, day: str,
                       amount: str) -> pd.DataFrame:
    """One row per customer and day with the day's total; the input is already typed."""
    grouped = frame.groupby([customer, day], sort=True, observed=True)[amount].sum()
    return grouped.reset_index().rename(
        columns={customer: "customer", day: "day", amount: "amount"})


def summarise(transactions: pd.DataFrame, *, calibration_end: date | None = None,
              observation_end: date | None = None,
              time_unit: TimeUnit = TimeUnit.WEEK) -> pd.DataFrame:
    """The customer summary of daily ``transactions`` (columns customer, day, amount).

    ``calibration_end`` defaults to the last day in the data, ``observation_end`` to the
    last day as well; both days are included in their periods. Returns one row per customer
    (index ``customer``) with ``frequency, recency, T, monetary`` and, when the observation
    runs past the calibration, ``frequency_holdout`` and ``duration_holdout``.
    """
    if transactions.empty:
        raise InvalidInput("no transactions to summarise",
                           [ErrorDetail("no rows", field="file")])
    days = pd.to_datetime(transactions["day"]).dt.normalize()
    last = days.max().date()
    calibration_end = calibration_end or last
    observation_end = max(observation_end or last, calibration_end)
    cal_end = pd.Timestamp(calibration_end)
    t = transactions.assign(day=days)
    first = t.groupby("customer", sort=True)["day"].min()
    first = first[first <= cal_end]
    if first.empty:
        raise InvalidInput(f"no customer bought on or before the calibration end "
                           f"{calibration_end}", [ErrorDetail("after every purchase",
                                                              field="calibration_end")])
    t = t[t["customer"].isin(first.index)]
    t = t.assign(first=t["customer"].map(first))
    calibration = t[t["day"] <= cal_end]
    repeat = calibration[calibration["day"] > calibration["first"]]
    unit = float(time_unit.days)
    by_customer = repeat.groupby("customer")
    frequency = by_customer.size().reindex(first.index, fill_value=0)
    last_repeat = by_customer["day"].max().reindex(first.index)
    recency = ((last_repeat - first).dt.days / unit).fillna(0.0)
    monetary = by_customer["amount"].mean().reindex(first.index).fillna(0.0)
    summary = pd.DataFrame({
        "frequency": frequency.astype(np.int64),
        "recency": recency.astype(np.float64),
        "T": ((cal_end - first).dt.days / unit).astype(np.float64),
        "monetary": monetary.astype(np.float64),
    })
    summary.index.name = "customer"
    if pd.Timestamp(observation_end) > cal_end:
        holdout = t[t["day"] > cal_end].groupby("customer").size()
        summary["frequency_holdout"] = holdout.reindex(first.index, fill_value=0).astype(np.int64)
        summary["duration_holdout"] = (pd.Timestamp(observation_end) - cal_end).days / unit
    return summary
