"""An incremental columnar snapshot of the operational store, in Parquet.

DuckDB copies each analytic table out of SQLite or PostgreSQL (through its scanner
extensions, loaded from their PyPI packages) into ``<dir>/<table>/part-*.parquet``, casting
every column to its canonical type. Append-only tables (stage changes, status changes,
touchpoints, consent) only get a new part with rows above the last copied id; other tables
are rewritten when their row count, largest id or latest update changed. The DuckDB and the
Spark engines both read these files.
"""

from __future__ import annotations

import glob
import json
import multiprocessing
import shutil
import sysconfig
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.engine import make_url

from voronka.analytics.columns import (
    ANALYTIC_TABLES,
    APPEND_ONLY,
    analytic_columns,
    sql_type,
    table,
)

MANIFEST = "manifest.json"


def _extension_path(name: str) -> str:
    pattern = str(Path(sysconfig.get_paths()["purelib"]) / f"duckdb_extension_{name}" /
                  "extensions" / "*" / f"{name}.duckdb_extension")
    found = sorted(glob.glob(pattern))
    if not found:
        raise RuntimeError(f"DuckDB extension {name} is not installed (package "
                           f"duckdb-extension-{name.replace('_', '-')})")
    return found[-1]


def connect_duckdb() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never downloads extensions nor draws progress bars (a
    server's or job's stderr is a log, not a terminal)."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    con.execute("SET enable_progress_bar = false")  # a session option, not a global one
    return con


def attach_store(con: duckdb.DuckDBPyConnection, database_url: str) -> None:
    """Attach the operational store read-only as catalog ``store``."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        con.execute(f"LOAD '{_extension_path('sqlite_scanner')}'")
        con.execute("SET sqlite_all_varchar = true")  # cast explicitly, never guess
        con.execute(f"ATTACH {_quote(str(url.database))} AS store (TYPE sqlite, READ_ONLY)")
        return
    con.execute(f"LOAD '{_extension_path('postgres_scanner')}'")
    parts = {"host": url.host, "port": url.port, "dbname": url.database, "user": url.username,
             "password": url.password}
    dsn = " ".join(f"{k}={v}" for k, v in parts.items() if v is not None)
    con.execute(f"ATTACH {_quote(dsn)} AS store (TYPE postgres, READ_ONLY)")
    con.execute("SET TimeZone = 'UTC'")


def _quote(text: str) -> str:
    """A SQL string literal (ATTACH takes no bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _select_list(name: str, postgres: bool) -> str:
    parts = []
    for column in analytic_columns(table(name)):
        source = f'"{column.name}"'
        kind = sql_type(column)
        if postgres and kind == "TIMESTAMP":
            source = f"timezone('UTC', {source})"  # timestamptz → naive UTC
        parts.append(f'CAST({source} AS {kind}) AS "{column.name}"')
    return ", ".join(parts)


@dataclass
class TableState:
    rows: int
    max_id: int
    max_updated: str | None
    parts: int


def _state(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, int, str | None]:
    has_updated = "updated_at" in table(name).columns
    updated = "max(CAST(updated_at AS VARCHAR))" if has_updated else "NULL"
    row = con.execute(
        # identifiers come from the ORM metadata, never from input
        f'SELECT count(*), coalesce(max(CAST(id AS BIGINT)), 0), {updated} FROM store."{name}"'  # noqa: S608
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


#: Large tables are written in the order of the time reports filter them by, so that the
#: Parquet row groups' min/max let the engines skip the months a period does not cover.
TIME_ORDER = {"touchpoint": "occurred_at", "activity": "occurred_at",
              "deal_stage_change": "changed_at", "deal": "created_at", "sales_order": "paid_at"}


def _copy(con: duckdb.DuckDBPyConnection, name: str, target: Path, postgres: bool,
          above_id: int = 0) -> None:
    where = f"WHERE CAST(id AS BIGINT) > {int(above_id)}" if above_id else ""
    order = f'"{TIME_ORDER[name]}", id' if name in TIME_ORDER else "id"
    query = f'SELECT {_select_list(name, postgres)} FROM store."{name}" {where} ORDER BY {order}'  # noqa: S608
    con.execute(f"COPY ({query}) TO {_quote(str(target))} (FORMAT parquet, COMPRESSION zstd)")


def refresh(database_url: str, directory: Path) -> dict[str, str]:
    """Bring the snapshot in ``directory`` up to date; return what was done per table.

    A SQLite store is read in a child process. DuckDB's scanner carries its own copy of the
    SQLite library, and two copies in one process do not see each other's POSIX locks: the
    scanner would take itself for the file's only user and reset the WAL index that this
    process's own connections have mapped (a bus error, or worse). In a child process the
    locks work as SQLite expects.
    """
    if make_url(database_url).get_backend_name() == "sqlite":
        return _in_child_process(database_url, directory)
    return _refresh(database_url, directory)


def _in_child_process(database_url: str, directory: Path) -> dict[str, str]:
    # fork: the child starts at once with everything imported (forkserver and spawn would
    # import the program's __main__ again); it only uses DuckDB connections of its own
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_refresh, database_url, directory).result()


def _refresh(database_url: str, directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    manifest_path = directory / MANIFEST
    manifest: dict[str, Any] = (
        json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    )
    con = connect_duckdb()
    postgres = not database_url.startswith("sqlite")
    actions: dict[str, str] = {}
    try:
        attach_store(con, database_url)
        for name in ANALYTIC_TABLES:
            actions[name] = _refresh_table(con, name, directory / name, manifest, postgres)
    finally:
        con.close()
    manifest_path.write_text(json.dumps(manifest, indent=1))
    changed = {name for name, action in actions.items() if action != "unchanged"}
    actions.update(_materialise_derived(directory, changed))
    return actions


def _materialise_derived(directory: Path, changed: set[str]) -> dict[str, str]:
    """Bring the derived per-client tables (``derived.py``) up to date with the snapshot."""
    from voronka.analytics import derived, sources

    snapshot_sources = sources.duckdb_sources(directory, "UTC")
    try:
        return {f"{derived.DERIVED_DIR}/{name}": action for name, action in derived.materialise(
            snapshot_sources.backend, snapshot_sources.tables, directory, changed).items()}
    finally:
        snapshot_sources.backend.disconnect()


def _refresh_table(con: duckdb.DuckDBPyConnection, name: str, folder: Path,
                   manifest: dict[str, Any], postgres: bool) -> str:
    rows, max_id, max_updated = _state(con, name)
    old = TableState(**manifest[name]) if name in manifest and folder.exists() else None
    if old and (old.rows, old.max_id, old.max_updated) == (rows, max_id, max_updated):
        return "unchanged"
    grows_only = old is not None and name in APPEND_ONLY and rows >= old.rows
    if grows_only and old is not None:
        _copy(con, name, folder / f"part-{old.parts:05d}.parquet", postgres, above_id=old.max_id)
        manifest[name] = TableState(rows, max_id, max_updated, old.parts + 1).__dict__
        return "appended"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    _copy(con, name, folder / "part-00000.parquet", postgres)
    manifest[name] = TableState(rows, max_id, max_updated, 1).__dict__
    return "rewritten"
