"""The funnel report on nine hand-made deals, checked by hand, on every engine.

Pipeline new → qualified → proposal → won (lost aside); times are Moscow wall clock. The
funnel is March 2026 with steps new, qualified, proposal, won and a 30-day window:

====  ======  =====  ==============================================================  =========
deal  client  owner  path (created in "new")                                         reaches
====  ======  =====  ==============================================================  =========
D1    ivan    anna   03-02 10:00 → qualified 03-03 10:00 → proposal 03-05 10:00       4 steps
                     → won 03-09 10:00
D2    olga    anna   03-02 12:00 → qualified 03-02 18:00 → proposal 03-04 18:00       3 steps
                     → lost 03-06 18:00
D3    petr    boris  03-03 09:00 → qualified 03-04 09:00 → lost 03-05 09:00           2 steps
D4    lena    boris  03-04 10:00 → proposal 03-06 10:00 → won 03-10 10:00             1 step
                     (skipped qualified: like PostHog, a step needs its own event)
D5    egor    anna   03-10 10:00 → qualified 03-11 10:00 → proposal 03-13 10:00       3 steps
                     → won 04-20 10:00 (41 days after entering: outside 30 days)
D6    nina    boris  03-11 10:00 → proposal 03-12 10:00 → qualified 03-13 10:00       4 steps
                     → proposal 03-16 10:00 → won 03-18 16:00                         (strict: 1)
D7    oleg    anna   03-09 00:30 (Monday in Moscow, Sunday 21:30 UTC), never moved    1 step
D8    ivan    anna   02-27 10:00 → qualified 03-02 10:00: entered in February         —
D9    olga    anna   04-01 01:00 (March 31 22:00 UTC): entered in April in Moscow     —
====  ======  =====  ==============================================================  =========

Entered per step: new 7, qualified 5 (D1 D2 D3 D5 D6), proposal 4 (D1 D2 D5 D6 — D6 at its
second entry, 03-16, the first one at or after qualified), won 2 (D1 D6).

Hours, sorted, and their median / p90 by linear interpolation between closest ranks
(position (n − 1)·q, as numpy's default and SQL's percentile_cont):

* from previous — qualified: D2 6, D1 24, D3 24, D5 24, D6 48 → median 24,
  p90 at position 3.6 = 24 + 0.6·(48 − 24) = 38.4; proposal: D1 48, D2 48, D5 48, D6 72
  → median 48, p90 at 2.7 = 48 + 0.7·24 = 64.8; won: D6 54, D1 96 → median 75,
  p90 at 0.9 = 54 + 0.9·42 = 91.8.
* from start — step 1: 0; qualified: as from previous (step 1 is the start) → 24;
  proposal: D2 54, D1 72, D5 72, D6 120 → median 72; won: D1 168, D6 174 → 171.
* in stage (until the deal's next change, deals that left) — new: D2 6, D1 24, D3 24, D5 24,
  D6 24, D4 48 (D7 never left) → 24; qualified: D3 24, D1 48, D2 48, D5 48, D6 72 → 48;
  proposal: D2 48, D6 54, D1 96, D5 912 (38 days) → 75; won: nobody left → None.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from tests.analytics.factory import at, build
from voronka.analytics.query import Breakdown, Filters, Grain, Period
from voronka.analytics.reports import funnel
from voronka.analytics.sources import RecordScope
from voronka.errors import InvalidInput

MARCH = Period(start="2026-03-01", end="2026-03-31")
STAGES = ("new", "qualified", "proposal", "won")


def company(w):  # type: ignore[no-untyped-def]
    for name, owner in (
        ("ivan", "anna"),
        ("olga", "anna"),
        ("petr", "boris"),
        ("lena", "boris"),
        ("egor", "anna"),
        ("nina", "boris"),
        ("oleg", "anna"),
    ):
        w.client(name, owner=owner)
    w.deal(
        "ivan",
        "2026-03-02 10:00",
        [
            ("qualified", "2026-03-03 10:00"),
            ("proposal", "2026-03-05 10:00"),
            ("won", "2026-03-09 10:00"),
        ],
        owner="anna",
    )
    w.deal(
        "olga",
        "2026-03-02 12:00",
        [
            ("qualified", "2026-03-02 18:00"),
            ("proposal", "2026-03-04 18:00"),
            ("lost", "2026-03-06 18:00"),
        ],
        owner="anna",
    )
    w.deal(
        "petr",
        "2026-03-03 09:00",
        [("qualified", "2026-03-04 09:00"), ("lost", "2026-03-05 09:00")],
        owner="boris",
    )
    w.deal(
        "lena",
        "2026-03-04 10:00",
        [("proposal", "2026-03-06 10:00"), ("won", "2026-03-10 10:00")],
        owner="boris",
    )
    w.deal(
        "egor",
        "2026-03-10 10:00",
        [
            ("qualified", "2026-03-11 10:00"),
            ("proposal", "2026-03-13 10:00"),
            ("won", "2026-04-20 10:00"),
        ],
        owner="anna",
    )
    w.deal(
        "nina",
        "2026-03-11 10:00",
        [
            ("proposal", "2026-03-12 10:00"),
            ("qualified", "2026-03-13 10:00"),
            ("proposal", "2026-03-16 10:00"),
            ("won", "2026-03-18 16:00"),
        ],
        owner="boris",
    )
    w.deal("oleg", "2026-03-09 00:30", owner="anna")
    w.deal("ivan", "2026-02-27 10:00", [("qualified", "2026-03-02 10:00")], owner="anna")
    w.deal("olga", "2026-04-01 01:00", owner="anna")


def query(world, **fields) -> funnel.FunnelQuery:  # type: ignore[no-untyped-def]
    steps = tuple(world.stages[name] for name in fields.pop("stages", STAGES))
    return funnel.FunnelQuery(
        period=fields.pop("period", MARCH),
        steps=steps,
        conversion_window_days=fields.pop("window", 30),
        **fields,
    )


def column(result, name, label="total"):  # type: ignore[no-untyped-def]
    return [row[name] for row in result.rows if row["label"] == label]


def test_kept_first_entries_count_re_entries(store, analytics):
    """D6 entered proposal twice (03-12, 03-16): its first entry, its count and the next
    change after the first entry (qualified, 03-13) are kept; D4 entered proposal once."""
    w = build(store, company)
    runner = analytics()
    entries = runner.sources["deal_stage_entry"]
    proposal = entries.filter(entries.to_stage_id == w.stages["proposal"])
    rows = {r["client_id"]: r for r in runner.rows(proposal)}  # one deal each
    nina, lena = w.clients["nina"], w.clients["lena"]
    naive = lambda moment: at(moment).replace(tzinfo=None)  # noqa: E731
    assert (rows[nina]["first_at"], rows[nina]["entries"], rows[nina]["next_at"]) == (
        naive("2026-03-12 10:00"), 2, naive("2026-03-13 10:00"))
    assert (rows[lena]["first_at"], rows[lena]["entries"], rows[lena]["next_at"]) == (
        naive("2026-03-06 10:00"), 1, naive("2026-03-10 10:00"))


def test_counts_conversions_and_drop_off(store, analytics):
    world = build(store, company)
    result = funnel.run(analytics(), query(world))
    assert column(result, "stage_name") == list(STAGES)
    assert column(result, "entered") == [7, 5, 4, 2]
    assert column(result, "dropped") == [None, 2, 1, 2]
    assert column(result, "conversion_from_previous_pct") == pytest.approx(
        [None, 500 / 7, 80.0, 50.0]
    )
    assert column(result, "conversion_overall_pct") == pytest.approx(
        [100.0, 500 / 7, 400 / 7, 200 / 7]
    )
    assert result.row_counts == {"deal": 7}
    assert len(result.sql) == 2  # the stage names, then every step's figures at once


def test_default_steps_are_the_pipelines_open_stages_then_won(store, analytics):
    """The default pipeline's stages, or those of the pipeline named; "lost" is never a step."""
    world = build(store, company)
    runner = analytics()
    default = funnel.run(runner, funnel.FunnelQuery(period=MARCH, conversion_window_days=30))
    assert column(default, "stage_name") == list(STAGES)
    assert column(default, "stage_id") == [world.stages[name] for name in STAGES]
    assert column(default, "entered") == [7, 5, 4, 2]
    named = funnel.FunnelQuery(period=MARCH, pipeline_id=world.pipeline_id)
    assert funnel.resolve_steps(runner, named) == [
        funnel.Step(number, world.stages[name], name) for number, name in enumerate(STAGES, start=1)
    ]


