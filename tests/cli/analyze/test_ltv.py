"""``voronka analyze ltv`` as an analyst runs it: a real process on a CSV file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.analytics.ltv import cdnow

VORONKA = Path(sys.executable).with_name("voronka")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(VORONKA), "analyze", "ltv", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ltv") / "cdnow.csv"
    raw = cdnow.transactions()
    raw[["customer", "date", "amount"]].rename(columns={"customer": "client"}).to_csv(
        path, index=False)
    return path


def test_cdnow_from_the_command_line(cdnow_csv):
    result = _run(str(cdnow_csv), "--customer", "client", "--date", "date", "--amount",
                  "amount", "--calibration-end", "1997-09-30", "--top", "2", "--format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # Fader, Hardie & Lee (2005): r 0.243, α 4.414, a 0.793, b 2.426, LL −9582.4;
    # Fader & Hardie (2013): p 6.25, q 3.74, v 15.44 (see tests/analytics/ltv/test_models.py)
    assert {k: round(out[k], 3) for k in ("r", "alpha", "a", "b")} == {
        "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(out["log_likelihood"], 1) == -9582.4
    assert {k: round(out[k], 2) for k in ("p", "q", "v")} == {"p": 6.25, "q": 3.74, "v": 15.44}
    assert (out["customers_total"], out["repeat_customers"]) == (2357, 946)
    # holdout weeks 40–78: 1,882 repeat purchases in the file (counted by the summariser)
    assert out["holdout"]["actual_purchases"] == 1882
    assert [c["customer"] for c in out["customers"]] == ["0509", "1081"]  # ids stay text
    assert out["customers"][0]["clv"] > out["customers"][1]["clv"] > 0


def test_pareto_nbd_in_days(cdnow_csv):
    result = _run(str(cdnow_csv), "--customer", "client", "--date", "date", "--amount",
                  "amount", "--calibration-end", "1997-09-30", "--model", "pnbd",
                  "--time-unit", "day", "--top", "1", "--format", "json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    # days instead of weeks: the shapes stay, the scales are 7× the weekly 10.578 and 11.669
    assert round(out["r"], 2) == 0.55 and round(out["s"], 2) == 0.61
    assert out["alpha"] / 7 == pytest.approx(10.578, rel=2e-3)
    assert out["beta"] / 7 == pytest.approx(11.669, rel=2e-3)


def test_bad_value_names_column_and_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("client,date,amount\n1,2026-01-01,10\n1,2026-01-05,ten\n")
    result = _run(str(path), "--customer", "client", "--date", "date", "--amount", "amount")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "error: column 'amount', row 3: cannot read 'ten' as a number")
