"""The calls report on a tiny switchboard, checked by hand, on every engine.

Period: Monday 2 March – Tuesday 10 March 2026 (9 days): Mondays and Tuesdays occur twice,
the other weekdays once. Inbound calls (Moscow time; weekday 1 = Monday):
- Monday 10:00–11:00 (cell 1/10): 2.3 10:05 answered wait 10 talk 100; 2.3 10:20 answered
  wait 30 talk 200; 9.3 10:40 answered wait 20 talk 600; 9.3 10:50 missed from +7…02.
  → 4 calls, 1 missed (25 %), median wait 20, median talk 200, AHT (100+200+600)/3 = 300;
  4 calls over 2 Monday hours → 2 calls per hour.
- Tuesday 14:00–15:00 (cell 2/14): 6 calls on each of 3.3 and 10.3, answered, wait 5, talk
  600 → 12 calls, AHT 600, 6 calls per hour.
- Wednesday 4.3 09:00–10:00 (cell 3/9): 09:10 missed (client olga), 09:15 missed from +7…04,
  09:20 busy, 09:30 missed (client petr) → 4 calls, 3 missed (75 %), nothing answered: the
  staffing uses the period's AHT; 4 calls over 1 Wednesday hour → 4 per hour.
- Sunday 8.3 23:30 (20:30 UTC, cell 7/23): answered, wait 0, talk 60.
- Monday 2.3 00:10 (1.3 21:10 UTC, cell 1/0): missed, no client and no number.
- Saturday 7.3 12:05 (cell 6/12): answered, but the provider sent no wait or talk time: it is
  a call (demand) without an AHT, so the staffing uses the period's.
- Outside: 11.3 00:30 Moscow (still 10.3 in UTC) and 1.3 23:50 Moscow.
Period: 23 inbound, 5 missed, 17 answered of which 16 with a talk time; talk 900 + 7200 + 60 =
8160 → AHT 8160 / 16 = 510; median talk of 60, 100, 200 and 13 × 600 → 600; median wait of 0,
12 × 5, 10, 20, 30 → 5.
Callbacks (60 minutes): 9.3 10:50 called back on its number at 11:30 (40 min) → yes; olga
09:10 called back at 10:30 (80 min) → no; +7…04 was called at 09:00, before it rang → no;
petr 09:30 called back at 10:30 (exactly 60 min) → yes; the 00:10 call → no.
→ 3 of 5 not called back (60 %). With 90 minutes, olga's counts too → 2 (40 %).
"""

from __future__ import annotations

import pytest

from tests.analytics.factory import build
from tests.analytics.factory_calls import call
from voronka.activity.models import CallStatus
from voronka.analytics.erlang import agents_needed
from voronka.analytics.query import Filters, Period
from voronka.analytics.reports import calls
from voronka.errors import InvalidInput

PERIOD = Period(start="2026-03-02", end="2026-03-10")
A, M, BUSY = CallStatus.ANSWERED, CallStatus.MISSED, CallStatus.BUSY


def switchboard(w):  # type: ignore[no-untyped-def]
    w.client("olga", owner="anna")
    w.client("petr", owner="boris")
    ids = w.missed = {}
    call(w, "2026-03-02 10:05", A, owner="anna", wait=10, talk=100)
    call(w, "2026-03-02 10:20", A, owner="anna", wait=30, talk=200)
    call(w, "2026-03-09 10:40", A, owner="boris", wait=20, talk=600)
    ids["monday"] = call(
        w, "2026-03-09 10:50", M, owner="boris", wait=40, from_number="+79990000002"
    )
    call(w, "2026-03-09 11:30", A, inbound=False, owner="anna", to_number="+79990000002", talk=9)
    for day in ("2026-03-03", "2026-03-10"):
        for minute in range(10, 40, 5):
            call(w, f"{day} 14:{minute}", A, owner="boris", wait=5, talk=600)
    ids["olga"] = call(w, "2026-03-04 09:10", M, client="olga", from_number="+79990000003")
    call(w, "2026-03-04 10:30", BUSY, inbound=False, owner="anna", client="olga")
    call(w, "2026-03-04 09:00", A, inbound=False, owner="anna", to_number="+79990000004")
    ids["number"] = call(w, "2026-03-04 09:15", M, from_number="+79990000004")
    call(w, "2026-03-04 09:20", BUSY)
    ids["petr"] = call(w, "2026-03-04 09:30", M, client="petr")
    call(w, "2026-03-04 10:30", A, inbound=False, owner="boris", client="petr", talk=30)
    call(w, "2026-03-08 23:30", A, owner="anna", talk=60)
    ids["midnight"] = call(w, "2026-03-02 00:10", M)
    call(w, "2026-03-07 12:05", A, wait=None, talk=None)
    call(w, "2026-03-11 00:30", A, owner="anna", talk=999)
    call(w, "2026-03-01 23:50", A, owner="anna", talk=999)