def test_a_skipped_step_is_not_reached(store, analytics):
    """D4 went new → proposal: it reaches "proposal" only when "qualified" is not a step."""
    world = build(store, company)
    runner = analytics()
    without = funnel.run(runner, query(world, stages=("new", "proposal", "won")))
    assert column(without, "entered") == [7, 5, 3]  # + D4 at proposal and won


def test_conversion_window_is_a_hard_filter_from_step_one(store, analytics):
    """D5 won 41 days (984 h) after entering: counted from a 41-day window on, bounds included."""
    world = build(store, company)
    runner = analytics()
    assert column(funnel.run(runner, query(world, window=40)), "entered") == [7, 5, 4, 2]
    assert column(funnel.run(runner, query(world, window=41)), "entered") == [7, 5, 4, 3]
    # one day: D2 qualified after 6 h, D1 D3 D5 after exactly 24 h (the bound is included)
    assert column(funnel.run(runner, query(world, window=1)), "entered") == [7, 4, 0, 0]


def test_strict_order_drops_a_deal_that_jumped_ahead(store, analytics):
    """D6 entered proposal before qualified: in strict order it reaches only step 1."""
    world = build(store, company)
    result = funnel.run(analytics(), query(world, strict_order=True))
    assert column(result, "entered") == [7, 4, 3, 1]


