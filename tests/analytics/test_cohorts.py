"""The cohorts report on a handful of clients, checked by hand, on every engine.

One product, "widget": price 100.00, cost 60.00 → margin 40.00 per widget. Orders (local time):

| client | channel | orders                                              | first purchase |
|--------|---------|-----------------------------------------------------|----------------|
| a1     | yandex  | 5 Jan ×1, 10 Feb ×2, 1 Mar ×1, 2 Apr ×1 (+ Feb cancelled) | January   |
| a2     | yandex  | 1 Feb 01:00 (31 Jan in UTC) ×1, 15 Mar ×1           | February       |
| a3     | vk      | 20 Jan ×1                                           | January        |
| a4     | vk      | 3 Mar ×3                                            | March          |
| a5     | —       | 10 Jan ×1, 10 Feb ×1                                | January        |
| old    | yandex  | 10 Dec 2025 ×1, 15 Jan ×1                           | December 2025  |

Ad spend: yandex 300 + 100 in January, 80 on 10 February; vk 60 in January, 90 in March.
Cohorts January–March 2026, 2 month offsets, observed until 31 March:

- January: a1, a3, a5 (3 clients; "old" belongs to December). Offset 0: all three active,
  revenue 300, margin 120 → 40.00 per client; offset 1 (February): a1 ×2, a5 ×1 → 2 active
  (66.7 %), revenue 300, cumulative margin 240 → 80.00; offset 2 (March): a1 → 1 active
  (33.3 %), cumulative margin 280 → 93.33. CAC = (400 + 60) ÷ 3 new = 153.33 → no payback.
  a1's April order is offset 3, beyond ``months`` = 2 and beyond the observed month.
- February: a2 (its order at 01:00 on 1 February is February in Moscow). Offset 0: margin 40,
  offset 1: cumulative 80. CAC = 80 ÷ 1 = 80 → payback at offset 1 (80 ≥ 80, exactly).
- March: a4 only, observed for offset 0: margin 3 × 40 = 120 ≥ CAC 90 ÷ 1 → payback 0.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from tests.analytics.factory import build
from voronka.analytics.query import Breakdown
from voronka.analytics.reports import cohorts
from voronka.analytics.reports.cohorts import CohortBasis, CohortQuery, payback_offset
from voronka.order.models import OrderStatus

MARCH_END = date(2026, 3, 31)


def company(w):  # type: ignore[no-untyped-def]
    w.channel("yandex")
    w.channel("vk")
    w.campaign("ya_spring", "yandex")
    w.campaign("vk_spring", "vk")
    w.product("widget", "100.00", cost="60.00")
    for name, channel in (
        ("a1", "yandex"),
        ("a2", "yandex"),
        ("a3", "vk"),
        ("a4", "vk"),
        ("a5", None),
        ("old", "yandex"),
        ("b6", None),
    ):
        w.client(name, channel=channel)

    def order(client: str, paid: str, quantity: int = 1, **kw) -> None:  # type: ignore[no-untyped-def]
        w.order(client, paid, [("widget", quantity, "100.00")], **kw)

    order("a1", "2026-01-05 12:00")
    order("a1", "2026-02-10 12:00", 2)
    order("a1", "2026-02-11 12:00", 5, status=OrderStatus.CANCELLED)
    order("a1", "2026-03-01 12:00")
    order("a1", "2026-04-02 12:00")
    order("a2", "2026-02-01 01:00")
    order("a2", "2026-03-15 12:00")
    order("a3", "2026-01-20 12:00")
    order("a4", "2026-03-03 12:00", 3)
    order("a5", "2026-01-10 12:00")
    order("a5", "2026-02-10 12:00")
    order("old", "2025-12-10 12:00")
    order("old", "2026-01-15 12:00")
    w.spend("ya_spring", "2026-01-01", "300.00")
    w.spend("ya_spring", "2026-01-20", "100.00")
    w.spend("ya_spring", "2026-02-10", "80.00")
    w.spend("vk_spring", "2026-01-05", "60.00")
    w.spend("vk_spring", "2026-03-05", "90.00")
    # first leads: a1 in December 2025, a2 and a3 in January, b6 (never buys) in February
    w.deal("a1", "2025-12-20 10:00", channel="yandex")
    w.deal("a2", "2026-01-25 10:00", channel="yandex")
    w.deal("a3", "2026-01-02 10:00", channel="vk")
    w.deal("a3", "2026-02-02 10:00", channel="vk")
    w.deal("b6", "2026-02-05 10:00")


def query(**fields) -> CohortQuery:  # type: ignore[no-untyped-def]
    base = {
        "start_month": date(2026, 1, 1),
        "end_month": date(2026, 3, 1),
        "months": 2,
        "as_of": MARCH_END,
    }
    return CohortQuery(**{**base, **fields})


def cells(result):  # type: ignore[no-untyped-def]
    return {(r["cohort_month"].month, r["channel"], r["offset"]): r for r in result.rows}


def test_retention_triangle_revenue_margin_and_payback(store, analytics):
    build(store, company)
    result = cohorts.run(analytics(), query())
    grid = cells(result)
    assert list(grid) == [
        (1, "all", 0),
        (1, "all", 1),
        (1, "all", 2),
        (2, "all", 0),
        (2, "all", 1),
        (3, "all", 0),
    ]
    jan = [grid[(1, "all", k)] for k in range(3)]
    assert [c["cohort_clients"] for c in jan] == [3, 3, 3]
    assert [c["active_clients"] for c in jan] == [3, 2, 1]
    assert [c["retention_pct"] for c in jan] == pytest.approx([100.0, 200 / 3, 100 / 3])
    assert [c["revenue"] for c in jan] == [300.0, 300.0, 100.0]
    assert [c["revenue_per_client"] for c in jan] == pytest.approx([100.0, 100.0, 100 / 3])
    assert [c["cumulative_margin_per_client"] for c in jan] == pytest.approx([40, 80, 280 / 3])
    assert jan[0]["cac"] == pytest.approx(460 / 3) and jan[0]["payback_offset"] is None
    assert jan[0]["spend"] == 460.0 and jan[0]["new_paying_clients"] == 3
    assert jan[2]["month"] == date(2026, 3, 1)
    feb = [grid[(2, "all", k)] for k in range(2)]
    assert [c["cumulative_margin_per_client"] for c in feb] == [40.0, 80.0]
    assert feb[0]["cac"] == 80.0 and feb[0]["payback_offset"] == 1  # 80 ≥ 80: pays back
    mar = grid[(3, "all", 0)]
    assert (mar["cohort_clients"], mar["revenue"], mar["cac"]) == (1, 300.0, 90.0)
    assert mar["payback_offset"] == 0
    assert result.row_counts == {"cohort_clients": 5, "orders": 9}  # a1 3, a3 1, a5 2, a2 2, a4 1


def test_breakdown_by_channel(store, analytics):
    build(store, company)
    grid = cells(cohorts.run(analytics(), query(breakdown=Breakdown.CHANNEL)))
    assert sorted({(m, ch) for m, ch, _ in grid}) == [
        (1, "Vk"),
        (1, "Yandex"),
        (1, "—"),
        (2, "Yandex"),
        (3, "Vk"),
    ]
    # January yandex: a1 alone; CAC 400 ÷ 1; margins 40, +80, +40 → 160 < 400
    ya = [grid[(1, "Yandex", k)] for k in range(3)]
    assert [c["cumulative_margin_per_client"] for c in ya] == [40.0, 120.0, 160.0]
    assert ya[0]["cac"] == 400.0 and ya[0]["payback_offset"] is None
    # January without a channel: a5, no spend → CAC 0 → paid back at once
    none = grid[(1, "—", 0)]
    assert none["channel_id"] is None and none["cac"] == 0.0 and none["payback_offset"] == 0
    assert grid[(1, "Vk", 1)]["active_clients"] == 0  # a3 bought once, in January
    assert grid[(1, "Vk", 1)]["retention_pct"] == 0.0
    assert grid[(3, "Vk", 0)]["payback_offset"] == 0


def test_cohorts_by_first_lead(store, analytics):
    build(store, company)
    grid = cells(cohorts.run(analytics(), query(by=CohortBasis.FIRST_LEAD)))
    # January leads: a2, a3 (a1's first deal is December's). February: b6, who never buys.
    assert list(grid) == [(1, "all", 0), (1, "all", 1), (1, "all", 2), (2, "all", 0), (2, "all", 1)]
    jan = [grid[(1, "all", k)] for k in range(3)]
    assert [c["active_clients"] for c in jan] == [1, 1, 1]  # a3 in Jan, a2 in Feb and Mar
    assert [c["retention_pct"] for c in jan] == [50.0, 50.0, 50.0]
    assert [c["cumulative_margin_per_client"] for c in jan] == [20.0, 40.0, 60.0]
    assert jan[0]["cac"] == pytest.approx(460 / 3)  # the month's CAC: 3 new paying clients
    assert grid[(2, "all", 1)]["active_clients"] == 0
    assert grid[(2, "all", 1)]["payback_offset"] is None


def test_as_of_cuts_the_triangle(store, analytics):
    build(store, company)
    grid = cells(cohorts.run(analytics(), query(as_of=date(2026, 2, 15))))
    # a4's first order (3 March) is not yet observed: no March cohort
    assert list(grid) == [(1, "all", 0), (1, "all", 1), (2, "all", 0)]
    assert grid[(1, "all", 1)]["active_clients"] == 2  # a1 and a5 on 10 February


def test_empty_range(store, analytics):
    build(store, company)
    result = cohorts.run(
        analytics(), query(start_month=date(2020, 1, 1), end_month=date(2020, 6, 1))
    )
    assert result.rows == [] and result.row_counts == {"cohort_clients": 0, "orders": 0}


def test_payback_offset_compares_exactly():
    # CAC 100 ÷ 3 = 33.33…; margins per client 10, 33.33… (100 ÷ 3): equal → offset 1
    assert payback_offset([30, 100], clients=3, spend_minor=100, new_paying=3) == 1
    assert payback_offset([30, 99], clients=3, spend_minor=100, new_paying=3) is None
    assert payback_offset([0], clients=1, spend_minor=100, new_paying=0) is None


def test_query_validation():
    assert query(start_month=date(2026, 1, 17)).start_month == date(2026, 1, 1)
    with pytest.raises(ValidationError, match="channel only"):
        query(breakdown=Breakdown.MANAGER)
    with pytest.raises(ValidationError, match="must not be before"):
        query(start_month=date(2026, 5, 1))
