"""DuckDB sources are opened once per thread and snapshot version, and reopened after a
refresh; PostgreSQL connections are closed after each analysis."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.analytics.factory import build
from tests.analytics.test_derived import populate
from voronka.analytics import engine
from voronka.config import get_settings


def _settings(kind: str, folder: Path):  # type: ignore[no-untyped-def]
    engine_name = {"duckdb": "duckdb", "postgres": "postgres", "spark": "duckdb"}[kind]
    return get_settings().model_copy(update={
        "analytics_engine": engine_name, "analytics_dir": folder,
        "analytics_refresh_seconds": 3600})


def test_duckdb_sources_are_reused_until_the_snapshot_changes(
        store: Engine, engine_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    if engine_kind != "duckdb":
        pytest.skip("DuckDB sources only")
    build(store, populate)
    url = store.url.render_as_string(hide_password=False)
    settings = _settings(engine_kind, tmp_path)
    first = engine.open_sources(url, settings)
    assert engine.open_sources(url, settings) is first
    elsewhere: list[object] = []
    thread = threading.Thread(target=lambda: elsewhere.append(engine.open_sources(url, settings)))
    thread.start()
    thread.join()
    assert elsewhere[0] is not first  # a DuckDB connection is never shared between threads
    engine.ensure_snapshot(settings, url, force=True)
    fresh = engine.open_sources(url, settings)
    assert fresh is not first
    assert fresh.backend.con.sql("SELECT count(*) FROM v_client").fetchone() == (3,)


def test_postgres_connections_are_closed_after_the_analysis(
        store: Engine, engine_kind: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    if engine_kind != "postgres":
        pytest.skip("PostgreSQL in place only")
    url = store.url.render_as_string(hide_password=False)
    with engine.analysis_sources(url, _settings(engine_kind, tmp_path)) as opened:
        assert opened.backend.con.closed == 0  # psycopg: 0 while open
        held = opened.backend.con
    assert held.closed != 0
