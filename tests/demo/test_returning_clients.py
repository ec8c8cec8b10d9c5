"""Returning clients (``leads_per_client`` above 1) and the default company they leave alone.

A 2,000-client company with 3 leads per client on average is built once into a SQLite file and
checked with plain SQL. The default company is pinned by row counts and integer checksums that
the generator gave before the option existed (commit 6b016d6, 300 clients, seed 11).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from tests.demo.test_generator import _win_rates as settled_win_rates
from tests.demo.test_generator import check_consistency
from voronka.db import migrate
from voronka.db.session import make_engine
from voronka.demo import DemoParams, DemoSummary, generate

CLIENTS = 2_000
LEADS_PER_CLIENT = 3.0


def _build(
    path: Path, *, clients: int, seed: int, leads_per_client: float = 1.0
) -> tuple[Engine, DemoSummary]:
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    return engine, generate(engine, clients=clients, seed=seed, leads_per_client=leads_per_client)


@pytest.fixture(scope="module")
def returning(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    path = tmp_path_factory.mktemp("returning") / "demo.sqlite3"
    engine, summary = _build(path, clients=CLIENTS, seed=42, leads_per_client=LEADS_PER_CLIENT)
    yield engine, summary
    engine.dispose()


def _scalar(conn: Connection, sql: str) -> int:
    return int(conn.execute(text(sql)).scalar_one())


def test_deals_per_client_average_the_asked_mean(returning: tuple[Engine, DemoSummary]) -> None:
    _, summary = returning
    # 1 + Poisson(2) leads per client: the mean of 2,000 has standard error sqrt(2 / 2,000).
    tolerance = 4 * math.sqrt((LEADS_PER_CLIENT - 1) / CLIENTS)
    assert abs(summary.rows["deal"] / CLIENTS - LEADS_PER_CLIENT) < tolerance
    assert summary.leads_per_client == LEADS_PER_CLIENT


#: Queries that count rows breaking an invariant of returning clients: each must find none.
BROKEN = {
    "a top-level client without a deal": """
        SELECT count(*) FROM client c WHERE c.company_id IS NULL
        AND NOT EXISTS (SELECT 1 FROM deal d WHERE d.client_id = c.id)""",
    "a later deal created before an earlier one": """
        SELECT count(*) FROM deal a JOIN deal b ON b.client_id = a.client_id AND b.id > a.id
        WHERE b.created_at < a.created_at""",
    "client not created with its first deal, or not from its channel": """
        SELECT count(*) FROM client c JOIN deal d ON d.client_id = c.id
        WHERE d.id = (SELECT min(id) FROM deal WHERE client_id = c.id)
        AND (c.created_at != d.created_at OR c.source_channel_id != d.channel_id
             OR c.owner_id != d.owner_id)""",
    "a deal's history does not start at its creation or goes back in time": """
        SELECT count(*) FROM deal_stage_change a JOIN deal_stage_change b
        ON b.deal_id = a.deal_id AND b.id = a.id + 1 WHERE b.changed_at < a.changed_at""",
    "an order from a deal that was not won, or before it was": """
        SELECT count(*) FROM sales_order o JOIN deal d ON d.id = o.deal_id
        WHERE d.status != 'won' OR o.created_at < d.closed_at OR o.client_id != d.client_id""",
    "two orders from one deal": """
        SELECT count(*) FROM (SELECT deal_id FROM sales_order WHERE deal_id IS NOT NULL
        GROUP BY deal_id HAVING count(*) > 1) t""",
    "a repeat or cancelled order before the client's first won-deal order": """
        SELECT count(*) FROM sales_order o WHERE o.deal_id IS NULL AND o.created_at <
        coalesce((SELECT min(f.created_at) FROM sales_order f
                  WHERE f.client_id = o.client_id AND f.deal_id IS NOT NULL), '9999')""",
    "a later lead without its lead-creating touch": """
        SELECT count(*) FROM deal d WHERE d.id != (SELECT min(id) FROM deal
        WHERE client_id = d.client_id) AND NOT EXISTS (SELECT 1 FROM touchpoint t
        WHERE t.client_id = d.client_id AND t.occurred_at = d.created_at
        AND t.kind IN ('form', 'call', 'offline') AND t.channel_id = d.channel_id)""",
}


def test_later_leads_follow_earlier_ones_and_stay_consistent(
    returning: tuple[Engine, DemoSummary],
) -> None:
    engine, _ = returning
    with engine.connect() as conn:
        check_consistency(conn)
        broken = {name: _scalar(conn, sql) for name, sql in BROKEN.items()}
        returning_clients = _scalar(
            conn,
            "SELECT count(*) FROM (SELECT client_id FROM deal GROUP BY client_id "
            "HAVING count(*) > 1) t",
        )
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    assert broken == dict.fromkeys(BROKEN, 0)
    # P(more than one lead) = 1 - exp(-2) = 0.865 of 2,000 clients, within 4 standard errors.
    expected = 1 - math.exp(-(LEADS_PER_CLIENT - 1))
    tolerance = 4 * math.sqrt(expected * (1 - expected) / CLIENTS)
    assert abs(returning_clients / CLIENTS - expected) < tolerance


def test_every_lead_keeps_the_planted_win_rates(returning: tuple[Engine, DemoSummary]) -> None:
    """Win rates of the biggest channels over settled deals, within four standard errors."""
    engine, _ = returning
    with engine.connect() as conn:
        found = settled_win_rates(conn, "c.slug")
    params = DemoParams()
    for channel in sorted(params.channels, key=lambda c: c.lead_share, reverse=True)[:2]:
        rate, count = found[channel.slug]
        tolerance = 4 * math.sqrt(channel.win_rate * (1 - channel.win_rate) / count)
        assert abs(rate - channel.win_rate) < tolerance, channel.slug


def test_later_leads_get_only_their_calls(returning: tuple[Engine, DemoSummary]) -> None:
    engine, _ = returning
    sql = """SELECT DISTINCT a.kind, a.direction FROM activity a JOIN deal d ON d.id = a.deal_id
             WHERE d.id != (SELECT min(id) FROM deal WHERE client_id = d.client_id)"""
    with engine.connect() as conn:
        kinds = set(conn.execute(text(sql)).all())
    assert kinds == {("call", "inbound"), ("call", "outbound")}


def test_returning_clients_give_the_benchmark_shape(returning: tuple[Engine, DemoSummary]) -> None:
    """About 2 orders per 3 deals and at most ~23 touchpoints per client (docs/demo.md)."""
    _, summary = returning
    assert 0.6 < summary.rows["sales_order"] / summary.rows["deal"] < 0.75
    assert summary.rows["touchpoint"] / CLIENTS < 23.5


def test_same_seed_and_mean_build_the_same_company(tmp_path: Path) -> None:
    def build(name: str, seed: int) -> tuple[dict[str, int], tuple[int, int]]:
        engine, summary = _build(tmp_path / name, clients=500, seed=seed, leads_per_client=2.5)
        with engine.connect() as conn:
            sums = conn.execute(
                text("SELECT sum(amount_minor), sum(id * client_id) FROM deal")
            ).one()
        engine.dispose()
        return summary.rows, tuple(sums)

    first, again, other = build("a.sqlite3", 7), build("b.sqlite3", 7), build("c.sqlite3", 8)
    assert again == first
    assert other != first


def test_leads_per_client_below_one_is_refused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'refused.sqlite3'}")
    with pytest.raises(ValueError, match="leads_per_client must be between 1 and 20"):
        generate(engine, clients=10, leads_per_client=0.5)
    engine.dispose()


#: What the generator built for 300 clients and seed 11 before ``leads_per_client`` existed.
DEFAULT_ROWS = {
    "client": 344, "contact_point": 623, "client_tag": 221, "consent_record": 441, "deal": 300,
    "deal_stage_change": 1032, "touchpoint": 5857, "activity": 1926, "sales_order": 138,
    "order_line": 179, "order_status_change": 684, "ticket": 13, "feedback": 52,
}  # fmt: skip
DEFAULT_CHECKSUMS = {
    "SELECT sum(amount_minor), sum(id * stage_id), sum(client_id * channel_id) FROM deal": (
        1372550000, 261820, 153134),
    "SELECT sum(total_minor), sum(client_id * coalesce(deal_id, 0)) FROM sales_order": (
        428022300, 1549637),
    "SELECT sum(id * channel_id), sum(pages) FROM touchpoint": (72031304, 19784),
    "SELECT sum(coalesce(talk_seconds, 0) * id), count(*) FROM activity": (114700556, 1926),
}  # fmt: skip


def test_the_default_company_is_unchanged(tmp_path: Path) -> None:
    engine, summary = _build(tmp_path / "default.sqlite3", clients=300, seed=11)
    try:
        assert {t: summary.rows[t] for t in DEFAULT_ROWS} == DEFAULT_ROWS
        with engine.connect() as conn:
            found = {sql: tuple(conn.execute(text(sql)).one()) for sql in DEFAULT_CHECKSUMS}
        assert found == DEFAULT_CHECKSUMS
    finally:
        engine.dispose()
