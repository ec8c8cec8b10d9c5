"""The weighted pipeline with stage probabilities calibrated from a hand-checkable history.

Pipeline new → qualified → proposal → won / lost; default probabilities 10 %, 30 %, 60 %.
Deals closed in March 2026:

| deal | path                                   | won |
|------|----------------------------------------|-----|
| d1   | new → qualified → proposal → won       | yes |
| d2   | new → qualified → lost                 | no  |
| d3   | new → lost                             | no  |
| d4   | new → qualified → proposal → won       | yes |
| d5   | new → qualified → proposal → lost      | no  |

Reached / won: new 5 / 2, qualified 4 / 2, proposal 3 / 2; the pipeline's win rate is 2 / 5.
With prior strength k = 2: new (2 + 0.8) ÷ 7 = 0.4, qualified 2.8 ÷ 6 = 0.4667, proposal
2.8 ÷ 5 = 0.56. d0, won in February, is outside the history.

Open now: d6 in qualified (1,000), d7 in proposal (500), d8 in new (200). Weighted with
calibrated probabilities: 200·0.4 + 1000·2.8/6 + 500·0.56 = 80 + 466.67 + 280 = 826.67; with
the defaults: 200·0.1 + 1000·0.3 + 500·0.6 = 20 + 300 + 300 = 620.
"""

from __future__ import annotations

import pytest

from tests.analytics.factory import build
from voronka.analytics.forecast import pipeline
from voronka.analytics.forecast.pipeline import PipelineForecastQuery
from voronka.analytics.query import Period
from voronka.pipeline.models import Stage

MARCH = Period(start="2026-03-01", end="2026-03-31")


def company(w):  # type: ignore[no-untyped-def]
    for stage, probability in (("new", 10), ("qualified", 30), ("proposal", 60)):
        w.session.get(Stage, w.stages[stage]).probability = probability
    w.client("kira")
    won = [("qualified", "2026-03-02 10:00"), ("proposal", "2026-03-03 10:00"),
           ("won", "2026-03-04 10:00")]
    w.deal("kira", "2026-02-01 10:00", [("won", "2026-02-10 10:00")])  # d0: February
    w.deal("kira", "2026-03-01 10:00", won)
    w.deal("kira", "2026-03-01 10:00", [("qualified", "2026-03-02 10:00"),
                                        ("lost", "2026-03-05 10:00")])
    w.deal("kira", "2026-03-01 10:00", [("lost", "2026-03-05 10:00")])
    w.deal("kira", "2026-03-01 10:00", won)
    w.deal("kira", "2026-03-01 10:00", [("qualified", "2026-03-02 10:00"),
                                        ("proposal", "2026-03-03 10:00"),
                                        ("lost", "2026-03-06 10:00")])
    w.deal("kira", "2026-03-10 10:00", [("qualified", "2026-03-11 10:00")], amount="1000.00")
    w.deal("kira", "2026-03-10 10:00", [("qualified", "2026-03-11 10:00"),
                                        ("proposal", "2026-03-12 10:00")], amount="500.00")
    w.deal("kira", "2026-03-10 10:00", amount="200.00")


@pytest.fixture
def runner(store, analytics):  # type: ignore[no-untyped-def]
    build(store, company)
    return analytics()


def test_calibrated_probabilities_and_weighted_pipeline(runner):
    result = pipeline.run(runner, PipelineForecastQuery(period=MARCH, prior_strength=2))
    assert result.row_counts == {"closed_deals": 5, "open_deals": 3}
    rows = {r["stage"]: r for r in result.rows}
    assert [r["stage"] for r in result.rows] == ["new", "qualified", "proposal", None]
    expected = {"new": (5, 2, 0.4, 0.4, 0.1, 1, 200.0),
                "qualified": (4, 2, 0.5, 2.8 / 6, 0.3, 1, 1000.0),
                "proposal": (3, 2, 2 / 3, 0.56, 0.6, 1, 500.0)}
    for stage, (reached, won, raw, calibrated, default, deals, amount) in expected.items():
        row = rows[stage]
        assert (row["reached"], row["won"], row["open_deals"], row["open_amount"]) == (
            reached, won, deals, amount)
        assert row["raw_probability"] == pytest.approx(raw)
        assert row["calibrated_probability"] == pytest.approx(calibrated)
        assert row["default_probability"] == pytest.approx(default)
        assert row["pipeline_win_rate"] == pytest.approx(0.4)
    total = result.rows[-1]
    assert (total["pipeline"], total["open_deals"], total["open_amount"]) == ("total", 3, 1700.0)
    assert total["weighted_calibrated"] == pytest.approx(80 + 1000 * 2.8 / 6 + 280)
    assert total["weighted_default"] == pytest.approx(620.0)

    # without a prior the raw shares are used
    rows = pipeline.run(runner, PipelineForecastQuery(period=MARCH, prior_strength=0)).rows
    assert [r["calibrated_probability"] for r in rows[:3]] == pytest.approx([0.4, 0.5, 2 / 3])

    # no deal closed in January: no calibrated probability, weighted sum 0, defaults kept
    rows = pipeline.run(runner, PipelineForecastQuery(
        period=Period(start="2026-01-01", end="2026-01-31"))).rows
    assert [r["calibrated_probability"] for r in rows[:3]] == [None, None, None]
    assert rows[-1]["weighted_calibrated"] == 0.0
    assert rows[-1]["weighted_default"] == pytest.approx(620.0)
