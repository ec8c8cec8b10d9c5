"""Temporary staging tables: one batch of prepared rows, loaded as fast as the driver allows.

PostgreSQL gets ``COPY … FROM STDIN`` (binary-free text protocol through psycopg), SQLite a
single ``executemany``. The table lives in the connection's temporary schema and is emptied
at the start of every batch; it is created inside the batch's transaction, so a rolled-back
batch leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

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
    """A staging table: its name and ``(column, kind)`` pairs, kinds from ``TYPES``."""

    name: str
    columns: tuple[tuple[str, str], ...]

    def reset(self, conn: Connection) -> None:
        """Create the table in this connection's temporary schema if needed, and empty it."""
        position = 0 if conn.dialect.name == "postgresql" else 1
        body = ", ".join(f"{name} {TYPES[kind][position]}" for name, kind in self.columns)
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {self.name} ({body})")
        # the matching statements look rows up by number: without this, quadratic
        conn.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {self.name}_row_no ON {self.name} (row_no)"
        )
        empty = "TRUNCATE" if conn.dialect.name == "postgresql" else "DELETE FROM"
        conn.exec_driver_sql(f"{empty} {self.name}")

    def load(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Append ``rows`` (tuples in column order) in one driver call."""
        if not rows:
            return
        names = ", ".join(name for name, _ in self.columns)
        driver = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy(f"COPY {self.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                # statistics, so the planner joins a batch by hash instead of by loop
                cursor.execute(f"ANALYZE {self.name}")
            return
        marks = ", ".join("?" for _ in self.columns)
        driver.executemany(  # type: ignore[union-attr]
            f"INSERT INTO {self.name} ({names}) VALUES ({marks})", rows  # noqa: S608
        )
