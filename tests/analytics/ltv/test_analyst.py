"""``fit_ltv`` on a pandas frame, as an analyst calls it in a notebook."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from tests.analytics.ltv import cdnow
from voronka.analytics.ltv import fit_ltv
from voronka.errors import InvalidInput


def test_typed_frame_with_holdout():
    raw = cdnow.transactions()
    frame = pd.DataFrame({"who": raw["customer"].astype(int),
                          "when": pd.to_datetime(raw["date"], format="%Y%m%d"),
                          "paid": raw["amount"].astype(float)})
    result = fit_ltv(frame, customer="who", date="when", amount="paid",
                     calibration_end=date(1997, 9, 30), top=5, margin=0.3)
    # Fader, Hardie & Lee (2005) and Fader & Hardie (2013), see test_models.py
    assert (round(result["r"], 3), round(result["b"], 3), round(result["v"], 2)) == (
        0.243, 2.426, 15.44)
    assert set(result["standard_errors"]) == {"r", "alpha", "a", "b", "p", "q", "v"}
    assert result["holdout"]["duration"] == 39.0  # 1 Oct 1997 … 30 Jun 1998 = 273 days
    assert len(result["customers"]) == 5
    top = result["customers"][0]
    assert isinstance(top["customer"], int)  # ids keep their type
    assert top["clv"] == max(c["clv"] for c in result["customers"])


def test_too_few_repeat_customers_leave_spend_empty():
    frame = pd.DataFrame({"c": ["a", "a", "b", "c"],
                          "d": ["2026-01-01", "2026-01-08", "2026-01-02", "2026-01-03"],
                          "v": ["10", "20", "5", "7"]})
    result = fit_ltv(frame, customer="c", date="d", amount="v", time_unit="day")
    assert (result["p"], result["q"], result["v"]) == (None, None, None)
    assert result["repeat_customers"] == 1
    assert all(c["clv"] is None and c["expected_spend"] is None for c in result["customers"])


@pytest.mark.parametrize(("column", "value", "message"), [
    ("d", "soon", "column 'd', row 3: cannot read 'soon' as a date"),
    ("v", "", "column 'v', row 3: cannot read '' as a number"),
])
def test_bad_values_name_column_and_row(column, value, message):
    frame = pd.DataFrame({"c": ["a", "b"], "d": ["2026-01-01", "2026-01-02"], "v": ["1", "2"]})
    frame.loc[1, column] = value
    with pytest.raises(InvalidInput) as raised:
        fit_ltv(frame, customer="c", date="d", amount="v")
    assert raised.value.message == message
    assert (raised.value.details[0].field, raised.value.details[0].row) == (column, 3)
