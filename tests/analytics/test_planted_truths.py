"""The reports recover the truths planted in the demo company (docs/demo.md), on every engine.

A 4,000-client company (seed 11) is generated into the store; the reports then have to find:
- each big channel's planted win rate, within four binomial standard errors (plus 0.02 for
  deals whose creation and closing straddle the period's edges);
- the best-built manager on top of the scorecard's win rates;
- the planted cost per lead of the biggest paid channel, within four standard errors of the
  lead count it is divided by.
"""

from __future__ import annotations

import math

import pytest

from voronka.analytics.query import Breakdown, Period
from voronka.analytics.reports import metrics, scorecard
from voronka.demo import DemoParams, generate

PARAMS = DemoParams()
#: Twenty months that end well before the demo's last day, so their deals have closed.
SETTLED = Period(start="2024-11-01", end="2026-06-30")


@pytest.fixture
def demo_runner(store, analytics):  # type: ignore[no-untyped-def]
    generate(store, clients=4_000, seed=11)
    return analytics()


def _by_channel(runner, slugs: tuple[str, ...]):  # type: ignore[no-untyped-def]
    query = metrics.MetricsQuery(period=SETTLED, metrics=slugs, breakdown=Breakdown.CHANNEL,
                                 compare=False)
    return {(row["label"], row["metric"]): row["value"]
            for row in metrics.run(runner, query).rows}


def test_reports_recover_the_planted_truths(demo_runner):
    found = _by_channel(demo_runner, ("win_rate", "leads", "won_deals", "cpl"))
    for channel in sorted(PARAMS.channels, key=lambda c: c.lead_share, reverse=True)[:2]:
        closed = found[(channel.name, "won_deals")] / (found[(channel.name, "win_rate")] / 100)
        tolerance = 4 * math.sqrt(channel.win_rate * (1 - channel.win_rate) / closed) + 0.02
        assert abs(found[(channel.name, "win_rate")] / 100 - channel.win_rate) < tolerance

    paid = max((c for c in PARAMS.channels if c.cost_per_lead > 0), key=lambda c: c.lead_share)
    leads = found[(paid.name, "leads")]
    relative = 4 / math.sqrt(leads) + 0.05  # + the share of leads outside the spend window
    assert abs(found[(paid.name, "cpl")] / paid.cost_per_lead - 1) < relative

    rows = scorecard.run(demo_runner, scorecard.ScorecardQuery(period=SETTLED)).rows
    managers = [r for r in rows if r["row_type"] == "manager" and r["win_rate_pct"] is not None]
    best = max(managers, key=lambda r: r["win_rate_pct"])
    assert best["manager"] == PARAMS.managers[PARAMS.best_manager].name
