"""Bulk loading: empty the store, write columns fast, leave the schema exactly as it was.

SQLite gets ``executemany`` on the raw connection, one transaction per table chunk, with
``synchronous=OFF`` for the load only; PostgreSQL gets ``COPY ... FROM STDIN``. On both, the
models' named indexes are dropped before the load and rebuilt after it, because building an
index once is several times faster than updating it row by row; on PostgreSQL the foreign
keys are dropped and re-added (which validates every row in one pass). Both are restored from
the models' metadata in a ``finally``, so an interrupted load leaves the schema whole, and the
next load heals even a hard kill. Primary keys and unique constraints stay on throughout;
SQLite keeps checking foreign keys as rows land (in-process, it costs little).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
from sqlalchemy import Engine, ForeignKeyConstraint, Index
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from voronka.db.models import Base
from voronka.demo.rows import TableRows
from voronka.demo.timeline import date_text, to_text

#: Rows turned into Python tuples at a time: bounds memory while keeping calls few.
WRITE_BATCH_ROWS = 50_000
#: SQLite page cache for the load (KiB, negative by SQLite's convention): index builds sort
#: in it.
SQLITE_LOAD_CACHE_KIB = -262_144


class Loader(Protocol):
    """Writes rows and remembers how many rows and seconds each table took."""

    rows: dict[str, int]
    seconds: dict[str, float]

    def write(self, table: TableRows) -> None: ...


def python_column(values: Any, count: int, *, sqlite: bool) -> Any:
    """Return a column as something ``zip`` can walk: a list, or a repeated scalar."""
    if isinstance(values, np.ma.MaskedArray):
        return values.tolist()
    if not isinstance(values, np.ndarray):
        return itertools.repeat(_scalar(values, sqlite=sqlite), count)
    if values.dtype.kind == "M":
        return _time_text(values).tolist()
    if values.dtype.kind == "b" and sqlite:
        return values.astype(np.int8).tolist()
    return values.tolist()


def _scalar(value: Any, *, sqlite: bool) -> Any:
    if isinstance(value, np.datetime64):
        return _time_text(np.asarray([value]))[0]
    if isinstance(value, bool) and sqlite:
        return int(value)
    return value


def _time_text(values: np.ndarray) -> np.ndarray:
    """Timestamps and dates as text, None for NaT."""
    present = ~np.isnat(values)
    is_date = np.datetime_data(values.dtype)[0] == "D"
    text = date_text(values[present]) if is_date else to_text(values[present])
    if present.all():
        return text.astype(object)
    out = np.full(len(values), None, dtype=object)
    out[present] = text
    return out


def tuples(table: TableRows, *, sqlite: bool) -> Iterator[Iterator[tuple[Any, ...]]]:
    """Yield the table's rows as tuples, in batches of ``WRITE_BATCH_ROWS``."""
    if not table.columns:  # every value was a constant: rows are empty tuples
        yield iter([()] * table.count)
        return
    for start in range(0, table.count, WRITE_BATCH_ROWS):
        part = table.take(start, start + WRITE_BATCH_ROWS)
        yield zip(
            *(python_column(v, part.count, sqlite=sqlite) for v in part.columns.values()),
            strict=False,
        )


def model_indexes() -> list[Index]:
    """The named indexes of every model table (the ones rebuilt after a load).

    Unique *indexes* are rebuilt too (building one checks uniqueness just as well); unique
    *constraints* stay, as SQLite cannot drop them.
    """
    return [index for table in Base.metadata.sorted_tables for index in table.indexes]


def model_foreign_keys() -> list[ForeignKeyConstraint]:
    """The foreign keys of every model table (re-added and so validated after a PostgreSQL load)."""
    return [fk for table in Base.metadata.sorted_tables for fk in table.foreign_key_constraints]


def _quoted(names: Any) -> str:
    return ", ".join(f'"{name}"' for name in names)


class _Timed:
    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.seconds: dict[str, float] = {}

    def _count(self, table: TableRows, started: float) -> None:
        self.rows[table.table] = self.rows.get(table.table, 0) + table.count
        elapsed = time.perf_counter() - started
        self.seconds[table.table] = self.seconds.get(table.table, 0.0) + elapsed


class SqliteLoader(_Timed):
    def __init__(self, connection: Any) -> None:
        super().__init__()
        self.connection = connection

    def write(self, table: TableRows) -> None:
        started = time.perf_counter()
        # Constants go into the statement as literals: binding them on every row is pure cost.
        values = ", ".join(
            "?" if isinstance(v, np.ndarray) else _sqlite_literal(v) for v in table.columns.values()
        )
        sql = f'INSERT INTO "{table.table}" ({_quoted(table.columns)}) VALUES ({values})'  # noqa: S608
        varying = TableRows(
            table.table,
            {name: v for name, v in table.columns.items() if isinstance(v, np.ndarray)},
            table.count,
        )
        cursor = self.connection.cursor()
        cursor.execute("BEGIN")
        try:
            for batch in tuples(varying, sqlite=True):
                cursor.executemany(sql, batch)
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()
        self._count(table, started)


