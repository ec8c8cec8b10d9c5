"""Attribution recovers a truth planted in the demo company, on every engine.

The demo (``demo/touchpoints.py``) starts every client's path with a touch through the lead's
own channel, before any other touch; each client has one deal. So first-touch attribution of
won deals, with a window long enough to reach back to that first touch (366 days; the first
touch comes a mean 10 days before the lead, and deals close within ~65 days), must credit each
channel with exactly the won deals whose deal channel it is — the metrics report's
``won_deals`` by channel — and every won deal must have a journey.
"""

from __future__ import annotations

from voronka.analytics.attribution.report import AttributionQuery, run
from voronka.analytics.query import Breakdown, Period
from voronka.analytics.reports import metrics
from voronka.demo import generate

SETTLED = Period(start="2024-11-01", end="2026-06-30")


def test_first_touch_credits_each_lead_channel_with_its_won_deals(store, analytics):
    generate(store, clients=500, seed=11)
    runner = analytics()
    query = AttributionQuery(period=SETTLED, lookback_days=366, models=["first_touch"],
                             metrics=[])
    result = run(runner, query)
    first = {r["channel"]: r["conversions"] for r in result.rows if r["conversions"]}
    won = {r["label"]: r["value"] for r in metrics.run(runner, metrics.MetricsQuery(
        period=SETTLED, metrics=("won_deals",), breakdown=Breakdown.CHANNEL, compare=False)).rows
        if r["value"]}
    assert first == won
    assert len(won) == 8  # every channel of the demo has won deals in these 20 months
    assert result.row_counts["untouched_conversions"] == 0
    assert result.row_counts["conversions"] == sum(won.values())
