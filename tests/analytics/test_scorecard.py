"""The manager scorecard on a tiny company, checked by hand, on every engine.

Managers (period March 2026; cutoff for overdue tasks 1 April 00:00 Moscow):
- team T: anna, boris (sales managers); team North: vera (head of sales), gleb (no facts);
  no team: dmitry (inactive, one call in March → listed); egor (inactive, nothing → not
  listed); root (admin, owns a deal → not a manager, not listed).
- anna: leads 3 (ivan 2.3, olga 10.3, olga 12.3); won 3 (those of 2.3 and 10.3, and a February
  lead won 3.3), lost 1 (olga 12.3 → 14.3) → win rate 3 / 4 = 75 %.
  Revenue: 100.00 (her order) + 249.50 (olga's order without owner → client owner anna)
  + 80.00 (her order for boris's client petr) = 429.50 over 3 orders → check 143.1666….
  Response: first outbound contact 10:05 (300 s), 11:00 (3600 s), 10:20 (1200 s) → median 1200.
  Calls: 3 outbound (talk 60, 120, 240) + 1 inbound missed = 4, missed 1, talk median 120.
  Tasks: due 20.3 open → overdue; due 25.3 done 26.3 → not; due 28.3 done 5.4 (after the
  cutoff) → overdue; due 10.4 → not due yet → overdue 2.
- boris: lead petr 15.3 lost 16.3 → leads 1, won 0, lost 1, win rate 0 %; his order for petr
  was cancelled → revenue 0, check undefined. Response: outbound call 09:30 → 1800 s.
  Calls: outbound talk 100, inbound answered talk 300, inbound missed, inbound busy → 4 calls,
  missed 1, talk median (100 + 300) / 2 = 200. Tasks: due 31.3 23:00 open → overdue; created
  2.4 (after the cutoff) with due 30.3 → not → overdue 1.
- vera: lead lena 20.3, open and never contacted → leads 1, win rate and response undefined.
- dmitry: one inbound answered call, talk 50.
Team medians: T over (anna, boris); North over (vera, gleb); overall over all five.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.analytics.factory import build
from tests.analytics.factory_calls import call, manager, task, team
from voronka import clock
from voronka.activity.models import CallStatus
from voronka.analytics.query import Filters, Period
from voronka.analytics.reports import scorecard
from voronka.analytics.sources import RecordScope
from voronka.errors import InvalidInput
from voronka.order.models import OrderStatus
from voronka.user.models import Role, User

MARCH = Period(start="2026-03-01", end="2026-03-31")
A, M, BUSY = CallStatus.ANSWERED, CallStatus.MISSED, CallStatus.BUSY


def company(w):  # type: ignore[no-untyped-def]
    w.teams = {"T": w.session.get(User, w.users["anna"]).team_id, "North": team(w, "North")}
    manager(w, "vera", w.teams["North"], role=Role.HEAD_OF_SALES)
    manager(w, "gleb", w.teams["North"])
    manager(w, "dmitry", active=False)
    manager(w, "egor", active=False)
    manager(w, "root", role=Role.ADMIN)
    for name, owner in (("ivan", "anna"), ("olga", "anna"), ("petr", "boris"), ("lena", "vera")):
        w.client(name, owner=owner)
    deals(w)
    orders(w)
    calls(w)
    tasks(w)


def deals(w):  # type: ignore[no-untyped-def]
    w.deal_ids = {
        "ivan": w.deal("ivan", "2026-03-02 10:00", [("won", "2026-03-05 10:00")], owner="anna")
    }
    w.deal("olga", "2026-03-10 10:00", [("won", "2026-03-20 10:00")], owner="anna")
    w.deal("olga", "2026-03-12 10:00", [("lost", "2026-03-14 10:00")], owner="anna")
    w.deal("ivan", "2026-02-20 10:00", [("won", "2026-03-03 10:00")], owner="anna")
    w.deal_ids["petr"] = w.deal(
        "petr", "2026-03-15 09:00", [("lost", "2026-03-16 09:00")], owner="boris"
    )
    w.deal("lena", "2026-03-20 12:00", owner="vera")
    w.deal("lena", "2026-03-21 12:00", owner="root")


def orders(w):  # type: ignore[no-untyped-def]
    w.product("tea", "49.50")
    w.product("pot", "100.00")
    w.order(
        "ivan", "2026-03-05 12:00", [("pot", 1, "100.00")], owner="anna", deal=w.deal_ids["ivan"]
    )
    w.order("olga", "2026-03-21 12:00", [("pot", 2, "100.00"), ("tea", 1, "49.50")])
    w.order(
        "petr", "2026-03-18 12:00", [("pot", 1, "80.00")], owner="anna", deal=w.deal_ids["petr"]
    )
    w.order(
        "petr",
        "2026-03-17 12:00",
        [("tea", 1, "50.50")],
        owner="boris",
        status=OrderStatus.CANCELLED,
    )
    w.order("lena", "2026-02-10 12:00", [("pot", 1, "100.00")], owner="vera")


def calls(w):  # type: ignore[no-untyped-def]
    call(w, "2026-03-02 10:05", A, inbound=False, owner="anna", client="ivan", talk=60)
    call(w, "2026-03-10 11:00", A, inbound=False, owner="anna", client="olga", talk=120)
    call(w, "2026-03-12 10:20", A, inbound=False, owner="anna", client="olga", talk=240)
    call(w, "2026-03-03 11:00", M, owner="anna", wait=30)
    call(w, "2026-02-27 11:00", A, owner="anna", talk=999)  # February
    call(w, "2026-04-01 00:10", A, owner="anna", talk=999)  # April in Moscow
    call(w, "2026-03-15 09:30", A, inbound=False, owner="boris", client="petr", talk=100)
    call(w, "2026-03-16 10:00", A, owner="boris", client="petr", talk=300)
    call(w, "2026-03-16 11:00", M, owner="boris")
    call(w, "2026-03-16 12:00", BUSY, owner="boris")
    call(w, "2026-03-05 10:00", A, owner="dmitry", talk=50)


def tasks(w):  # type: ignore[no-untyped-def]
    task(w, "anna", due="2026-03-20 10:00", created="2026-03-01 09:00")
    task(
        w, "anna", due="2026-03-25 10:00", created="2026-03-01 09:00", completed="2026-03-26 10:00"
    )
    task(
        w, "anna", due="2026-03-28 10:00", created="2026-03-01 09:00", completed="2026-04-05 10:00"
    )
    task(w, "anna", due="2026-04-10 10:00", created="2026-03-01 09:00")
    task(w, "boris", due="2026-03-31 23:00", created="2026-03-01 09:00")
    task(w, "boris", due="2026-03-30 10:00", created="2026-04-02 09:00")


def rows_by(result):  # type: ignore[no-untyped-def]
    return {(r["row_type"], r["manager"] or r["team"]): r for r in result.rows}


ZERO = {
    "leads": 0,
    "won": 0,
    "lost": 0,
    "win_rate_pct": None,
    "revenue": 0.0,
    "paid_orders": 0,
    "average_check": None,
    "response_median_seconds": None,
    "calls": 0,
    "missed_calls": 0,
    "talk_median_seconds": None,
    "overdue_tasks": 0,
}
ANNA = {
    "leads": 3,
    "won": 3,
    "lost": 1,
    "win_rate_pct": 75.0,
    "revenue": 429.5,
    "paid_orders": 3,
    "average_check": pytest.approx(429.5 / 3),
    "response_median_seconds": 1200.0,
    "calls": 4,
    "missed_calls": 1,
    "talk_median_seconds": 120.0,
    "overdue_tasks": 2,
}
BORIS = {
    "leads": 1,
    "won": 0,
    "lost": 1,
    "win_rate_pct": 0.0,
    "revenue": 0.0,
    "paid_orders": 0,
    "average_check": None,
    "response_median_seconds": 1800.0,
    "calls": 4,
    "missed_calls": 1,
    "talk_median_seconds": 200.0,
    "overdue_tasks": 1,
}
VERA = {**ZERO, "leads": 1}
DMITRY = {**ZERO, "calls": 1, "talk_median_seconds": 50.0}


def figures(row):  # type: ignore[no-untyped-def]
    return {name: row[name] for name in scorecard.FIGURES}


def test_one_row_per_manager_then_team_and_overall_medians(store, analytics):
    world = build(store, company)
    result = scorecard.run(analytics(), scorecard.ScorecardQuery(period=MARCH))
    order = [(r["row_type"], r["manager"] or r["team"]) for r in result.rows]
    assert order == [
        ("manager", "gleb"),
        ("manager", "vera"),
        ("manager", "anna"),
        ("manager", "boris"),
        ("manager", "dmitry"),
        ("team_median", "North"),
        ("team_median", "T"),
        ("overall_median", None),
    ]
    rows = rows_by(result)
    assert figures(rows[("manager", "anna")]) == ANNA
    assert figures(rows[("manager", "boris")]) == BORIS
    assert figures(rows[("manager", "vera")]) == VERA
    assert figures(rows[("manager", "gleb")]) == ZERO
    assert figures(rows[("manager", "dmitry")]) == DMITRY
    assert rows[("manager", "anna")]["team"] == "T"
    assert rows[("manager", "vera")]["team_id"] == world.teams["North"]
    assert rows[("manager", "dmitry")]["team"] is None
    assert figures(rows[("team_median", "T")]) == {
        "leads": 2.0,
        "won": 1.5,
        "lost": 1.0,
        "win_rate_pct": 37.5,
        "revenue": 214.75,
        "paid_orders": 1.5,
        "average_check": pytest.approx(429.5 / 3),
        "response_median_seconds": 1500.0,
        "calls": 4.0,
        "missed_calls": 1.0,
        "talk_median_seconds": 160.0,
        "overdue_tasks": 1.5,
    }
    assert figures(rows[("team_median", "North")]) == {**ZERO, "leads": 0.5}
    assert rows[("team_median", "North")]["managers"] == 2
    overall = rows[("overall_median", None)]
    assert overall["managers"] == 5
    assert figures(overall) == {  # medians of five (or of those that have the figure)
        "leads": 1,
        "won": 0,
        "lost": 0,
        "win_rate_pct": 37.5,
        "revenue": 0.0,
        "paid_orders": 0,
        "average_check": pytest.approx(429.5 / 3),
        "response_median_seconds": 1500.0,
        "calls": 1,
        "missed_calls": 0,
        "talk_median_seconds": 120.0,
        "overdue_tasks": 0,
    }
    assert result.row_counts["leads"] == 5  # anna 3, boris 1, vera 1 (root is no manager)
    assert len(result.sql) == 2  # the measures in one query, the managers in another


def test_team_and_manager_filters(store, analytics):
    world = build(store, company)
    runner = analytics()
    result = scorecard.run(runner, scorecard.ScorecardQuery(period=MARCH, team_id=world.teams["T"]))
    rows = rows_by(result)
    assert [key for key in rows] == [
        ("manager", "anna"),
        ("manager", "boris"),
        ("team_median", "T"),
        ("overall_median", None),
    ]
    assert figures(rows[("overall_median", None)]) == figures(rows[("team_median", "T")])
    only_boris = scorecard.ScorecardQuery(
        period=MARCH, filters=Filters(manager_ids=(world.users["boris"],))
    )
    rows = rows_by(scorecard.run(runner, only_boris))
    assert list(rows) == [("manager", "boris"), ("team_median", "T"), ("overall_median", None)]
    assert figures(rows[("manager", "boris")]) == BORIS


def test_filters_the_calls_and_tasks_cannot_take_leave_them_undefined(store, analytics):
    world = build(store, company)
    runner = analytics()
    by_pipeline = scorecard.run(
        runner,
        scorecard.ScorecardQuery(period=MARCH, filters=Filters(pipeline_ids=(world.pipeline_id,))),
    )
    anna = figures(rows_by(by_pipeline)[("manager", "anna")])
    # olga's order has no deal, so no pipeline: it drops out of the revenue
    assert anna == {
        **ANNA,
        "revenue": 180.0,
        "paid_orders": 2,
        "average_check": 90.0,
        "calls": None,
        "missed_calls": None,
        "talk_median_seconds": None,
        "overdue_tasks": None,
    }
    assert by_pipeline.formula["calls"].startswith("not available")
    with pytest.raises(InvalidInput, match="cannot be filtered by product_group"):
        scorecard.run(
            runner, scorecard.ScorecardQuery(period=MARCH, filters=Filters(product_group_ids=(1,)))
        )


def test_record_scope_limits_the_facts(store, analytics):
    world = build(store, company)
    runner = analytics(RecordScope(owner_ids=frozenset({world.users["boris"]})))
    rows = rows_by(scorecard.run(runner, scorecard.ScorecardQuery(period=MARCH)))
    # boris's client petr only: anna keeps her 80.00 order for petr; calls without a client
    # are visible to their owner only (anna's missed call is not)
    assert figures(rows[("manager", "boris")]) == BORIS
    assert figures(rows[("manager", "anna")]) == {
        **ZERO,
        "revenue": 80.0,
        "paid_orders": 1,
        "average_check": 80.0,
    }


def test_overdue_tasks_are_counted_at_now_when_the_period_has_not_ended(store, analytics):
    build(store, company)
    runner = analytics()
    clock.freeze(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))  # 12:00 in Moscow
    try:
        rows = rows_by(scorecard.run(runner, scorecard.ScorecardQuery(period=MARCH)))
    finally:
        clock.freeze(None)
    assert rows[("manager", "anna")]["overdue_tasks"] == 1  # due 20.3 10:00, still open
    assert rows[("manager", "boris")]["overdue_tasks"] == 0


def test_empty_period_lists_active_managers_with_zeros(store, analytics):
    build(store, company)
    result = scorecard.run(
        analytics(), scorecard.ScorecardQuery(period=Period(start="2020-01-01", end="2020-01-31"))
    )
    rows = rows_by(result)
    assert list(rows) == [
        ("manager", "gleb"),
        ("manager", "vera"),
        ("manager", "anna"),
        ("manager", "boris"),
        ("team_median", "North"),
        ("team_median", "T"),
        ("overall_median", None),
    ]
    assert all(figures(r) == ZERO for r in result.rows)