def _sqlite_literal(value: Any) -> str:
    value = _scalar(value, sqlite=True)
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


class PostgresLoader(_Timed):
    def __init__(self, connection: Any) -> None:
        super().__init__()
        self.connection = connection

    def write(self, table: TableRows) -> None:
        started = time.perf_counter()
        statement = f'COPY "{table.table}" ({_quoted(table.columns)}) FROM STDIN'
        with self.connection.transaction(), self.connection.cursor() as cursor:
            # Timestamps arrive as naive UTC text; read them as UTC whatever the server zone.
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
            # Losing the last commits in a server crash is fine for a demo being built.
            cursor.execute("SET LOCAL synchronous_commit = off")
            with cursor.copy(statement) as copy:
                for batch in tuples(table, sqlite=False):
                    for row in batch:
                        copy.write_row(row)
        self._count(table, started)


@contextmanager
def bulk_load(engine: Engine) -> Iterator[Loader]:
    """Empty every table, then yield a loader; indexes and settings are restored after."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "sqlite":
            with _sqlite_load(engine, raw.driver_connection) as loader:
                yield loader
        elif engine.dialect.name == "postgresql":
            with _postgres_load(engine, raw.driver_connection) as loader:
                yield loader
        else:
            raise ValueError(f"demo data cannot be loaded into {engine.dialect.name}")
    finally:
        raw.close()


@contextmanager
def _sqlite_load(engine: Engine, connection: Any) -> Iterator[Loader]:
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
            "AND name != 'alembic_version'"
        )
    ]
    # Foreign keys are switched off only to empty the tables (children and parents alike).
    connection.execute("PRAGMA foreign_keys=OFF")
    connection.execute("BEGIN")
    for name in tables:
        connection.execute(f'DELETE FROM "{name}"')  # noqa: S608
    _drop_indexes(engine, connection.execute)
    connection.execute("COMMIT")
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute(f"PRAGMA cache_size={SQLITE_LOAD_CACHE_KIB}")
    # Index builds sort every row; let SQLite sort on the machine's other cores too.
    connection.execute(f"PRAGMA threads={os.cpu_count() or 1}")
    try:
        yield SqliteLoader(connection)
    finally:
        # One transaction per index (autocommit): the write-ahead log is checkpointed between
        # them instead of growing to the size of every index at once.
        _create_indexes(engine, connection.execute)
        connection.execute("PRAGMA cache_size=-2000")
        connection.execute("PRAGMA threads=0")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA optimize")
        # Fold the load's write-ahead log into the database file and shrink it.
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@contextmanager
def _postgres_load(engine: Engine, connection: Any) -> Iterator[Loader]:
    with connection.transaction():
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename != 'alembic_version'"
            )
        ]
        if tables:
            connection.execute(f"TRUNCATE {_quoted(tables)} RESTART IDENTITY")
        _drop_indexes(engine, connection.execute)
        # Row-by-row foreign key triggers would make COPY ~10x slower; re-adding a constraint
        # checks the whole table in one join instead (PostgreSQL's "Populating a Database").
        for foreign_key in model_foreign_keys():
            connection.execute(_ddl(engine, DropConstraint(foreign_key, if_exists=True)))
    try:
        yield PostgresLoader(connection)
    finally:
        with connection.transaction():
            connection.execute("SET LOCAL maintenance_work_mem = '256MB'")
            _create_indexes(engine, connection.execute)
            for foreign_key in model_foreign_keys():
                connection.execute(_ddl(engine, DropConstraint(foreign_key, if_exists=True)))
                connection.execute(_ddl(engine, AddConstraint(foreign_key)))
            _reset_sequences(connection, tables)
        with connection.transaction():
            connection.execute("ANALYZE")


def _ddl(engine: Engine, statement: Any) -> str:
    return str(statement.compile(dialect=engine.dialect))


def _drop_indexes(engine: Engine, execute: Any) -> None:
    for index in model_indexes():
        execute(_ddl(engine, DropIndex(index, if_exists=True)))


def _create_indexes(engine: Engine, execute: Any) -> None:
    for index in model_indexes():
        execute(_ddl(engine, CreateIndex(index, if_not_exists=True)))


def _reset_sequences(connection: Any, tables: list[str]) -> None:
    """Point every id sequence past the explicit ids the load wrote, so ORM inserts work."""
    with_id = {name for (name,) in connection.execute(
        "SELECT table_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND column_name = 'id'")}
    for table in (t for t in tables if t in with_id):  # link tables have no id
        sequence = connection.execute(
            "SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',)
        ).fetchone()
        if sequence and sequence[0]:
            connection.execute(
                f'SELECT setval(%s, coalesce(max(id), 1), max(id) IS NOT NULL) FROM "{table}"',  # noqa: S608
                (sequence[0],),
            )
