"""The journey report on a tiny March 2026, checked by hand, on every engine.

Clients' source channels: ivan, lena → yandex; olga → seo. First revenue orders ever:
kira 5 Jan (an old buyer), ivan 10 Mar 12:00, olga 15 Mar, petr 20 Mar, lena 25 Mar, zoya 28 Mar
→ five new buyers in March (ivan, olga, petr, lena, zoya). Lookback 30 days.

Touches in each new buyer's window (the purchase and the 30 days before it):
  ivan  20 Feb yandex visit (anonymous visitor v1, known as ivan from 5 Mar), 3 pages 120 s
        5 Mar vk visit (v1, ivan) 5 pages 300 s; 10 Mar 11:00 vk form
        (his 1 Feb visit is 37 days before: outside)
  olga  14 Mar seo visit (v-olga) 1 page 60 s
        (visitor vs is seen with ivan and olga: its anonymous 14 Mar vk visit is nobody's)
  petr  18 Mar offline touch, no channel
  lena  22 Mar yandex visit 2 pages 100 s; 24 Mar yandex visit 4 pages 200 s
  zoya  none; kira is not a new buyer, her 1 Mar visit is not counted.

Channels: yandex touched ivan, lena (2 of 5 = 40 %), first touch of both, last of lena;
vk touched ivan (20 %), his last touch; seo olga (first and last); no channel: petr.
Per buyer with visits (ivan, olga, lena): visits 2, 1, 2 → median 2; pages 8, 1, 6 → median 6,
p90 = 6 + 0.8 × (8 − 6) = 7.6; seconds 420, 60, 300 → median 300, p90 = 300 + 0.8 × 120 = 396.
Days from first touch to purchase (ivan, olga, petr, lena): 18, 1, 2, 3 → median (2 + 3) / 2.
"""

from __future__ import annotations

import pytest

from tests.analytics.factory import build
from tests.analytics.factory_journey import ticket, touch
from voronka.analytics.query import Filters, Period
from voronka.analytics.reports import journey
from voronka.analytics.reports.journey import JourneyQuery, Section
from voronka.campaign.models import TouchpointKind
from voronka.support.models import FeedbackKind

MARCH = Period(start="2026-03-01", end="2026-03-31")
VISIT, FORM, OFFLINE = TouchpointKind.VISIT, TouchpointKind.FORM, TouchpointKind.OFFLINE


def buyers(w):  # type: ignore[no-untyped-def]
    for channel in ("yandex", "vk", "seo"):
        w.channel(channel)
    for name, source in (
        ("ivan", "yandex"),
        ("olga", "seo"),
        ("petr", None),
        ("lena", "yandex"),
        ("zoya", None),
        ("kira", None),
        ("max", None),
    ):
        w.client(name, owner="anna", channel=source)
    w.product("box", "1.00")
    for name, paid in (
        ("kira", "2026-01-05 12:00"),
        ("kira", "2026-03-02 12:00"),
        ("ivan", "2026-03-10 12:00"),
        ("olga", "2026-03-15 12:00"),
        ("ivan", "2026-03-20 12:00"),
        ("petr", "2026-03-20 12:00"),
        ("lena", "2026-03-25 12:00"),
        ("zoya", "2026-03-28 12:00"),
        ("kira", "2026-03-30 12:00"),
    ):
        w.order(name, paid, [("box", 10, "1.00")])


