"""The ``ltv`` report on a handful of clients, checked by hand, on every engine.

One product "widget": price 50.00, cost 25.00 (margin 50 %). Paid orders (Moscow time),
as_of 31 March 2026:

| client | channel | orders (local day: total)                                  |
|--------|---------|------------------------------------------------------------|
| c1     | yandex  | 1 Jan 10:00 100 + 1 Jan 18:00 50 (one day: 150), 15 Jan 200, 14 Feb 300 |
| c2     | —       | 1 Feb 01:00 50 (31 Jan 22:00 UTC: a February client); a cancelled order |
| c3     | yandex  | 10 Jan 100, 31 Mar 100                                      |
| c4     | yandex  | a cancelled order only (not a paying client)               |
| c5     | yandex  | 2 Apr 50 (after as_of)                                     |

Summaries (days): c1 x = 2, t_x = 44 (1 Jan → 14 Feb), T = 89, repeat value 500 (mean 250);
c2 x = 0, t_x = 0, T = 58; c3 x = 1, t_x = 80, T = 80, repeat value 100.
Ad spend: yandex 300 in January → January cohort (c1, c3) CAC = 300 ÷ 2 = 150; cumulative
margin per client: January (75 + 100 + 50) ÷ 2 = 112.5, February + 150 → 187.5 ≥ 150, so the
payback month is 1 (observed). February cohort (c2): no spend, CAC 0 → payback 0.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.analytics.factory import build
from voronka.analytics.ltv import BetaGeoModel, GammaGammaModel
from voronka.analytics.ltv.report import LtvQuery, run
from voronka.order.models import OrderStatus

AS_OF = date(2026, 3, 31)


def company(w):  # type: ignore[no-untyped-def]
    w.channel("yandex")
    w.campaign("ya", "yandex")
    w.product("widget", "50.00", cost="25.00")
    for name, channel in (("c1", "yandex"), ("c2", None), ("c3", "yandex"), ("c4", "yandex"),
                          ("c5", "yandex")):
        w.client(name, channel=channel)

    def order(client: str, paid: str, quantity: int, **kw) -> None:  # type: ignore[no-untyped-def]
        w.order(client, paid, [("widget", quantity, "50.00")], **kw)

    order("c1", "2026-01-01 10:00", 2)
    order("c1", "2026-01-01 18:00", 1)
    order("c1", "2026-01-15 12:00", 4)
    order("c1", "2026-02-14 12:00", 6)
    order("c2", "2026-02-01 01:00", 1)
    w.order("c2", None, [("widget", 1, "30.00")], status=OrderStatus.CANCELLED)
    order("c3", "2026-01-10 12:00", 2)
    order("c3", "2026-03-31 20:00", 2)
    w.order("c4", None, [("widget", 3, "50.00")], status=OrderStatus.CANCELLED)
    order("c5", "2026-04-02 12:00", 1)
    w.spend("ya", "2026-01-05", "300.00")


@pytest.fixture
def runner(store, analytics):  # type: ignore[no-untyped-def]
    build(store, company)
    return analytics()


def test_sections_by_hand(runner):
    """Parameters, groups and clients (one test: each run costs seconds on Spark)."""
    rows = run(runner, LtvQuery(as_of=AS_OF, section="parameters")).rows
    found = {(r["model"], r["parameter"]): r["value"] for r in rows}
    # the same fit on the hand-made summary above
    bgnbd = BetaGeoModel().fit([2, 0, 1], [44, 0, 80], [89, 58, 80])
    spend = GammaGammaModel().fit([2, 0, 1], [250.0, 0.0, 100.0])
    for name, value in bgnbd.params_.items():
        assert found[("bgnbd", name)] == pytest.approx(value, rel=1e-9)
    for name, value in spend.params_.items():
        assert found[("gamma_gamma", name)] == pytest.approx(value, rel=1e-9)
    assert found[("data", "clients")] == 3
    assert found[("data", "repeat_clients")] == 2
    assert found[("data", "margin_share")] == 0.5  # (325 + 25 + 100) ÷ 900

    rows = run(runner, LtvQuery(as_of=AS_OF)).rows
    by_key = {(r["group"], r["name"]): r for r in rows}
    assert by_key[("all", "all")]["clients"] == 3
    assert by_key[("channel", "Yandex")]["clients"] == 2
    assert by_key[("channel", "Yandex")]["cac"] == 150.0
    assert by_key[("channel", "—")]["cac"] is None
    january, february = by_key[("cohort", "2026-01-01")], by_key[("cohort", "2026-02-01")]
    assert (january["clients"], january["cac"], january["payback_month"]) == (2, 150.0, 1)
    assert (february["clients"], february["cac"], february["payback_month"]) == (1, 0.0, 0)
    assert sum(r["clients"] for r in rows if r["group"] == "rfm") == 3
    total = sum(r["clv_total"] for r in rows if r["group"] == "cohort")
    assert total == pytest.approx(by_key[("all", "all")]["clv_total"], rel=1e-12)

    rows = run(runner, LtvQuery(as_of=AS_OF, section="clients", limit=3)).rows
    # the engine's summaries, as computed by hand in the module docstring
    got = {r["client_name"]: (r["frequency"], r["recency_days"], r["age_days"], r["revenue"],
                              r["channel"], r["first_day"]) for r in rows}
    assert got == {
        "c1": (2, 44, 89, 650.0, "Yandex", date(2026, 1, 1)),
        "c2": (0, 0, 58, 50.0, "—", date(2026, 2, 1)),
        "c3": (1, 80, 80, 200.0, "Yandex", date(2026, 1, 10)),
    }
    # RFM of the clients report over the history (3 paying clients: scores 1, 2, 4 by rank):
    # recency 45, 58, 0 days → R 2, 1, 4; orders 4, 1, 2 → F 4, 1, 2; revenue 650, 50, 200 →
    # M 4, 1, 2: c1 244 "At risk", c2 111 "Lost", c3 422 "New customers"
    assert {r["client_name"]: r["segment"] for r in rows} == {
        "c1": "At risk", "c2": "Lost", "c3": "New customers"}
    assert [r["clv"] for r in rows] == sorted((r["clv"] for r in rows), reverse=True)
    assert rows[0]["client_name"] == "c1"  # most repeat value and most recent buyer
    assert all(0 < r["probability_alive"] <= 1 for r in rows)
