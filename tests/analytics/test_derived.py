"""Derived per-client state (first order, visitor owner, paying visitors) on every engine.

Hand-checked world: ivan pays on 10 Mar and on 2 Mar (inserted in that order), so his first
order is the 2 Mar one; olga's 1 Mar order is cancelled, so her first *revenue* order is the
15 Mar one; petr never pays.
Visitor v1 is seen only with ivan → owner ivan; v2 with ivan and olga → nobody;
v3 only anonymously → nobody; v4 with petr only → owner petr.
Visitors of paying clients: v1 (ivan), v2 (ivan and olga); the other two visits (v3, v4)
are strangers' visits, each of one page (a bounce).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from tests.analytics.factory import at, build
from voronka.analytics import derived, snapshot
from voronka.analytics.runner import Runner
from voronka.analytics.sources import RecordScope
from voronka.order.models import OrderStatus


def populate(w):  # type: ignore[no-untyped-def]
    w.client("ivan", owner="anna")
    w.client("olga", owner="boris")
    w.client("petr", owner="anna")
    w.product("tea", "100")
    w.order("ivan", "2026-03-10 12:00", [("tea", 1, "100")])
    w.order("ivan", "2026-03-02 09:00", [("tea", 2, "100")])
    w.order("olga", "2026-03-01 09:00", [("tea", 1, "100")], status=OrderStatus.CANCELLED)
    w.order("olga", "2026-03-15 09:00", [("tea", 1, "100")])
    for visitor, client in (("v1", "ivan"), ("v1", None), ("v2", "ivan"), ("v2", "olga"),
                            ("v3", None), ("v4", "petr")):
        w.visit(visitor, "2026-03-01 10:00", client=client)


def _rows(runner: Runner, name: str, order: str) -> list[tuple]:  # type: ignore[type-arg]
    t = runner.sources[name]
    return [tuple(r.values()) for r in runner.rows(t.order_by(order))]


def test_first_orders_and_visitor_owners(store: Engine, analytics):  # type: ignore[no-untyped-def]
    w = build(store, populate)
    runner = analytics()
    ivan, olga, petr = (w.clients[n] for n in ("ivan", "olga", "petr"))
    firsts = _rows(runner, "client_first_order", "client_id")
    assert [(c, paid) for c, _, paid in firsts] == [
        (ivan, at("2026-03-02 09:00").replace(tzinfo=None)),
        (olga, at("2026-03-15 09:00").replace(tzinfo=None)),
    ]
    assert _rows(runner, "visitor_owner", "visitor_id") == [("v1", ivan), ("v4", petr)]
    # strangers: v3 (anonymous only) and v4 (petr never paid); v1 and v2 belong to payers
    hour = at("2026-03-01 10:00").replace(tzinfo=None)  # 07:00 UTC, already a whole hour
    assert _rows(runner, "stranger_visit_hour", "hour") == [(hour, None, None, None, 2, 2)]


def test_the_record_scope_restricts_client_state(store: Engine, analytics):  # type: ignore[no-untyped-def]
    w = build(store, populate)
    boris = analytics(RecordScope(frozenset({w.users["boris"]})))
    assert [c for c, *_ in _rows(boris, "client_first_order", "client_id")] == [w.clients["olga"]]
    assert _rows(boris, "visitor_owner", "visitor_id") == []  # v2 is nobody's, even for boris
    assert _rows(boris, "stranger_visit_hour", "hour") == []  # boris has no stranger's visit


def test_the_snapshot_rewrites_derived_state_only_when_its_tables_change(store: Engine,
                                                                          tmp_path: Path):
    build(store, populate)
    url = store.url.render_as_string(hide_password=False)
    first = snapshot.refresh(url, tmp_path)
    assert {k: v for k, v in first.items() if k.startswith("derived/")} == {
        f"derived/{name}": "rewritten" for name in derived.DERIVED}
    again = snapshot.refresh(url, tmp_path)
    assert not [k for k in again if k.startswith("derived/")]


def test_a_kept_table_written_by_another_definition_is_rewritten(store: Engine,
                                                                  tmp_path: Path):
    """A release that changes a derived table's definition must not read the old file."""
    build(store, populate)
    url = store.url.render_as_string(hide_password=False)
    snapshot.refresh(url, tmp_path)
    kept = derived.folder(tmp_path, "deal_stage_entry") / derived.DEFINITION_FILE
    kept.write_text("the hash of an older definition")
    again = snapshot.refresh(url, tmp_path)
    assert {k: v for k, v in again.items() if k.startswith("derived/")} == {
        "derived/deal_stage_entry": "rewritten"}
    assert kept.read_text() != "the hash of an older definition"


def test_kept_stage_entries_are_written_in_stage_then_time_order(store: Engine,
                                                                tmp_path: Path):
    """The funnel's reads skip row groups by stage and time only if the file is in order."""
    import duckdb

    def with_deals(w):  # type: ignore[no-untyped-def]
        populate(w)
        w.deal("petr", "2026-03-05 10:00", [("qualified", "2026-03-06 10:00")])
        w.deal("ivan", "2026-03-01 10:00", [("qualified", "2026-03-09 10:00"),
                                            ("won", "2026-03-10 10:00")])
        w.deal("olga", "2026-03-03 10:00", [("lost", "2026-03-04 10:00")])

    build(store, with_deals)
    snapshot.refresh(store.url.render_as_string(hide_password=False), tmp_path)
    part = derived.folder(tmp_path, "deal_stage_entry") / "part-00000.parquet"
    rows = duckdb.sql(f"SELECT to_stage_id, first_at FROM read_parquet('{part}')").fetchall()
    assert len(rows) == 7 and rows == sorted(rows)  # 2 + 3 + 2 entries (creation included)
