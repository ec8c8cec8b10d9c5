"""Migrations: from empty to head and back, no drift from the models, the start-up guard."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from voronka.db import migrate
from voronka.db.models import Base
from voronka.db.session import make_engine


@pytest.fixture
def empty_engine(backend: str, request: pytest.FixtureRequest, tmp_path) -> Engine:
    """A database with nothing in it (a separate PostgreSQL schema-less database per test)."""
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    import psycopg

    from tests.conftest import PG_ADMIN_DSN, ensure_postgres

    ensure_postgres()
    name = f"voronka_mig_{tmp_path.name[-20:].replace('-', '_').lower()}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    engine = make_engine(PG_ADMIN_DSN.rsplit("/", 1)[0].replace(
        "postgresql://", "postgresql+psycopg://") + f"/{name}")
    request.addfinalizer(lambda: _drop(engine, name))
    return engine


def _drop(engine: Engine, name: str) -> None:
    import psycopg

    from tests.conftest import PG_ADMIN_DSN

    engine.dispose()
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def test_upgrade_from_empty_matches_models_and_downgrades_to_nothing(empty_engine: Engine):
    with pytest.raises(migrate.SchemaOutOfDate, match="voronka db upgrade"):
        migrate.ensure_current(empty_engine)
    migrate.upgrade(empty_engine)
    migrate.ensure_current(empty_engine)
    with empty_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert set(inspect(empty_engine).get_table_names()) >= set(Base.metadata.tables)
    migrate.downgrade(empty_engine, "base")
    assert migrate.current_revision(empty_engine) is None
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    empty_engine.dispose()


def test_migration_files_do_not_import_the_application():
    for path in (migrate.MIGRATIONS_DIR / "versions").glob("*.py"):
        text = path.read_text()
        assert "import voronka" not in text and "from voronka" not in text, path.name
