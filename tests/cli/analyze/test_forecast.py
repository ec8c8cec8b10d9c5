"""``voronka analyze forecast``: the analyst-mode contract (options, JSON keys, errors)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.analytics.forecast.test_model import AIRLINE
from voronka.cli.analyze import app


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["forecast", *args])


def test_airline_passengers_as_json(tmp_path):
    """Series G by month: the airline model beats the seasonal naive one in the backtest and
    its forecast for January 1961 is 450.4 thousand (exp of the log-scale forecast; the same
    figure as statsmodels' SARIMAX(0,1,1)(0,1,1)₁₂ on log(AirPassengers))."""
    path = tmp_path / "airline.csv"
    months = [f"{1949 + i // 12}-{i % 12 + 1:02d}-01" for i in range(144)]
    path.write_text("month,passengers\n" + "".join(
        f"{m},{int(v)}\n" for m, v in zip(months, AIRLINE, strict=True)))
    result = _run(str(path), "--date", "month", "--value", "passengers", "--horizon", "12",
                  "--models", "seasonal_naive,arima", "--folds", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"model", "grain", "season_length", "level", "backtest", "history",
                         "forecast"}
    assert (data["model"], data["season_length"], len(data["history"])) == ("arima", 12, 144)
    assert [b["model"] for b in data["backtest"] if b["chosen"]] == ["arima"]
    first = data["forecast"][0]
    assert first["period"] == "1961-01-01"
    assert first["forecast"] == pytest.approx(450.4, abs=0.1)
    assert first["lower"] < first["forecast"] < first["upper"]


def test_daily_rows_summed_by_month_as_csv(tmp_path):
    """Rows on the 1st and 20th of each month, 1 + 2 = 3 per month over 14 months, except an
    empty March 2025 (0) and February 2026 with 2 more (5); the seasonal naive forecast
    (season 12) for March 2026 repeats March 2025: 0, then April 2025: 3. The residuals
    y_t − y_{t−12} are 0 (January) and 2 (February): σ̂ = √2, 95 % half-width
    1.959964 · √2 = 2.7718."""
    path = tmp_path / "sales.csv"
    lines = ["paid;total"]
    for i in range(14):
        year, month = 2025 + i // 12, i % 12 + 1
        if (year, month) != (2025, 3):
            lines += [f"{year}-{month:02d}-01;1", f"{year}-{month:02d}-20 15:30;2"]
    lines.append("2026-02-10;2")
    path.write_text("\n".join(lines) + "\n")
    result = _run(str(path), "--date", "paid", "--value", "total", "--separator", ";",
                  "--horizon", "2", "--models", "seasonal_naive", "--folds", "1",
                  "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[:3] == [
        "period,forecast,lower,upper", "2026-03-01,0.0,-2.7718,2.7718",
        "2026-04-01,3.0,0.2282,5.7718"]


def test_mistakes_are_one_sentence(tmp_path):
    path = tmp_path / "sales.csv"
    path.write_text("day,total\n2026-01-01,5\nyesterday,6\n")
    bad = _run(str(path), "--date", "day", "--value", "total")
    assert bad.exit_code == 1
    assert bad.output.strip() == (
        "error: sales.csv: column 'day', row 3: 'yesterday' is not a date")
    grain = _run(str(path), "--date", "day", "--value", "total", "--grain", "year")
    assert grain.output.strip() == "error: --grain must be one of day, week, month, not 'year'"
