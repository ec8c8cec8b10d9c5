"""Analyst mode: an A/B/n test from a file with one row per unit (visitor, lead, user).

The file names each unit's variant, whether it converted and, optionally, its value (revenue)
and the day it arrived (for the looks of the peeking guard). Values are parsed here so that
a bad one is reported with its row and column.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from voronka.analytics.experiment.model import ABTest
from voronka.analytics.experiment.summary import VariantSummary
from voronka.errors import ErrorDetail, InvalidInput

_TRUE = {"1", "true", "yes", "y", "t", "won", "да"}
_FALSE = {"0", "false", "no", "n", "f", "lost", "нет", ""}


def _bad(column: str, index: int, value: Any, what: str) -> InvalidInput:
    row = index + 2  # the header is line 1
    message = f"column {column!r}, row {row}: {what}, got {str(value)[:40]!r}"
    return InvalidInput(message, [ErrorDetail(what, field=column, row=row,
                                              value=str(value)[:64])])


def _flags(series: pd.Series, column: str) -> list[bool]:
    out = []
    for index, raw in enumerate(series.tolist()):
        text = str(raw).strip().lower() if raw is not None else ""
        if text in _TRUE or text in ("1.0",):
            out.append(True)
        elif text in _FALSE or text in ("0.0", "nan"):
            out.append(False)
        else:
            raise _bad(column, index, raw, "expected 1/0, true/false or yes/no")
    return out


def _numbers(series: pd.Series, column: str) -> list[float]:
    out = []
    for index, raw in enumerate(series.tolist()):
        text = str(raw).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        if text in ("", "nan", "None"):
            out.append(0.0)
            continue
        try:
            number = float(text)
        except ValueError:
            raise _bad(column, index, raw, "expected a number") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise _bad(column, index, raw, "expected a finite number")
        out.append(number)
    return out


def _summaries(frame: pd.DataFrame, names: list[str]) -> list[VariantSummary]:
    grouped = frame.groupby("variant", sort=False).agg(
        units=("converted", "size"), conversions=("converted", "sum"),
        value_sum=("value", "sum"), value_sq_sum=("value_sq", "sum"),
        check_sum=("check", "sum"), check_sq_sum=("check_sq", "sum"))
    out = []
    for name in names:
        if name not in grouped.index:
            out.append(VariantSummary(name, 0, 0))
            continue
        r = grouped.loc[name]
        out.append(VariantSummary(name, int(r.units), int(r.conversions), float(r.value_sum),
                                  float(r.value_sq_sum), float(r.check_sum),
                                  float(r.check_sq_sum)))
    return out


def analyze_frame(frame: pd.DataFrame, *, variant: str, converted: str,
                  value: str | None = None, day: str | None = None,
                  control: str | None = None, alpha: float = 0.05, power: float = 0.8,
                  mde: float = 0.1, primary: str = "conversion", seed: int = 0,
                  burn_in: int = 50) -> dict[str, Any]:
    """Fit ``ABTest`` on the units of ``frame``; the control is ``control`` or the first."""
    if frame.empty:
        raise InvalidInput("the file has no rows", [ErrorDetail("no rows", field="file")])
    units = pd.DataFrame({"variant": frame[variant].astype(str).str.strip(),
                          "converted": _flags(frame[converted], converted)})
    units["value"] = _numbers(frame[value], value) if value else 0.0
    units["check"] = units["value"].where(units["converted"], 0.0)
    units["value_sq"], units["check_sq"] = units["value"] ** 2, units["check"] ** 2
    names = list(dict.fromkeys(units["variant"]))
    if control is not None:
        if control not in names:
            raise InvalidInput(
                f"no variant {control!r} in column {variant!r}; variants: {', '.join(names)}",
                [ErrorDetail("unknown variant", field="control", value=control[:64])])
        names.remove(control)
        names.insert(0, control)
    looks = None
    if day is not None:
        units["day"] = frame[day].astype(str).str.strip().to_numpy()
        looks, running = [], [VariantSummary(n, 0, 0) for n in names]
        for _, part in units.groupby("day", sort=True):
            found = _summaries(part, names)
            running = [r.plus(f) for r, f in zip(running, found, strict=True)]
            looks.append(running)
    test = ABTest(alpha=alpha, power=power, mde=mde, primary=primary, seed=seed,
                  burn_in=burn_in)
    return test.fit(_summaries(units, names), looks).as_dict()
