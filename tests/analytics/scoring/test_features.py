"""The feature table on a tiny world, identical on every engine."""

from __future__ import annotations

import math

import pytest

from tests.analytics.factory import build
from voronka.activity.models import CallStatus, Direction
from voronka.analytics.scoring.features import HORIZON_HOURS, deal_features


def populate(w):  # type: ignore[no-untyped-def]
    w.channel("ads")
    w.campaign("spring", "ads")
    w.product("kettle", "1000")
    w.client("olga", owner="anna")
    w.client("ivan")
    # olga: a won deal in January, a paid order in February, then the deal we look at
    w.deal("olga", "2026-01-10 10:00", [("won", "2026-01-12 10:00")], owner="anna")
    w.order("olga", "2026-02-01 12:00", [("kettle", 1, "1000")])
    w.deal("olga", "2026-03-02 10:00", [], owner="anna", channel="ads", campaign="spring",
           amount="1000")
    # outbound call 2 h after the lead, another after the horizon, an inbound call (no reply)
    w.call("2026-03-02 12:00", CallStatus.ANSWERED, owner="anna",
           direction=Direction.OUTBOUND, client="olga")
    w.call("2026-03-03 16:00", CallStatus.ANSWERED, owner="anna",
           direction=Direction.OUTBOUND, client="olga")
    w.call("2026-03-02 11:00", CallStatus.ANSWERED, owner="anna",
           direction=Direction.INBOUND, client="olga")
    # ivan: a lost lead nobody called
    w.deal("ivan", "2026-03-05 09:00", [("lost", "2026-03-06 09:00")])


def test_features_of_a_tiny_world(store, analytics):
    world = build(store, populate)
    runner = analytics()
    rows = {r["deal_id"]: r for r in runner.rows(deal_features(runner.sources))}
    assert len(rows) == 3
    first, looked, lost = sorted(rows)
    deal = rows[looked]
    assert (deal["status"], deal["won"]) == ("open", 0)
    assert deal["channel"] == f"Ads #{world.channels['ads']}"
    assert deal["campaign"] == f"spring #{world.campaigns['spring']}"
    assert deal["manager"] == f"anna #{world.users['anna']}"
    assert deal["client_kind"] == "person"
    assert deal["log_amount"] == pytest.approx(math.log(1001))  # ln(1000 roubles + 1)
    assert (deal["prior_orders"], deal["prior_won"]) == (1, 1)  # the February order, January win
    assert (deal["contacts"], deal["response_hours"]) == (1, pytest.approx(2.0))
    assert rows[first]["prior_won"] == 0 and rows[first]["won"] == 1
    gone = rows[lost]
    assert (gone["won"], gone["channel"], gone["manager"]) == (0, "none", "none")
    assert (gone["contacts"], gone["response_hours"]) == (0, HORIZON_HOURS)
