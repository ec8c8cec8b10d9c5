"""Temporary staging tables: one batch of prepared rows, loaded as fast as the driver allows.

PostgreSQL gets ``COPY … FROM STDIN``, SQLite a single ``executemany``. The table lives in
the connection's temporary schema and is emptied at the start of every batch; it is created
inside the batch's transaction, so a rolled-back batch leaves nothing behind.

For PostgreSQL the rows can be turned into COPY's CSV text ahead of time (``encode``, by
Arrow in C++: about a microsecond a row, against ten for psycopg's ``write_row``), in the
thread that prepares batches, so that the writing connection only sends bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

#: Arrow types of the kinds, for ``Stage.encode``
_ARROW_TYPES = {"id": "int64", "int": "int64", "text": "string", "bool": "bool_"}

#: Column types of staging tables, per dialect: (PostgreSQL, SQLite).
TYPES = {
    "id": ("BIGINT", "INTEGER"),
    "int": ("BIGINT", "INTEGER"),
    "text": ("TEXT", "TEXT"),
    "bool": ("BOOLEAN", "INTEGER"),
    "time": ("TIMESTAMPTZ", "TEXT"),
    "date": ("DATE", "TEXT"),
}


@dataclass(frozen=True)
class Stage:
    """A staging table: its name and ``(column, kind)`` pairs, kinds from ``TYPES``.

    ``indexed`` adds an index on ``row_no``, for loaders whose statements look staged rows
    up by number (``UPDATE … WHERE row_no = …``); joins alone do not need it.
    """

    name: str
    columns: tuple[tuple[str, str], ...]
    indexed: bool = True
    analyzed: bool = True  # False for a stored table written by COPY (``load`` only)

    def reset(self, conn: Connection) -> None:
        """Create the table in this connection's temporary schema if needed, and empty it."""
        position = 0 if conn.dialect.name == "postgresql" else 1
        body = ", ".join(f"{name} {TYPES[kind][position]}" for name, kind in self.columns)
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {self.name} ({body})")
        if self.indexed:  # without it, looking rows up by number is quadratic
            conn.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {self.name}_row_no ON {self.name} (row_no)"
            )
        if conn.dialect.name == "postgresql":
            # compiling the matching statements (costed high on a batch) took longer than
            # running them: ~140 ms of JIT per batch
            conn.exec_driver_sql("SET LOCAL jit = off")
            conn.exec_driver_sql(f"TRUNCATE {self.name}")
        else:
            conn.exec_driver_sql(f"DELETE FROM {self.name}")  # noqa: S608

    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        """``rows`` as the CSV text ``load`` sends to PostgreSQL: NULL unquoted and empty,
        every text quoted, times as UTC without an offset (``load`` reads them in UTC)."""
        import pyarrow as pa
        from pyarrow import csv as arrow_csv

        if not rows:
            return b""
        arrays = []
        for (_, kind), values in zip(self.columns, zip(*rows, strict=True), strict=True):
            if kind == "time":
                aware = pa.array(values, type=pa.timestamp("us", tz="UTC"))
                arrays.append(aware.cast(pa.timestamp("us")))  # the same UTC wall time
            elif kind == "date":
                arrays.append(pa.array(values, type=pa.date32()))
            else:
                arrays.append(pa.array(values, type=getattr(pa, _ARROW_TYPES[kind])()))
        table = pa.Table.from_arrays(arrays, names=[name for name, _ in self.columns])
        sink = pa.BufferOutputStream()
        arrow_csv.write_csv(table, sink, arrow_csv.WriteOptions(include_header=False))
        return sink.getvalue().to_pybytes()

    def load(
        self, conn: Connection, rows: Sequence[Sequence[Any]], encoded: bytes | None = None
    ) -> None:
        """Append ``rows`` (tuples in column order) in one driver call; on PostgreSQL,
        ``encoded`` is ``encode(rows)`` made beforehand."""
        if not rows:
            return
        names = ", ".join(name for name, _ in self.columns)
        driver = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            data = encoded if encoded is not None else self.encode(rows)
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                # times in the CSV are UTC wall times: read them so, for this COPY only
                zone = cursor.execute("SELECT current_setting('TimeZone')").fetchone()[0]
                cursor.execute("SELECT set_config('TimeZone', 'UTC', true)")
                with cursor.copy(f"COPY {self.name} ({names}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(data)
                cursor.execute("SELECT set_config('TimeZone', %s, true)", (zone,))
                if self.analyzed:  # statistics: the planner joins a batch by hash, not loop
                    cursor.execute(f"ANALYZE {self.name}")
            return
        marks = ", ".join("?" for _ in self.columns)
        driver.executemany(  # type: ignore[union-attr]
            f"INSERT INTO {self.name} ({names}) VALUES ({marks})",  # noqa: S608
            rows,
        )
