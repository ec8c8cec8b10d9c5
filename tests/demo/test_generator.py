"""The demo generator: reproducible, internally consistent, and the planted truths show.

A 2,000-client company is built once into a SQLite file (schema from the migrations) and
checked with plain SQL; a 500-client company is built into a PostgreSQL database made for
this module. Tolerances on planted rates are four binomial standard errors.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Connection, Engine, text

from tests.conftest import PG_ADMIN_DSN, ensure_postgres
from voronka.client.contact import normalize_contact
from voronka.client.models import Client, ClientKind, ContactKind
from voronka.db import migrate
from voronka.db.session import make_engine, session_factory
from voronka.demo import DemoParams, DemoSummary, generate
from voronka.demo.timeline import DEFAULT_END

PHONE = re.compile(r"^\+\d{11,15}$")
PARAMS = DemoParams()
#: Deals created this long before the end have all closed (cycles are capped).
SETTLED = timedelta(days=math.ceil(PARAMS.max_cycle_days) + 1)


def _sqlite_engine(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    return engine


def _build(path: Path, *, seed: int, clients: int = 2_000) -> tuple[Engine, DemoSummary]:
    engine = _sqlite_engine(path)
    return engine, generate(engine, clients=clients, seed=seed)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    engine, summary = _build(tmp_path_factory.mktemp("demo") / "demo.sqlite3", seed=42)
    yield engine, summary
    engine.dispose()


def _amount_total(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT sum(amount_minor) FROM deal")).scalar_one())


def test_same_seed_builds_the_same_company(
    demo: tuple[Engine, DemoSummary], tmp_path: Path
) -> None:
    engine, summary = demo
    again, again_summary = _build(tmp_path / "again.sqlite3", seed=42)
    other, other_summary = _build(tmp_path / "other.sqlite3", seed=43)
    try:
        assert again_summary.rows == summary.rows
        assert _amount_total(again) == _amount_total(engine)
        assert other_summary.rows != summary.rows
        assert _amount_total(other) != _amount_total(engine)
    finally:
        again.dispose()
        other.dispose()


def test_summary_counts_the_rows_in_the_store(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    with engine.connect() as conn:
        for table, count in summary.rows.items():
            counted = text(f'SELECT count(*) FROM "{table}"')  # noqa: S608
            assert conn.execute(counted).scalar_one() == count
    assert summary.rows["deal"] == 2_000
    assert 15 <= summary.rows["touchpoint"] / 2_000 <= 25


def test_foreign_keys_hold(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def test_sqlite_schema_is_unchanged_by_the_load(
    demo: tuple[Engine, DemoSummary], tmp_path: Path
) -> None:
    engine, _ = demo
    fresh = _sqlite_engine(tmp_path / "fresh.sqlite3")
    query = text("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
    try:
        with engine.connect() as loaded, fresh.connect() as migrated:
            assert _schema(loaded.execute(query).all()) == _schema(migrated.execute(query).all())
    finally:
        fresh.dispose()


def _schema(rows: list[Any]) -> list[tuple[str, str, frozenset[str] | None]]:
    """Each object's definition as the set of its lines: a migration that recreates a table
    on SQLite (Alembic's batch mode) writes its constraints in an arbitrary order, which
    means nothing to SQLite."""
    return [(kind, name, frozenset(line.strip().rstrip(",") for line in sql.split("\n"))
             if sql else None) for kind, name, sql in rows]


#: Queries that count rows breaking an invariant: each must find none.
BROKEN = {
    "deal disagrees with its last stage change": """
        SELECT count(*) FROM deal d JOIN deal_stage_change c ON c.deal_id = d.id
        WHERE c.id = (SELECT max(id) FROM deal_stage_change WHERE deal_id = d.id)
          AND (c.to_stage_id != d.stage_id OR c.changed_at != d.stage_entered_at)""",
    "first stage change is not the creation": """
        SELECT count(*) FROM deal_stage_change c JOIN deal d ON d.id = c.deal_id
        WHERE c.from_stage_id IS NULL AND c.changed_at != d.created_at""",
    "status or closed_at disagrees with the stage": """
        SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id
        WHERE s.kind != d.status OR (d.status = 'open') != (d.closed_at IS NULL)""",
    "order total is not the sum of its lines": """
        SELECT count(*) FROM sales_order o WHERE o.total_minor != (SELECT
        sum(l.quantity * l.unit_price_minor) FROM order_line l WHERE l.order_id = o.id)""",
    "paid_at disagrees with the status": """
        SELECT count(*) FROM sales_order
        WHERE (paid_at IS NULL) != (status IN ('new', 'confirmed', 'cancelled'))""",
    "call timing is incomplete": """
        SELECT count(*) FROM activity WHERE kind = 'call' AND (queued_at IS NULL
        OR ended_at IS NULL OR (call_status = 'answered') != (answered_at IS NOT NULL))""",
}
PHONES = """
    SELECT value FROM contact_point WHERE kind = 'phone' UNION ALL
    SELECT number FROM tracking_number UNION ALL
    SELECT from_number FROM activity WHERE kind = 'call' UNION ALL
    SELECT to_number FROM activity WHERE kind = 'call'"""


def check_consistency(conn: Connection) -> None:
    """Assert the invariants every generated store keeps, on any engine."""
    broken = {name: _scalar(conn, sql) for name, sql in BROKEN.items()}
    assert broken == dict.fromkeys(BROKEN, 0)
    assert _scalar(conn, "SELECT count(*) FROM deal WHERE status = 'won'") > 0
    phones = conn.execute(text(PHONES)).scalars().all()
    assert phones and all(PHONE.match(phone) for phone in phones)


def _scalar(conn: Connection, sql: str, **params: object) -> int:
    return int(conn.execute(text(sql), params).scalar_one())


def test_history_orders_and_calls_are_consistent(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        check_consistency(conn)


def _settled_before() -> datetime:
    end = datetime(DEFAULT_END.year, DEFAULT_END.month, DEFAULT_END.day, tzinfo=UTC)
    return end - SETTLED


def _win_rates(conn: Connection, group: str) -> dict[str, tuple[float, int]]:
    rows = conn.execute(
        text(f"""
        SELECT {group} AS key, avg(CASE WHEN d.status = 'won' THEN 1.0 ELSE 0.0 END), count(*)
        FROM deal d JOIN channel c ON c.id = d.channel_id
        JOIN user_account u ON u.id = d.owner_id
        WHERE d.created_at < :before GROUP BY {group}"""),  # noqa: S608
        {"before": _settled_before().strftime("%Y-%m-%d %H:%M:%S")},
    ).all()
    return {key: (float(rate), int(count)) for key, rate, count in rows}


def test_planted_channel_win_rates_are_recovered(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        assert (
            _scalar(
                conn,
                "SELECT count(*) FROM deal WHERE status = 'open' AND created_at < :before",
                before=_settled_before().strftime("%Y-%m-%d %H:%M:%S"),
            )
            == 0
        )
        found = _win_rates(conn, "c.slug")
    biggest = sorted(PARAMS.channels, key=lambda c: c.lead_share, reverse=True)[:2]
    for channel in biggest:
        rate, count = found[channel.slug]
        tolerance = 4 * math.sqrt(channel.win_rate * (1 - channel.win_rate) / count)
        assert abs(rate - channel.win_rate) < tolerance, channel.slug


def test_the_best_manager_wins_most(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        found = _win_rates(conn, "u.email")
    best = max(found, key=lambda email: found[email][0])
    assert best == f"manager{PARAMS.best_manager + 1}@demo.voronka.local"


def test_planted_product_pairs_have_high_lift(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        orders = _scalar(conn, "SELECT count(DISTINCT order_id) FROM order_line")
        for pair in PARAMS.product_pairs:
            with_anchor, with_partner, with_both = (
                _orders_with(conn, pair.anchor_sku),
                _orders_with(conn, pair.partner_sku),
                _orders_with(conn, pair.anchor_sku, pair.partner_sku),
            )
            lift = with_both * orders / (with_anchor * with_partner)
            assert lift > 2, (pair, with_anchor, with_partner, with_both)


def _orders_with(conn: Connection, *skus: str) -> int:
    having = " AND ".join(
        f"sum(CASE WHEN p.sku = :sku{i} THEN 1 ELSE 0 END) > 0" for i in range(len(skus))
    )
    sql = f"""SELECT count(*) FROM (SELECT l.order_id FROM order_line l
              JOIN product p ON p.id = l.product_id GROUP BY l.order_id HAVING {having}) t"""  # noqa: S608
    return _scalar(conn, sql, **{f"sku{i}": sku for i, sku in enumerate(skus)})


def test_contact_values_are_stored_normalised(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        contacts = conn.execute(text("SELECT kind, value FROM contact_point")).all()
    assert {kind for kind, _ in contacts} == {"phone", "email", "messenger"}
    for kind, value in contacts:
        assert normalize_contact(ContactKind(kind), value) == value


def test_feedback_scores_stay_on_their_scales(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as conn:
        scores = conn.execute(text("SELECT DISTINCT kind, score FROM feedback")).all()
    csat = {score for kind, score in scores if kind == "csat"}
    nps = {score for kind, score in scores if kind == "nps"}
    assert csat and csat <= set(range(1, 6))
    assert nps and nps <= set(range(11))


# --- PostgreSQL -----------------------------------------------------------------------------


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pg_engine() -> Iterator[Engine]:
    """A PostgreSQL database made for this module, migrated; dropped at the end."""
    ensure_postgres()
    name = f"voronka_demo_test_{os.getpid()}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    engine = make_engine(f"{base}/{name}")
    try:
        migrate.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_postgresql_load_is_consistent_and_sequences_continue(pg_engine: Engine) -> None:
    summary = generate(pg_engine, clients=500, seed=7)
    with pg_engine.connect() as conn:
        check_consistency(conn)
        assert _scalar(conn, "SELECT count(*) FROM deal") == summary.rows["deal"] == 500
    with session_factory(pg_engine)() as session:
        client = Client(workspace_id=1, kind=ClientKind.PERSON, name="Walk-in client")
        session.add(client)
        session.commit()
        assert client.id == summary.rows["client"] + 1


def test_a_seed_builds_the_same_company_on_both_engines(pg_engine: Engine, tmp_path: Path) -> None:
    on_postgres = generate(pg_engine, clients=300, seed=11)
    on_sqlite, sqlite_summary = _build(tmp_path / "same.sqlite3", seed=11, clients=300)
    try:
        assert on_postgres.rows == sqlite_summary.rows
        assert _amount_total(pg_engine) == _amount_total(on_sqlite)
    finally:
        on_sqlite.dispose()
