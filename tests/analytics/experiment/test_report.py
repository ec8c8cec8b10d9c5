"""The experiment report on CRM data, on every engine (duckdb, postgres, spark)."""

from __future__ import annotations

import pytest
from scipy import stats

from tests.analytics.factory import build
from voronka.analytics.experiment.report import ExperimentQuery, run
from voronka.analytics.query import Period


def populate(w):  # type: ignore[no-untyped-def]
    w.channel("ads")
    w.campaign("spring", "ads")
    w.campaign("summer", "ads")
    w.campaign("other", "ads")
    w.product("kettle", "1000")
    for name in ("c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10"):
        w.client(name)

    def deal(client, day, campaign, won=None, revenue=None):  # type: ignore[no-untyped-def]
        path = [] if won is None else [("won" if won else "lost", f"{day} 18:00")]
        deal_id = w.deal(client, f"{day} 10:00", path, campaign=campaign)
        if revenue:
            w.order(client, f"{day} 19:00", [("kettle", revenue // 1000, "1000")], deal=deal_id)

    # control "spring": 4 leads, 1 won worth 1000
    deal("c1", "2026-03-02", "spring", True, 1000)
    deal("c2", "2026-03-02", "spring", False)
    deal("c3", "2026-03-03", "spring", False)
    deal("c4", "2026-03-03", "spring")
    # variant "summer": 4 leads, 3 won worth 2000, 3000 and 1000
    deal("c5", "2026-03-02", "summer", True, 2000)
    deal("c6", "2026-03-02", "summer", True, 3000)
    deal("c7", "2026-03-03", "summer", True, 1000)
    deal("c8", "2026-03-03", "summer", False)
    # not in the experiment: another campaign, and a lead after the period
    deal("c9", "2026-03-02", "other", True, 5000)
    deal("c10", "2026-03-05", "summer", True, 5000)


def test_campaigns_compared_on_every_engine(store, analytics):
    world = build(store, populate)
    ids = (world.campaigns["spring"], world.campaigns["summer"])
    query = ExperimentQuery(period=Period(start="2026-03-02", end="2026-03-03"),
                            campaign_ids=ids, mde=2.0, burn_in=2)
    result = run(analytics(), query)
    rows = {(r["variant"], r["figure"]): r for r in result.rows if r["row_type"] == "variant"}
    assert result.row_counts == {"leads": 8}

    control, variant = rows[("spring", "conversion")], rows[("summer", "conversion")]
    assert (control["units"], control["value"], control["is_control"]) == (4, 0.25, True)
    assert (variant["units"], variant["value"]) == (4, 0.75)
    # By hand: pooled 1/2, z = ½ ÷ √(¼·½) = √2, two-sided p = 0.157299.
    assert variant["p_value"] == pytest.approx(0.1572992, abs=1e-7)
    assert variant["lift"] == pytest.approx(2.0)
    # Looks after each day (τ = 2 × 0.25 = 0.5): day 1 1 of 2 vs 2 of 2 (θ̂ ½, V ⅛),
    # day 2 1 of 4 vs 3 of 4 (θ̂ ½, V 0.09375): 1 ÷ 1.377204 (see test_statistics).
    assert variant["always_valid_p"] == pytest.approx(1 / 1.377204, rel=1e-6)

    money = rows[("summer", "value_per_unit")]
    assert (rows[("spring", "value_per_unit")]["value"], money["value"]) == (250.0, 1500.0)
    reference = stats.ttest_ind([2000, 3000, 1000, 0], [1000, 0, 0, 0], equal_var=False)
    assert money["p_value"] == pytest.approx(reference.pvalue)  # scipy 1.17 on the raw values
    check = rows[("summer", "average_check")]
    assert (check["units"], check["value"]) == (3, 2000.0)
    assert check["p_value"] is None  # the control has one sale: no variance to test with

    verdict = next(r for r in result.rows if r["row_type"] == "verdict")
    assert verdict["decision"] == "keep_running"
    assert verdict["units_reached"] == 4
