"""Test set-up: real SQLite and real PostgreSQL, schema built by the migrations.

Every test that uses ``engine`` (directly or through ``api``/``people``) runs once per
backend. PostgreSQL is started when it is not running, and each run gets its own database,
dropped at the end. Tables are emptied after each test.
"""

from __future__ import annotations

import os

os.environ.setdefault("VORONKA_PASSWORD_HASH_COST", "light")
os.environ.setdefault("VORONKA_PROFILE", "test")
os.environ.setdefault("VORONKA_ANALYTICS_REFRESH_SECONDS", "0")  # reports see each test's data
os.environ.setdefault("VORONKA_ANALYTICS_DIR", os.path.join(
    __import__("tempfile").mkdtemp(prefix="voronka-analytics-"), "snapshots"))

import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from voronka.db import migrate
from voronka.db.models import Base
from voronka.db.session import make_engine

PG_ADMIN_DSN = os.environ.get("VORONKA_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backends", default=",".join(BACKENDS),
                     help="comma-separated store backends to run on (sqlite,postgresql)")
    parser.addoption("--engines", default="duckdb,postgres,spark",
                     help="comma-separated analytics engines to run on (duckdb,postgres,spark)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = [b for b in metafunc.config.getoption("--backends").split(",") if b]
        if metafunc.definition.get_closest_marker("sqlite_only"):
            chosen = [b for b in chosen if b == "sqlite"]
        metafunc.parametrize("backend", chosen, scope="session")


def _pg_running() -> bool:
    try:
        psycopg.connect(PG_ADMIN_DSN, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


def ensure_postgres() -> None:
    """Start the machine's PostgreSQL cluster when it is down (no systemd here)."""
    if _pg_running():
        return
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not versions:
        pytest.exit("PostgreSQL is not running and no cluster is installed", 2)
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"],
                   check=False, capture_output=True)
    for _ in range(50):
        if _pg_running():
            return
        time.sleep(0.2)
    pytest.exit("could not start PostgreSQL on 127.0.0.1:5432", 2)


def _admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this run; yields its SQLAlchemy URL."""
    ensure_postgres()
    name = f"voronka_test_{os.getpid()}_{secrets.token_hex(3)}"
    _admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _build_engine(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Engine:
    if backend == "sqlite":
        return make_engine(f"sqlite:///{tmp / 'voronka.sqlite3'}")
    return make_engine(request.getfixturevalue("pg_database"))


@pytest.fixture(scope="session")
def migrated_engine(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    engine = _build_engine(backend, request, tmp_path_factory.mktemp(backend))
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def empty_tables(engine: Engine) -> None:
    """Delete every row (children first) so the next test starts clean.

    DELETE, not TRUNCATE: on PostgreSQL TRUNCATE of every table costs ~0.8 s per test, DELETE
    of a test's few rows ~10 ms. Self-references are cut first so row order cannot matter.
    """
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        for table in tables:
            for column in table.columns:
                if any(fk.column.table is table for fk in column.foreign_keys):
                    conn.execute(table.update().values({column.name: None}))
        for table in tables:
            conn.execute(table.delete())


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """The migrated store of the current backend, emptied after the test."""
    yield migrated_engine
    empty_tables(migrated_engine)


pytest_plugins = ["tests.fixtures"]
