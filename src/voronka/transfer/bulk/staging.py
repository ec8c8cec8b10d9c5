"""Temporary staging tables: one batch of prepared rows, loaded as fast as the driver allows.

PostgreSQL gets ``COPY … FROM STDIN``, SQLite a single ``executemany``. The table lives in
the connection's temporary schema and is emptied at the start of every batch; it is created
inside the batch's transaction, so a rolled-back batch leaves nothing behind.

For PostgreSQL the rows can be turned into COPY's CSV text ahead of time (``encode``, by
Arrow in C++: about a microsecond a row, against ten for psycopg's ``write_row``), in the
thread that prepares batches, so that the writing connection only sends bytes. Times are
written in UTC with a "Z", so the COPY reads the same instant whatever the session's time
zone, without setting it. A PostgreSQL batch costs two round trips before its
statements: ``reset`` (one multi-statement query) and the COPY; the planner's statistics
of a staging table are gathered on the import's first batch and again only when a batch's
shape (which columns hold a value) differs from the one they describe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

#: Arrow types of the kinds, for ``Stage.encode``
_ARROW_TYPES = {"id": "int64", "int": "int64", "text": "string", "bool": "bool_"}
#: ``Stage.reset`` on PostgreSQL, sent as one query (no parameters: the simple protocol)
_RESET = (
    "CREATE TEMP TABLE IF NOT EXISTS {name} ({body}); {index}"
    # compiling the matching statements (costed high on a batch) took longer than running
    # them: ~140 ms of JIT per batch
    "SET LOCAL jit = off; TRUNCATE {name}"
)

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
class Encoded:
    """Rows as COPY reads them, and which columns hold a value in at least one row."""

    data: bytes
    shape: tuple[bool, ...]


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
        # without the index, looking rows up by number is quadratic
        index = f"CREATE INDEX IF NOT EXISTS {self.name}_row_no ON {self.name} (row_no)"
        if conn.dialect.name == "postgresql":
            driver = conn.connection.driver_connection
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(
                    _RESET.format(
                        name=self.name, body=body, index=f"{index}; " if self.indexed else ""
                    )
                )
            return
        conn.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {self.name} ({body})")
        if self.indexed:
            conn.exec_driver_sql(index)
        conn.exec_driver_sql(f"DELETE FROM {self.name}")  # noqa: S608

    def encode(self, rows: Sequence[Sequence[Any]]) -> Encoded:
        """``rows`` as the CSV text ``load`` sends to PostgreSQL: NULL unquoted and empty,
        every text quoted, times in UTC marked "Z" (naive ones are taken as UTC)."""
        import pyarrow as pa
        from pyarrow import csv as arrow_csv

        if not rows:
            return Encoded(b"", (False,) * len(self.columns))
        arrays = []
        for (_, kind), values in zip(self.columns, zip(*rows, strict=True), strict=True):
            if kind == "time":
                arrays.append(_utc_text(pa.array(values, type=pa.timestamp("us", tz="UTC"))))
            elif kind == "date":
                arrays.append(pa.array(values, type=pa.date32()))
            else:
                arrays.append(pa.array(values, type=getattr(pa, _ARROW_TYPES[kind])()))
        table = pa.Table.from_arrays(arrays, names=[name for name, _ in self.columns])
        sink = pa.BufferOutputStream()
        arrow_csv.write_csv(table, sink, arrow_csv.WriteOptions(include_header=False))
        shape = tuple(array.null_count < len(array) for array in arrays)
        return Encoded(sink.getvalue().to_pybytes(), shape)

    def load(
        self,
        conn: Connection,
        rows: Sequence[Sequence[Any]],
        encoded: Encoded | None = None,
        *,
        analyzed: dict[str, tuple[bool, ...]] | None = None,
    ) -> None:
        """Append ``rows`` (tuples in column order) in one driver call; on PostgreSQL,
        ``encoded`` is ``encode(rows)`` made beforehand.

        ``analyzed`` records, for one import, the shape each staging table's statistics
        describe: they are gathered only when this batch's shape differs (TRUNCATE keeps
        them, and the planner scales row counts by the table's size). Without it they are
        gathered for every batch.
        """
        if not rows:
            return
        names = ", ".join(name for name, _ in self.columns)
        driver = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            ready = encoded if encoded is not None else self.encode(rows)
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy(f"COPY {self.name} ({names}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(ready.data)
                # statistics: the planner joins a batch by hash, not loop, and probes the
                # contact index only for the columns that hold values
                if self.analyzed and (analyzed is None or analyzed.get(self.name) != ready.shape):
                    cursor.execute(f"ANALYZE {self.name}")
                    if analyzed is not None:
                        analyzed[self.name] = ready.shape
            return
        marks = ", ".join("?" for _ in self.columns)
        driver.executemany(  # type: ignore[union-attr]
            f"INSERT INTO {self.name} ({names}) VALUES ({marks})",  # noqa: S608
            rows,
        )



def _utc_text(moments: Any) -> Any:
    """UTC timestamps as text marked "Z" (which PostgreSQL reads as UTC): Arrow writes
    naive timestamps as text four times faster than zoned ones."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wall = moments.cast(pa.timestamp("us")).cast(pa.string())  # the same UTC wall time
    return pc.binary_join_element_wise(wall, "Z", "")
