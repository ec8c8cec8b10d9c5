"""The clients report on six clients, checked by hand, on every engine.

March 2026, revenue orders (product "box", cost 0), clients created in this order:

| client | March orders (local time)            | revenue | last order  | deals in March           |
|--------|--------------------------------------|---------|-------------|--------------------------|
| kira   | 10th 200, 20th 200, 31st 10:00 100   | 500     | 31st → 0 d  | won 3rd (created in Feb) |
| ivan   | 5th 100, 30th 100 (+ 10 Feb 100)     | 200     | 30th → 1 d  | created 1st, open        |
| olga   | 31st 02:00 local (30th in UTC) 200   | 200     | 31st → 0 d  | created 2, won 1         |
| petr   | 1st 50 (+ 1 Apr 00:30 local: April)  | 50      | 1st → 30 d  | —                        |
| zoya   | 1st 50 (+ an order in January 2025)  | 50      | 1st → 30 d  | —                        |
| lena   | only a cancelled and an unpaid order | 0       | —           | created 1, open          |

Total revenue 1000.00. Financial rating (revenue desc, ties by client id):
kira 500 (share starts at 0 % → A), ivan 200 (starts 50 % → A), olga 200 (starts 70 %, ends
90 %: straddles 80 % and stays A), petr 50 (starts 90 % → B), zoya 50 (starts exactly at
95 % = 0.8 + 0.15 → C), lena 0 → C.

RFM with 5 bins over the 5 paying clients: score = 1 + ⌊5 × rank ÷ 5⌋ = 1 + rank, rank =
clients strictly worse:
- R (recency 0, 1, 0, 30, 30): petr, zoya rank 0 → 1; ivan rank 2 → 3; kira, olga rank 3 → 4.
- F (orders 3, 2, 1, 1, 1): olga, petr, zoya rank 0 → 1; ivan 3 → 4; kira 4 → 5.
- M (500, 200, 200, 50, 50): petr, zoya 0 → 1; ivan, olga 2 → 3; kira 4 → 5.
Codes: kira 455 Champions, ivan 343 Need attention, olga 413 Promising, petr and zoya 111 Lost.

New vs returning: first revenue orders ever in March: kira, olga, petr (new, 750.00);
ivan (February) and zoya (2025) return (250.00). Repeat buyers (≥ 2 March orders): kira, ivan
→ repeat purchase rate 2 ÷ 5 = 40 %.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.analytics.factory import build
from voronka.analytics.query import Filters, Period
from voronka.analytics.reports import clients
from voronka.analytics.reports.clients import SEGMENT_CODES, ClientSection, ClientsQuery
from voronka.analytics.sources import RecordScope
from voronka.errors import InvalidInput
from voronka.order.models import OrderStatus

MARCH = Period(start="2026-03-01", end="2026-03-31")


def company(w):  # type: ignore[no-untyped-def]
    w.channel("yandex")
    w.product("box", "1.00")
    for name in ("kira", "ivan"):
        w.client(name, owner="anna", channel="yandex")
    for name in ("olga", "petr", "zoya", "lena"):
        w.client(name, owner="boris")

    def order(client: str, paid: str | None, amount: str, **kw) -> None:  # type: ignore[no-untyped-def]
        w.order(client, paid, [("box", 1, amount)], **kw)

    order("kira", "2026-03-10 12:00", "200.00")
    order("kira", "2026-03-20 12:00", "200.00")
    order("kira", "2026-03-31 10:00", "100.00")
    order("ivan", "2026-02-10 12:00", "100.00")
    order("ivan", "2026-03-05 12:00", "100.00")
    order("ivan", "2026-03-30 12:00", "100.00")
    order("olga", "2026-03-31 02:00", "200.00")
    order("olga", None, "999.00", status=OrderStatus.NEW)
    order("petr", "2026-03-01 09:00", "50.00")
    order("petr", "2026-04-01 00:30", "70.00")  # 31 March 21:30 UTC, April in Moscow
    order("zoya", "2025-01-15 12:00", "10.00")
    order("zoya", "2026-03-01 18:00", "50.00")
    order("lena", "2026-03-12 12:00", "400.00", status=OrderStatus.CANCELLED)
    w.deal("kira", "2026-02-20 10:00", [("won", "2026-03-03 10:00")], owner="anna")
    w.deal("ivan", "2026-03-01 10:00", owner="anna")
    w.deal(
        "olga", "2026-03-02 10:00", [("won", "2026-03-04 10:00")], owner="boris", channel="yandex"
    )
    w.deal("olga", "2026-03-15 10:00", [("lost", "2026-03-16 10:00")], owner="boris")
    w.deal("lena", "2026-03-10 10:00", owner="boris")
    w.deal("lena", "2026-04-02 10:00", owner="boris")


def run(runner, **fields):  # type: ignore[no-untyped-def]
    return clients.run(runner, ClientsQuery(period=MARCH, **fields))


def by_name(result):  # type: ignore[no-untyped-def]
    return {row["client_name"]: row for row in result.rows}


def test_financial_rating_and_abc_boundaries(store, analytics):
    world = build(store, company)
    result = run(analytics())
    assert [r["client_name"] for r in result.rows] == [
        "kira",
        "ivan",
        "olga",
        "petr",
        "zoya",
        "lena",
    ]
    assert [r["rank"] for r in result.rows] == [1, 2, 3, 4, 5, 6]
    assert [r["abc_class"] for r in result.rows] == ["A", "A", "A", "B", "C", "C"]
    rows = by_name(result)
    kira, olga, lena = rows["kira"], rows["olga"], rows["lena"]
    assert kira["client_id"] == world.clients["kira"]
    assert kira["revenue"] == 500.0 and kira["orders"] == 3 and kira["max_purchase"] == 200.0
    assert kira["deals_created"] == 0 and kira["deals_won"] == 1
    assert kira["won_to_created_pct"] is None  # nothing created in March: undefined
    assert olga["deals_created"] == 2 and olga["deals_won"] == 1
    assert olga["won_to_created_pct"] == 50.0
    assert olga["revenue_share_pct"] == 20.0 and olga["cumulative_share_pct"] == 90.0
    assert rows["ivan"]["won_to_created_pct"] == 0.0
    assert rows["petr"]["revenue"] == 50.0  # the April order is outside March in Moscow
    assert lena["revenue"] == 0.0 and lena["orders"] == 0 and lena["max_purchase"] is None
    assert lena["deals_created"] == 1
    assert result.row_counts == {"clients": 6}
    assert set(result.rows[0]) >= {"client_id", "client_name"}
    assert not {"phone", "email"} & set(result.rows[0])


def test_abc_boundary_exactly_at_a_share(store, analytics):
    build(store, company)
    # olga's share starts at exactly 70 % → B; petr's at exactly 90 % (0.7 + 0.2) → C
    runner = analytics()
    result = run(runner, a_share=0.7, b_share=0.2)
    assert [r["abc_class"] for r in result.rows] == ["A", "A", "B", "C", "C", "C"]
    only_b = run(runner, a_share=0.7, b_share=0.2, abc_class="B")
    assert [r["client_name"] for r in only_b.rows] == ["olga"]


def test_limit_keeps_the_top_and_counts_all(store, analytics):
    build(store, company)
    result = run(analytics(), limit=2)
    assert [r["client_name"] for r in result.rows] == ["kira", "ivan"]
    assert result.row_counts == {"clients": 6}


def test_rfm_scores_ties_and_segments(store, analytics):
    build(store, company)
    runner = analytics()
    result = run(runner, section=ClientSection.RFM)
    rows = by_name(result)
    assert list(rows) == ["kira", "ivan", "olga", "petr", "zoya"]  # monetary desc, then id
    scores = {
        name: (r["r_score"], r["f_score"], r["m_score"], r["segment"]) for name, r in rows.items()
    }
    assert scores == {
        "kira": (4, 5, 5, "Champions"),
        "ivan": (3, 4, 3, "Need attention"),
        "olga": (4, 1, 3, "Promising"),
        "petr": (1, 1, 1, "Lost"),
        "zoya": (1, 1, 1, "Lost"),
    }
    assert rows["olga"]["recency_days"] == 0  # 31 March 02:00 local is 30 March in UTC
    assert rows["ivan"]["recency_days"] == 1 and rows["petr"]["recency_days"] == 30
    assert rows["kira"]["frequency"] == 3 and rows["kira"]["monetary"] == 500.0
    assert result.row_counts == {"clients": 5}
    lost = run(runner, section=ClientSection.RFM, segment="Lost")
    assert [r["client_name"] for r in lost.rows] == ["petr", "zoya"]


def test_rfm_bins_other_than_five(store, analytics):
    build(store, company)
    # score = 1 + ⌊3 × rank ÷ 5⌋: rank 0 → 1, 2 → 2, 3 → 2, 4 → 3; segments stay quintile-based
    rows = by_name(run(analytics(), section=ClientSection.RFM, rfm_bins=3))
    assert (rows["kira"]["r_score"], rows["kira"]["f_score"], rows["kira"]["m_score"]) == (2, 3, 3)
    assert (rows["ivan"]["r_score"], rows["ivan"]["f_score"], rows["ivan"]["m_score"]) == (2, 2, 2)
    assert rows["kira"]["segment"] == "Champions"


def test_summary_new_repeat_abc_and_segments(store, analytics):
    build(store, company)
    result = run(analytics(), section=ClientSection.SUMMARY)
    rows = {(r["group"], r["name"]): r for r in result.rows}
    assert rows[("clients", "rated")]["clients"] == 6
    assert rows[("clients", "rated")]["revenue"] == 1000.0
    paying = rows[("clients", "paying")]
    assert paying["clients"] == 5 and paying["client_share_pct"] == pytest.approx(500 / 6)
    new, returning = rows[("clients", "new")], rows[("clients", "returning")]
    assert (new["clients"], new["revenue"], new["client_share_pct"]) == (3, 750.0, 60.0)
    assert new["revenue_share_pct"] == 75.0
    assert (returning["clients"], returning["revenue"]) == (2, 250.0)
    assert rows[("clients", "repeat")]["clients"] == 2
    assert rows[("clients", "repeat")]["client_share_pct"] == 40.0  # repeat purchase rate
    assert [
        (rows[("abc", k)]["clients"], rows[("abc", k)]["revenue_share_pct"]) for k in "ABC"
    ] == [(3, 90.0), (1, 5.0), (2, 5.0)]
    assert rows[("rfm", "Champions")]["revenue_share_pct"] == 50.0
    assert rows[("rfm", "Lost")]["clients"] == 2
    assert rows[("rfm", "Lost")]["client_share_pct"] == 40.0
    assert rows[("rfm", "At risk")]["clients"] == 0
    assert [r["name"] for r in result.rows if r["group"] == "rfm"] == list(SEGMENT_CODES)
    assert result.row_counts == {"clients": 6, "paying_clients": 5}


def test_filters_apply_to_orders_and_deals(store, analytics):
    world = build(store, company)
    # yandex: kira's and ivan's orders (the clients' source), olga's won deal (the deal's)
    runner = analytics()
    result = run(runner, filters=Filters(channel_ids=(world.channels["yandex"],)))
    rows = by_name(result)
    assert list(rows) == ["kira", "ivan", "olga"]
    assert rows["olga"]["revenue"] == 0.0 and rows["olga"]["deals_won"] == 1
    with pytest.raises(InvalidInput, match="cannot be filtered by product_group"):
        run(runner, filters=Filters(product_group_ids=(1,)))


def test_record_scope_limits_clients_and_names(store, analytics):
    world = build(store, company)
    runner = analytics(RecordScope(owner_ids=frozenset({world.users["boris"]})))
    result = run(runner)
    # boris's clients only: total 300 → olga starts at 0 % (A), petr at 66.7 % (A),
    # zoya at 83.3 % (B), lena 0 (C)
    assert [(r["client_name"], r["abc_class"]) for r in result.rows] == [
        ("olga", "A"),
        ("petr", "A"),
        ("zoya", "B"),
        ("lena", "C"),
    ]


def test_empty_period(store, analytics):
    build(store, company)
    empty, runner = Period(start="2020-01-01", end="2020-01-31"), analytics()
    for section in ClientSection:
        result = clients.run(runner, ClientsQuery(period=empty, section=section))
        if section is ClientSection.SUMMARY:
            assert all(r["clients"] == 0 and r["revenue"] == 0.0 for r in result.rows)
            assert all(r["revenue_share_pct"] is None for r in result.rows)
            assert {r["name"]: r for r in result.rows}["repeat"]["client_share_pct"] is None
        else:
            assert result.rows == [] and result.row_counts == {"clients": 0}


def test_segment_map_covers_every_code_once():
    codes = [code for group in SEGMENT_CODES.values() for code in group]
    assert sorted(codes) == sorted(
        100 * r + 10 * f + m for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)
    )
    assert len(SEGMENT_CODES) == 11


def test_query_validation():
    with pytest.raises(ValidationError, match="must not exceed 1"):
        ClientsQuery(period=MARCH, a_share=0.9, b_share=0.2)
    with pytest.raises(ValidationError, match="unknown segment"):
        ClientsQuery(period=MARCH, section=ClientSection.RFM, segment="VIP")
    with pytest.raises(ValidationError, match="rating section only"):
        ClientsQuery(period=MARCH, section=ClientSection.RFM, abc_class="A")