def test_times_between_steps_and_in_stage(store, analytics):
    world = build(store, company)
    result = funnel.run(analytics(), query(world))
    assert column(result, "median_hours_from_previous") == pytest.approx([None, 24.0, 48.0, 75.0])
    assert column(result, "p90_hours_from_previous") == pytest.approx([None, 38.4, 64.8, 91.8])
    assert column(result, "median_hours_from_start") == pytest.approx([0.0, 24.0, 72.0, 171.0])
    assert column(result, "median_hours_in_stage") == pytest.approx([24.0, 48.0, 75.0, None])


def test_breakdown_by_manager(store, analytics):
    """anna: D1 D2 D5 D7; boris: D3 D4 D6."""
    world = build(store, company)
    result = funnel.run(analytics(), query(world, breakdown=Breakdown.MANAGER))
    assert column(result, "entered", "anna") == [4, 3, 3, 1]
    assert column(result, "entered", "boris") == [3, 2, 1, 1]
    assert column(result, "key", "anna") == [world.users["anna"]] * 4
    assert column(result, "conversion_overall_pct", "boris") == pytest.approx(
        [100.0, 200 / 3, 100 / 3, 100 / 3]
    )
    assert len(result.sql) == 3  # + the managers' names
    filtered = funnel.run(
        analytics(), query(world, filters=Filters(manager_ids=(world.users["boris"],)))
    )
    assert column(filtered, "entered") == [3, 2, 1, 1]