def section(result, name):  # type: ignore[no-untyped-def]
    return [r for r in result.rows if r["section"] == name]


def cell(result, name, weekday, hour):  # type: ignore[no-untyped-def]
    found = [r for r in section(result, name) if (r["weekday"], r["hour"]) == (weekday, hour)]
    assert len(found) == 1
    return found[0]


def test_heatmap_by_local_weekday_and_hour(store, analytics):
    build(store, switchboard)
    result = calls.run(analytics(), calls.CallsQuery(period=PERIOD))
    assert len(section(result, "heatmap")) == 7 * 24
    monday = cell(result, "heatmap", 1, 10)
    assert (monday["inbound_calls"], monday["missed_calls"], monday["missed_rate_pct"]) == (
        4,
        1,
        25.0,
    )
    assert monday["median_wait_seconds"] == 20.0 and monday["median_talk_seconds"] == 200.0
    assert monday["average_handle_seconds"] == 300.0
    wednesday = cell(result, "heatmap", 3, 9)
    assert (wednesday["inbound_calls"], wednesday["missed_calls"]) == (4, 3)
    assert wednesday["missed_rate_pct"] == 75.0 and wednesday["not_called_back"] == 2
    assert wednesday["median_wait_seconds"] is None
    assert wednesday["average_handle_seconds"] is None
    assert cell(result, "heatmap", 7, 23)["inbound_calls"] == 1
    assert cell(result, "heatmap", 1, 0)["missed_calls"] == 1
    assert cell(result, "heatmap", 2, 14)["inbound_calls"] == 12
    busy = {(r["weekday"], r["hour"]) for r in section(result, "heatmap") if r["inbound_calls"]}
    assert busy == {(1, 10), (2, 14), (3, 9), (7, 23), (1, 0), (6, 12)}
    quiet = cell(result, "heatmap", 4, 12)
    assert quiet["inbound_calls"] == 0 and quiet["missed_rate_pct"] is None
    [total] = section(result, "total")
    assert (total["inbound_calls"], total["missed_calls"], total["answered_calls"]) == (23, 5, 17)
    assert total["average_handle_seconds"] == 510.0
    assert total["median_talk_seconds"] == 600.0 and total["median_wait_seconds"] == 5.0
    assert total["missed_rate_pct"] == pytest.approx(5 / 23 * 100)
    assert len(result.sql) == 1  # cells, total and the not-called-back list in one query


def advice(rate, aht):  # type: ignore[no-untyped-def]
    return agents_needed(rate, aht, target_level=0.8, target_seconds=20, shrinkage=0.3)


#: (weekday, hour, such hours in the period, calls per hour, AHT, where the AHT comes from)
STAFFED_CELLS = [
    (1, 10, 2, 2.0, 300.0, "cell"),
    (2, 14, 2, 6.0, 600.0, "cell"),
    (3, 9, 1, 4.0, 510.0, "period"),  # nothing answered in the cell
    (7, 23, 1, 1.0, 60.0, "cell"),
    (1, 0, 2, 0.5, 510.0, "period"),
    (6, 12, 1, 1.0, 510.0, "period"),  # answered without a talk time
]


