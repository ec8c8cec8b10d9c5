"""The alerts report on a tiny world, on every engine.

Four Tuesdays and four Sundays of leads (Moscow time): on each past Tuesday channel "ads"
brings 6 leads and "seo" 4; on each past Sunday 2 and 1. On the Tuesday checked, "seo" brings
none: 6 leads instead of 10. The Sunday checked has its usual 3 leads, far below a weekday:
a normal weekly dip that must not alert.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.analytics.factory import build
from voronka.analytics.alert.report import AlertsQuery, run
from voronka.analytics.query import Breakdown

TUESDAY, SUNDAY = date(2026, 3, 24), date(2026, 3, 22)


def populate(w):  # type: ignore[no-untyped-def]
    w.channel("ads")
    w.channel("seo", paid=False)
    w.client("c")
    for weeks_back in range(4):
        tuesday, sunday = TUESDAY - timedelta(weeks=weeks_back), SUNDAY - timedelta(weeks=weeks_back)
        for channel, count in (("ads", 6), ("seo", 0 if weeks_back == 0 else 4)):
            for i in range(count):
                w.deal("c", f"{tuesday} {9 + i:02d}:00", [], owner="anna", channel=channel)
        for channel, count in (("ads", 2), ("seo", 1)):
            for i in range(count):
                w.deal("c", f"{sunday} {12 + i}:30", [], owner="boris", channel=channel)


def test_a_weekday_drop_alerts_with_its_channel_and_a_sunday_dip_does_not(store, analytics):
    world = build(store, populate)
    runner = analytics()
    query = AlertsQuery(day=TUESDAY, metrics=("leads",), weeks=3)
    row = run(runner, query).rows[0]
    # by hand: history 10, 10, 10 → median 10, MAD 0 → spread 10 · 0.2 ÷ 3.5; z = −4 ÷ 0.5714
    assert (row["value"], row["expected"], row["change"]) == (6.0, 10.0, -4.0)
    assert row["z_score"] == pytest.approx(-7.0)
    assert row["alert"] is True and row["direction"] == "down"
    assert row["history"] == {"2026-03-03": 10.0, "2026-03-10": 10.0, "2026-03-17": 10.0}
    assert row["breakdown"] == "channel"
    top = row["segments"][0]
    # seo: 0 instead of 4 explains the whole change; ads: 6 as usual explains nothing
    assert (top["key"], top["label"], top["value"], top["expected"]) == (
        world.channels["seo"], "Seo", 0.0, 4.0)
    assert (top["contribution"], top["share"]) == (-4.0, 1.0)
    assert [s["share"] for s in row["segments"][1:]] == [0.0]

    sunday = run(runner, AlertsQuery(day=SUNDAY, metrics=("leads",), weeks=3)).rows[0]
    assert (sunday["value"], sunday["expected"], sunday["alert"]) == (3.0, 3.0, False)
    assert sunday["segments"] == []


def test_a_ratio_metric_and_a_manager_breakdown(store, analytics):
    build(store, populate)
    runner = analytics()
    query = AlertsQuery(day=TUESDAY, metrics=("leads", "lead_to_sale"), weeks=3,
                        breakdowns=(Breakdown.MANAGER,))
    leads, conversion = run(runner, query).rows
    assert leads["breakdown"] == "manager"  # anna had every Tuesday lead
    assert leads["segments"][0]["share"] == 1.0
    # no lead was won on any day: conversion 0 % against 0 %, no alert
    assert (conversion["value"], conversion["expected"], conversion["alert"]) == (0.0, 0.0, False)