def presale_world(w):  # type: ignore[no-untyped-def]
    """The touches of the module docstring, and the visits of people who never bought.

    Visits in March of visitors who never bought, by landing page:
      /sale  a1: 3 Mar 1 page, 4 Mar 1 page, 5 Mar 3 pages    → 3 visits, 2 bounces
      /blog  a2: 6 Mar 1 page; max (no orders): 8 Mar 1 page  → 2 visits, 2 bounces
      /      a2: 7 Mar 2 pages                                → 1 visit, 0 bounces
    Left out: buyers' visits (ivan's v1, olga, lena, kira), the shared visitor vs (seen with
    buyers), a1's February visit.
    """
    buyers(w)
    touch(w, "2026-02-01 12:00", visitor="v1", channel="yandex", landing="/sale")
    touch(w, "2026-02-20 12:00", visitor="v1", channel="yandex", landing="/", pages=3, seconds=120)
    touch(
        w,
        "2026-03-05 12:00",
        visitor="v1",
        client="ivan",
        channel="vk",
        landing="/sale",
        pages=5,
        seconds=300,
    )
    touch(w, "2026-03-10 11:00", FORM, visitor="v1", client="ivan", channel="vk")
    touch(
        w,
        "2026-03-14 12:00",
        visitor="v-olga",
        client="olga",
        channel="seo",
        landing="/sale",
        pages=1,
        seconds=60,
    )
    touch(w, "2026-01-01 12:00", visitor="vs", client="ivan")
    touch(w, "2026-01-02 12:00", visitor="vs", client="olga")
    touch(w, "2026-03-14 10:00", visitor="vs", channel="vk", landing="/blog")
    touch(w, "2026-03-18 12:00", OFFLINE, client="petr")
    touch(
        w,
        "2026-03-22 12:00",
        visitor="v-lena",
        client="lena",
        channel="yandex",
        landing="/sale",
        pages=2,
        seconds=100,
    )
    touch(
        w,
        "2026-03-24 12:00",
        visitor="v-lena",
        client="lena",
        channel="yandex",
        landing="/sale",
        pages=4,
        seconds=200,
    )
    touch(w, "2026-03-01 12:00", visitor="v-kira", client="kira", channel="yandex", landing="/sale")
    touch(w, "2026-02-27 12:00", visitor="a1", landing="/sale")
    for day, pages in (("03", 1), ("04", 1), ("05", 3)):
        touch(
            w, f"2026-03-{day} 12:00", visitor="a1", channel="yandex", landing="/sale", pages=pages
        )
    touch(w, "2026-03-06 12:00", visitor="a2", channel="vk", landing="/blog")
    touch(w, "2026-03-07 12:00", visitor="a2", channel="vk", landing="/", pages=2)
    touch(w, "2026-03-08 12:00", visitor="a3", client="max", channel="seo", landing="/blog")


def parts(result, part):  # type: ignore[no-untyped-def]
    return [row for row in result.rows if row["part"] == part]


def summary(result):  # type: ignore[no-untyped-def]
    return {row["figure"]: row["value"] for row in parts(result, "summary")}


def test_presale_channels_and_medians(store, analytics):
    world = build(store, presale_world)
    result = journey.run(analytics(), JourneyQuery(period=MARCH))
    figures = summary(result)
    assert {k: figures[k] for k in ("buyers", "buyers_touched", "buyers_with_visits")} == {
        "buyers": 5,
        "buyers_touched": 4,
        "buyers_with_visits": 3,
    }
    assert (figures["visits_median"], figures["visits_p90"]) == (2, 2)
    assert figures["pages_median"] == 6 and figures["pages_p90"] == pytest.approx(7.6)
    assert figures["seconds_median"] == 300 and figures["seconds_p90"] == pytest.approx(396)
    assert figures["days_to_purchase_median"] == pytest.approx(2.5)
    channels = {row["label"]: row for row in parts(result, "channel")}
    assert {
        label: (r["buyers_touched"], r["share_pct"], r["first_touch"], r["last_touch"])
        for label, r in channels.items()
    } == {
        "Yandex": (2, 40.0, 2, 1),
        "Vk": (1, 20.0, 0, 1),
        "Seo": (1, 20.0, 1, 1),
        "no channel": (1, 20.0, 1, 1),
    }
    assert channels["Yandex"]["key"] == world.channels["yandex"]
    assert [row["label"] for row in parts(result, "channel")][0] == "Yandex"  # most touched
    assert result.row_counts == {"new_buyers": 5}


def test_presale_exits_of_visitors_who_never_bought(store, analytics):
    build(store, presale_world)
    result = journey.run(analytics(), JourneyQuery(period=MARCH))
    exits = [
        (r["label"], r["visits"], r["bounces"], r["bounce_rate_pct"]) for r in parts(result, "exit")
    ]
    assert exits[:2] == [("/sale", 3, 2, pytest.approx(200 / 3)), ("/blog", 2, 2, 100.0)]
    assert exits[2:] == [("/", 1, 0, 0.0)]


def test_presale_lookback_and_filters(store, analytics):
    world = build(store, presale_world)
    runner = analytics()
    # A 2-day window keeps ivan's form (1 hour before), olga's visit (1 day), petr's touch
    # (2 days) and lena's 24 Mar visit (1 day): days 0.04…, 1, 2, 1 → median 1. Buyers with
    # visits: olga (1 visit, 1 page) and lena (1 visit, 4 pages) → pages median 2.5.
    short = summary(journey.run(runner, JourneyQuery(period=MARCH, lookback_days=2)))
    assert short["buyers_touched"] == 4
    assert short["days_to_purchase_median"] == pytest.approx(1.0)
    assert (short["visits_median"], short["pages_median"]) == (1, 2.5)
    # Only buyers whose first order is attributed to seo (olga, by her source channel), and
    # only seo visits for the exits (max's /blog bounce).
    seo = journey.run(
        runner, JourneyQuery(period=MARCH, filters=Filters(channel_ids=(world.channels["seo"],)))
    )
    assert summary(seo)["buyers"] == 1 and summary(seo)["days_to_purchase_median"] == 1.0
    assert [(r["label"], r["share_pct"]) for r in parts(seo, "channel")] == [("Seo", 100.0)]
    assert [(r["label"], r["visits"]) for r in parts(seo, "exit")] == [("/blog", 1)]


