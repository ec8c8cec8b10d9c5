"""Analytics tests run once per engine: DuckDB, PostgreSQL and Spark.

Data is written through the ORM into the store the engine reads: a SQLite file for DuckDB
and Spark (through the Parquet snapshot), the test PostgreSQL database for PostgreSQL (in
place). ``analytics(...)`` returns a Runner over fresh sources after the data is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import empty_tables
from voronka.analytics import snapshot, sources
from voronka.analytics.runner import Runner
from voronka.analytics.sources import EngineKind, RecordScope
from voronka.db import migrate
from voronka.db.session import make_engine

ENGINES = ("duckdb", "postgres", "spark")
TIMEZONE = "Europe/Moscow"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine_kind" in metafunc.fixturenames:
        chosen = [e for e in metafunc.config.getoption("--engines").split(",") if e]
        metafunc.parametrize("engine_kind", chosen, scope="session")


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One local Spark session for the whole run (starting one takes seconds)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]").appName("voronka-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.extraJavaOptions", "-Dderby.system.home=" + str(warehouse))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def store_engine(engine_kind: str, request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if engine_kind == "postgres":
        url = request.getfixturevalue("pg_database")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('store') / 'analytics.sqlite3'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(store_engine: Engine) -> Iterator[Engine]:
    """The store analytics read, emptied after the test."""
    yield store_engine
    empty_tables(store_engine)


@pytest.fixture
def analytics(engine_kind: str, store: Engine, request: pytest.FixtureRequest,
              tmp_path: Path) -> Callable[..., Runner]:
    """``analytics(scope=None)`` → a Runner over the current data of ``store``."""
    opened: list[Runner] = []
    request.addfinalizer(lambda: [r.sources.backend.disconnect() for r in opened
                                  if r.sources.kind is not EngineKind.SPARK])

    def make(scope: RecordScope | None = None) -> Runner:
        url = store.url.render_as_string(hide_password=False)
        if engine_kind == "postgres":
            found = sources.postgres_sources(url, TIMEZONE)
        else:
            snapshot.refresh(url, tmp_path / "snapshot")
            if engine_kind == "duckdb":
                found = sources.duckdb_sources(tmp_path / "snapshot", TIMEZONE)
            else:
                spark = request.getfixturevalue("spark_session")
                found = sources.spark_sources(tmp_path / "snapshot", TIMEZONE, spark)
        opened.append(Runner(found.scoped(scope) if scope else found))
        return opened[-1]

    return make


__all__ = ["ENGINES", "EngineKind"]
