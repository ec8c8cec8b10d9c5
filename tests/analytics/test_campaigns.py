"""The campaigns report on a tiny March 2026, checked by hand, on every engine.

Channels yandex (campaigns spring, brand), vk (campaign promo) and seo (no campaigns).

Leads (deals created in March) and whether the client had paid an order before the deal:
  1 ivan  spring  2 Mar, won 5 Mar   loyal (ivan paid an order on 10 Jan)
  2 olga  spring  3 Mar, won 10 Mar  new
  3 petr  brand   4 Mar, lost        new
  4 lena  promo   1 Mar              new   (lena's first order is paid on 5 Mar, later)
  5 lena  promo   10 Mar             loyal (after her 5 Mar order)
  6 kira  seo, no campaign, 12 Mar   new
  (olga's spring deal of 20 Feb is not a March lead.)
Revenue orders paid in March, attributed through their deal (else the client's source):
  ivan 500.00 (deal 1, spring), olga 300.00 (deal 2, spring), lena 200.00 (deal 4, promo),
  kira 50.00 (no deal; source channel seo, no campaign); a cancelled 999.00 spring order
  brings nothing. New paying clients (first order ever in March): olga, lena, kira.
Spend in March: spring 400 + 200 (300 clicks, 15000 impressions), brand 100 (50, 1000),
  promo 300 (30, 3000); spring's 999.00 of 28 February is outside.

spring: CPL 600/2 = 300, CAC 600/1 (olga) = 600, ROMI (800 − 600)/600 = 33.3 %
brand:  CPL 100/1 = 100, CAC undefined (no new buyer), ROMI (0 − 100)/100 = −100 %
promo:  CPL 300/2 = 150, CAC 300/1 = 300, ROMI (200 − 300)/300 = −33.3 %
total:  6 leads (2 loyal), revenue 1050, spend 1000 → CPL 166.7, CAC 1000/3, ROMI 5 %
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from tests.analytics.factory import build
from voronka.analytics.query import Filters, Period
from voronka.analytics.reports import campaigns
from voronka.analytics.reports.campaigns import CampaignsQuery
from voronka.campaign.models import AdSpend
from voronka.errors import InvalidInput
from voronka.order.models import OrderStatus

MARCH = Period(start="2026-03-01", end="2026-03-31")


def spend(w, campaign: str, day: str, cost: str, clicks: int, impressions: int) -> None:  # type: ignore[no-untyped-def]
    w.add(
        AdSpend(
            workspace_id=1,
            campaign_id=w.campaigns[campaign],
            day=date.fromisoformat(day),
            cost=Decimal(cost),
            clicks=clicks,
            impressions=impressions,
        )
    )


def company(w):  # type: ignore[no-untyped-def]
    for channel in ("yandex", "vk"):
        w.channel(channel)
    w.channel("seo", paid=False)
    w.campaign("spring", "yandex")
    w.campaign("brand", "yandex")
    w.campaign("promo", "vk")
    for name in ("ivan", "olga", "petr", "lena"):
        w.client(name, owner="anna")
    w.client("kira", owner="anna", channel="seo")
    w.product("box", "1.00")
    w.order("ivan", "2026-01-10 12:00", [("box", 100, "1.00")])
    ivan = w.deal(
        "ivan",
        "2026-03-02 10:00",
        [("won", "2026-03-05 10:00")],
        channel="yandex",
        campaign="spring",
    )
    olga = w.deal(
        "olga",
        "2026-03-03 10:00",
        [("won", "2026-03-10 10:00")],
        channel="yandex",
        campaign="spring",
    )
    w.deal("olga", "2026-02-20 10:00", channel="yandex", campaign="spring")
    w.deal(
        "petr",
        "2026-03-04 10:00",
        [("lost", "2026-03-06 10:00")],
        channel="yandex",
        campaign="brand",
    )
    lena = w.deal("lena", "2026-03-01 10:00", channel="vk", campaign="promo")
    w.deal("lena", "2026-03-10 10:00", channel="vk", campaign="promo")
    w.deal("kira", "2026-03-12 10:00", channel="seo")
    w.order("ivan", "2026-03-06 12:00", [("box", 500, "1.00")], deal=ivan)
    w.order("olga", "2026-03-12 12:00", [("box", 300, "1.00")], deal=olga)
    w.order(
        "olga", "2026-03-13 12:00", [("box", 999, "1.00")], deal=olga, status=OrderStatus.CANCELLED
    )
    w.order("lena", "2026-03-05 12:00", [("box", 200, "1.00")], deal=lena)
    w.order("kira", "2026-03-20 12:00", [("box", 50, "1.00")])
    spend(w, "spring", "2026-03-01", "400.00", 200, 10000)
    spend(w, "spring", "2026-03-31", "200.00", 100, 5000)
    spend(w, "spring", "2026-02-28", "999.00", 999, 99999)
    spend(w, "brand", "2026-03-15", "100.00", 50, 1000)
    spend(w, "promo", "2026-03-10", "300.00", 30, 3000)


def by_label(result):  # type: ignore[no-untyped-def]
    return {(row["level"], row["campaign"] or row["channel"]): row for row in result.rows}


def test_campaign_channel_and_total_rows(store, analytics):
    world = build(store, company)
    result = campaigns.run(analytics(), CampaignsQuery(period=MARCH))
    assert [(r["level"], r["campaign"] or r["channel"]) for r in result.rows] == [
        ("channel", "Yandex"),
        ("campaign", "spring"),
        ("campaign", "brand"),
        ("channel", "Vk"),
        ("campaign", "promo"),
        ("channel", "Seo"),
        ("campaign", "no campaign"),
        ("total", "total"),
    ]
    rows = by_label(result)
    spring = rows[("campaign", "spring")]
    assert spring["channel_id"] == world.channels["yandex"]
    assert {
        k: spring[k]
        for k in (
            "leads",
            "new_client_leads",
            "loyal_client_leads",
            "won",
            "revenue",
            "spend",
            "clicks",
            "impressions",
            "new_buyers",
        )
    } == {
        "leads": 2,
        "new_client_leads": 1,
        "loyal_client_leads": 1,
        "won": 2,
        "revenue": 800.0,
        "spend": 600.0,
        "clicks": 300,
        "impressions": 15000,
        "new_buyers": 1,
    }
    assert (spring["cpl"], spring["cac"]) == (300.0, 600.0)
    assert spring["romi"] == pytest.approx(200 / 600 * 100)
    brand = rows[("campaign", "brand")]
    assert (brand["leads"], brand["won"], brand["cpl"], brand["cac"], brand["romi"]) == (
        1,
        0,
        100.0,
        None,
        -100.0,
    )
    promo = rows[("campaign", "promo")]
    # lena's first lead predates her first order (new), her second follows it (loyal).
    assert (promo["new_client_leads"], promo["loyal_client_leads"]) == (1, 1)
    assert (promo["revenue"], promo["cpl"], promo["cac"]) == (200.0, 150.0, 300.0)
    assert promo["romi"] == pytest.approx(-100 / 3)


def test_channel_rows_are_computed_not_summed(store, analytics):
    build(store, company)
    rows = by_label(campaigns.run(analytics(), CampaignsQuery(period=MARCH)))
    yandex = rows[("channel", "Yandex")]
    # spring + brand: 3 leads, 700 spent, 800 earned → ROMI (800 − 700) / 700.
    assert (yandex["leads"], yandex["loyal_client_leads"], yandex["spend"]) == (3, 1, 700.0)
    assert (yandex["clicks"], yandex["impressions"], yandex["new_buyers"]) == (350, 16000, 1)
    assert yandex["romi"] == pytest.approx(100 / 700 * 100)
    seo = rows[("channel", "Seo")]
    # kira: no spend → CPL 0 / 1 = 0, ROMI undefined (nothing was spent).
    assert (seo["leads"], seo["revenue"], seo["cpl"], seo["romi"]) == (1, 50.0, 0.0, None)
    none = rows[("campaign", "no campaign")]
    assert (none["channel_id"], none["channel"], none["leads"], none["revenue"]) == (
        None,
        "—",
        1,
        50.0,
    )
    total = rows[("total", "total")]
    assert {
        k: total[k]
        for k in (
            "leads",
            "new_client_leads",
            "loyal_client_leads",
            "won",
            "revenue",
            "spend",
            "clicks",
            "impressions",
            "new_buyers",
        )
    } == {
        "leads": 6,
        "new_client_leads": 4,
        "loyal_client_leads": 2,
        "won": 2,
        "revenue": 1050.0,
        "spend": 1000.0,
        "clicks": 380,
        "impressions": 19000,
        "new_buyers": 3,
    }
    assert total["cpl"] == pytest.approx(1000 / 6)
    assert total["cac"] == pytest.approx(1000 / 3)
    assert total["romi"] == pytest.approx(5.0)


def test_one_channel(store, analytics):
    world = build(store, company)
    result = campaigns.run(
        analytics(), CampaignsQuery(period=MARCH, channel_id=world.channels["vk"])
    )
    assert [(r["level"], r["campaign"] or r["channel"]) for r in result.rows] == [
        ("channel", "Vk"),
        ("campaign", "promo"),
        ("total", "total"),
    ]
    total = result.rows[-1]
    assert (total["leads"], total["revenue"], total["spend"]) == (2, 200.0, 300.0)
    disjoint = campaigns.run(
        analytics(),
        CampaignsQuery(
            period=MARCH,
            channel_id=world.channels["vk"],
            filters=Filters(channel_ids=(world.channels["yandex"],)),
        ),
    )
    assert [r["level"] for r in disjoint.rows] == ["total"]
    assert disjoint.rows[0]["leads"] == 0 and disjoint.rows[0]["cpl"] is None


def test_filters_that_spend_cannot_take_are_refused(store, analytics):
    world = build(store, company)
    with pytest.raises(InvalidInput, match="ad spend cannot be filtered by manager"):
        campaigns.run(
            analytics(),
            CampaignsQuery(period=MARCH, filters=Filters(manager_ids=(world.users["anna"],))),
        )