def postsale_world(w):  # type: ignore[no-untyped-def]
    """After their first March purchase (ivan 10, olga 15, petr 20, lena 25, zoya 28, kira 2).

    Buyers in March: 6; ivan and kira bought twice → repeat rate 2 / 6.
    CSAT after: ivan 5, olga 3 → mean 4 (max's 1 is not a buyer's).
    NPS after: ivan 10, petr 3, kira 9 (2 April, still after) → (2 − 1) / 3; olga's 6 of
    1 March predates her purchase.
    Tickets after: ivan 11 and 21 Mar, zoya 29 Mar → 3 tickets, 2 buyers; lena's of 20 Mar is
    before her purchase, zoya's deleted one does not count.
    Referrals (utm_medium referral, utm_source = a buyer's visitor id, after the purchase,
    from another visitor): r1 12 Mar and 14 Mar, r2 13 Mar ("Referral") via ivan's v1; r5
    1 Apr via olga's v-olga → 4 referrals, 3 visitors, 2 buyers. Not: r3 (9 Mar, before
    ivan's purchase), r4 (medium cpc), v1 itself.
    """
    buyers(w)
    touch(w, "2026-03-05 12:00", visitor="v1", client="ivan")
    touch(w, "2026-03-14 12:00", visitor="v-olga", client="olga")
    for visitor, when, medium in (
        ("r1", "2026-03-12 12:00", "referral"),
        ("r2", "2026-03-13 12:00", "Referral"),
        ("r1", "2026-03-14 12:00", "referral"),
        ("r3", "2026-03-09 12:00", "referral"),
        ("r4", "2026-03-16 12:00", "cpc"),
        ("v1", "2026-03-15 12:00", "referral"),
    ):
        touch(w, when, visitor=visitor, utm_medium=medium, utm_source="v1", landing="/ref")
    touch(w, "2026-04-01 12:00", visitor="r5", utm_medium="referral", utm_source="v-olga")
    for name, kind, score, when in (
        ("ivan", FeedbackKind.CSAT, 5, "2026-03-11 12:00"),
        ("ivan", FeedbackKind.NPS, 10, "2026-03-12 12:00"),
        ("olga", FeedbackKind.CSAT, 3, "2026-03-16 12:00"),
        ("olga", FeedbackKind.NPS, 6, "2026-03-01 12:00"),
        ("kira", FeedbackKind.NPS, 9, "2026-04-02 12:00"),
        ("petr", FeedbackKind.NPS, 3, "2026-03-21 12:00"),
        ("max", FeedbackKind.CSAT, 1, "2026-03-21 12:00"),
    ):
        w.feedback(name, kind, score, when)
    ticket(w, "ivan", "2026-03-11 12:00")
    ticket(w, "ivan", "2026-03-21 12:00")
    ticket(w, "lena", "2026-03-20 12:00")
    ticket(w, "zoya", "2026-03-29 12:00")
    ticket(w, "zoya", "2026-03-30 12:00", deleted=True)


def test_postsale(store, analytics):
    build(store, postsale_world)
    result = journey.run(analytics(), JourneyQuery(period=MARCH, section=Section.POSTSALE))
    assert result.columns == ["part", "figure", "value"]
    figures = summary(result)
    assert figures["buyers"] == 6
    assert (figures["csat"], figures["csat_answers"]) == (4, 2)
    assert figures["nps"] == pytest.approx(100 / 3) and figures["nps_answers"] == 3
    assert figures["repeat_buyers"] == 2
    assert figures["repeat_purchase_rate"] == pytest.approx(100 / 3)
    assert (figures["tickets"], figures["tickets_per_buyer"]) == (3, 0.5)
    assert figures["buyers_with_ticket"] == 2
    assert figures["ticket_share_pct"] == pytest.approx(100 / 3)
    assert (figures["referrals"], figures["referred_visitors"]) == (4, 3)
    assert figures["referring_buyers"] == 2
    assert figures["referring_share_pct"] == pytest.approx(100 / 3)


def test_empty_period(store, analytics):
    build(store, presale_world)
    runner, empty = analytics(), Period(start="2020-01-01", end="2020-01-31")
    before = journey.run(runner, JourneyQuery(period=empty))
    assert summary(before)["buyers"] == 0 and summary(before)["visits_median"] is None
    assert parts(before, "channel") == [] and parts(before, "exit") == []
    after = summary(journey.run(runner, JourneyQuery(period=empty, section=Section.POSTSALE)))
    assert (after["buyers"], after["csat"], after["tickets_per_buyer"]) == (0, None, None)