def test_cohorts_by_local_week(store, analytics):
    """Week of 2 March: D1–D4; week of 9 March: D5, D6 and D7 (Monday 00:30 in Moscow)."""
    world = build(store, company)
    result = funnel.run(analytics(), query(world, cohort_grain=Grain.WEEK))
    by_week: dict[date, list[int]] = {}
    for row in result.rows:
        by_week.setdefault(row["cohort"], []).append(row["entered"])
    assert by_week == {date(2026, 3, 2): [4, 3, 2, 1], date(2026, 3, 9): [3, 2, 2, 1]}


def test_dropped_at_lists_the_deals_and_their_clients(store, analytics):
    """Every in-period deal has its own client, so the clients name the deals."""
    world = build(store, company)
    runner = analytics()
    client_names = {client_id: name for name, client_id in world.clients.items()}

    def dropped(q, step, **narrow):  # type: ignore[no-untyped-def]
        return [
            client_names[row["client_id"]]
            for row in funnel.dropped_at(runner, q, step, **narrow).rows
        ]

    q = query(world, breakdown=Breakdown.MANAGER)
    assert dropped(q, 2) == ["lena", "oleg"]  # D4 (skipped), D7 (never moved)
    assert dropped(q, 4, key=world.users["anna"]) == ["olga", "egor"]  # D2 lost, D5 too late
    assert dropped(q, 4, key=world.users["boris"]) == []
    assert dropped(q, 2, limit=1) == ["lena"]
    assert dropped(query(world, strict_order=True), 2) == ["lena", "oleg", "nina"]
    weekly = query(world, cohort_grain=Grain.WEEK)
    assert dropped(weekly, 2, cohort=date(2026, 3, 9)) == ["oleg"]
    rows = funnel.dropped_at(runner, q, 3).rows
    assert rows == [
        {
            "deal_id": rows[0]["deal_id"],
            "client_id": world.clients["petr"],
            "key": world.users["boris"],
            "cohort": None,
            "reached_previous_at": datetime(2026, 3, 4, 6, 0),
        }
    ]  # UTC
    report = funnel.run(runner, q)
    assert report.drilldown["function"] == "voronka.analytics.reports.funnel.dropped_at"
    with pytest.raises(InvalidInput, match="drill-down"):
        funnel.dropped_at(runner, q, step=1)


def test_record_scope_limits_the_deals(store, analytics):
    world = build(store, company)
    runner = analytics(RecordScope(owner_ids=frozenset({world.users["boris"]})))
    assert column(funnel.run(runner, query(world)), "entered") == [3, 2, 1, 1]


def test_empty_period_gives_zero_counts_and_undefined_ratios(store, analytics):
    world = build(store, company)
    result = funnel.run(
        analytics(), query(world, period=Period(start="2020-01-01", end="2020-01-31"))
    )
    assert column(result, "entered") == [0, 0, 0, 0]
    assert column(result, "conversion_overall_pct") == [None] * 4
    assert column(result, "conversion_from_previous_pct") == [None] * 4
    assert column(result, "median_hours_from_previous") == [None] * 4
    assert column(result, "dropped") == [None, 0, 0, 0]
    grouped = funnel.run(
        analytics(),
        query(
            world, period=Period(start="2020-01-01", end="2020-01-31"), breakdown=Breakdown.MANAGER
        ),
    )
    assert grouped.rows == []


def test_invalid_queries(store, analytics):
    world = build(store, company)
    runner = analytics()
    with pytest.raises(ValidationError, match="only once"):
        query(world, stages=("new", "new"))
    with pytest.raises(ValidationError, match="product_group"):
        query(world, breakdown=Breakdown.PRODUCT_GROUP)
    with pytest.raises(ValidationError, match="not both"):
        funnel.FunnelQuery(period=MARCH, steps=(1, 2), pipeline_id=world.pipeline_id)
    with pytest.raises(InvalidInput, match="no stages"):
        funnel.run(runner, funnel.FunnelQuery(period=MARCH, steps=(world.stages["new"], 999)))
    with pytest.raises(InvalidInput, match="cannot be filtered by product_group"):
        funnel.run(runner, query(world, filters=Filters(product_group_ids=(1,))))