def test_staffing_from_arrival_rate_and_handle_time(store, analytics):
    build(store, switchboard)
    result = calls.run(analytics(), calls.CallsQuery(period=PERIOD))
    for weekday, hour, hours, rate, aht, source in STAFFED_CELLS:
        row = cell(result, "staffing", weekday, hour)
        expected = advice(rate, aht)
        assert (row["hours_in_period"], row["calls_per_hour"]) == (hours, rate)
        assert (row["average_handle_seconds"], row["aht_from"]) == (aht, source)
        assert (row["agents"], row["scheduled_agents"]) == (
            expected.agents,
            expected.scheduled_agents,
        )
        assert row["load_erlangs"] == pytest.approx(rate * aht / 3600)
        assert row["service_level"] == pytest.approx(expected.service_level)
        assert row["occupancy"] == pytest.approx(expected.occupancy)
    staffed = {(r["weekday"], r["hour"]) for r in section(result, "staffing") if r["agents"]}
    assert staffed == {(w, h) for w, h, *_ in STAFFED_CELLS}


def test_staffing_of_the_busy_hour_and_a_quiet_hour(store, analytics):
    build(store, switchboard)
    result = calls.run(
        analytics(), calls.CallsQuery(period=PERIOD, shrinkage=0.0, service_level_target=0.9)
    )
    busy = cell(result, "staffing", 2, 14)  # 1 Erlang: 2 agents answer 67.8 % in 20 s
    expected = agents_needed(6.0, 600.0, target_level=0.9, target_seconds=20)
    assert busy["agents"] == expected.agents == busy["scheduled_agents"] == 3
    quiet = cell(result, "staffing", 4, 12)
    assert (quiet["calls_per_hour"], quiet["agents"], quiet["load_erlangs"]) == (0.0, 0, 0.0)


def test_missed_calls_not_called_back(store, analytics):
    world = build(store, switchboard)
    runner = analytics()
    [row] = section(calls.run(runner, calls.CallsQuery(period=PERIOD)), "callbacks")
    assert (row["missed_calls"], row["called_back"], row["not_called_back"]) == (5, 2, 3)
    assert row["not_called_back_rate_pct"] == 60.0
    ids = world.missed
    assert row["not_called_back_ids"] == [ids["midnight"], ids["olga"], ids["number"]]
    assert row["ids_truncated"] is False
    [wider] = section(
        calls.run(runner, calls.CallsQuery(period=PERIOD, callback_minutes=90)), "callbacks"
    )
    assert wider["not_called_back"] == 2 and wider["not_called_back_rate_pct"] == 40.0
    assert wider["not_called_back_ids"] == [ids["midnight"], ids["number"]]


def test_manager_filter_and_filters_calls_cannot_take(store, analytics):
    world = build(store, switchboard)
    runner = analytics()
    only_anna = calls.run(
        runner, calls.CallsQuery(period=PERIOD, filters=Filters(manager_ids=(world.users["anna"],)))
    )
    [total] = section(only_anna, "total")
    assert (total["inbound_calls"], total["missed_calls"]) == (3, 0)  # 2.3 ×2 and 8.3
    assert total["average_handle_seconds"] == 120.0
    with pytest.raises(InvalidInput, match="cannot be filtered by pipeline"):
        calls.run(runner, calls.CallsQuery(period=PERIOD, filters=Filters(pipeline_ids=(1,))))


def test_empty_period(store, analytics):
    build(store, switchboard)
    result = calls.run(
        analytics(), calls.CallsQuery(period=Period(start="2020-01-01", end="2020-01-03"))
    )  # Wednesday to Friday
    assert all(r["inbound_calls"] == 0 for r in section(result, "heatmap"))
    wednesday = cell(result, "staffing", 3, 10)
    assert (wednesday["hours_in_period"], wednesday["calls_per_hour"]) == (1, 0.0)
    assert wednesday["agents"] == 0
    monday = cell(result, "staffing", 1, 10)  # no Monday in the period: no rate at all
    assert (monday["hours_in_period"], monday["calls_per_hour"], monday["agents"]) == (
        0,
        None,
        None,
    )
    [row] = section(result, "callbacks")
    assert (row["missed_calls"], row["not_called_back"], row["not_called_back_ids"]) == (0, 0, [])
    assert row["not_called_back_rate_pct"] is None


def test_query_validation():
    with pytest.raises(ValueError, match="service_level_target"):
        calls.CallsQuery(period=PERIOD, service_level_target=1.0)
    with pytest.raises(ValueError, match="shrinkage"):
        calls.CallsQuery(period=PERIOD, shrinkage=1.0)
    assert calls.weekday_counts(PERIOD) == {1: 2, 2: 2, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1}
