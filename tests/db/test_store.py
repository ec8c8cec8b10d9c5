"""Store guarantees: SQLite pragmas on every connection, UTC and money types, PD inventory."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from voronka.db.base import Base
from voronka.db.session import unit_of_work
from voronka.db.types import from_minor, to_minor
from voronka.deal.models import Deal
from voronka.user.models import Team
from voronka.workspace.service import ensure_default

KEY_COLUMNS = {"version", "created_at", "updated_at"}


@pytest.mark.sqlite_only  # the pragmas are SQLite's
def test_sqlite_pragmas_on_every_new_connection(engine: Engine):
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_foreign_keys_are_enforced(engine: Engine):
    with pytest.raises(IntegrityError), unit_of_work(engine) as session:
        ensure_default(session)
        session.add(Deal(workspace_id=1, title="orphan", client_id=424242, pipeline_id=1,
                         stage_id=1, stage_entered_at=datetime.now(UTC)))
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(Deal)) == 0


def test_timestamps_round_trip_as_aware_utc_and_refuse_naive(engine: Engine):
    moscow = timezone(timedelta(hours=3))
    with unit_of_work(engine) as session:
        ensure_default(session)
        team = Team(workspace_id=1, name="T", created_at=datetime(2026, 1, 1, 2, 30, tzinfo=moscow))
        session.add(team)
        session.flush()
        team_id = team.id
    with unit_of_work(engine) as session:
        loaded = session.get(Team, team_id)
        assert loaded.created_at == datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
        assert loaded.created_at.tzinfo is not None
    with pytest.raises(Exception, match="naive datetime"), unit_of_work(engine) as session:
        session.add(Team(workspace_id=1, name="N", created_at=datetime(2026, 1, 1)))


def test_money_is_exact_in_minor_units():
    assert to_minor(Decimal("0.1")) + to_minor(Decimal("0.2")) == to_minor(Decimal("0.3"))
    assert to_minor("99.995") == 10000  # half-even to the cent
    assert from_minor(-12345) == Decimal("-123.45")


@pytest.mark.sqlite_only  # SQLite's single writer is what the busy timeout protects
def test_concurrent_writers_wait_instead_of_failing(engine: Engine):
    with unit_of_work(engine) as session:
        ensure_default(session)
    errors: list[Exception] = []

    def writer(index: int) -> None:
        try:
            for n in range(25):
                with unit_of_work(engine) as session:
                    session.add(Team(workspace_id=1, name=f"team-{index}-{n}"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(Team)) == 200


def test_every_column_is_classified_for_personal_data():
    """RELIABILITY 121: a new column without a classification fails here."""
    missing = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.info.get("pd") not in ("none", "personal", "sensitive")
        and not (column.primary_key or column.foreign_keys or column.name in KEY_COLUMNS)
    ]
    assert missing == []


@pytest.mark.sqlite_only  # the failure it guards against is SQLite's reader-to-writer upgrade
def test_reads_that_audit_survive_concurrent_writers(engine: Engine):
    """A read transaction that records an audit event while others commit must not fail.

    SQLite refuses to upgrade a reader to a writer once another connection has committed
    (SQLITE_BUSY_SNAPSHOT), so the audit rows of reads are written after the read.
    """
    from voronka.access.actor import Actor
    from voronka.audit import service as audit
    from voronka.audit.models import AuditEvent

    with unit_of_work(engine) as session:
        ensure_default(session)
    with unit_of_work(engine, write=False) as reader:
        reader.execute(select(func.count()).select_from(Team)).scalar()  # the read begins
        with unit_of_work(engine) as writer:  # someone else commits meanwhile
            writer.add(Team(workspace_id=1, name="meanwhile"))
        audit.record(reader, Actor.system(), action="read", entity="team")
    with unit_of_work(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1
