"""The one place analyses are executed: compile, run, time and keep the SQL."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from voronka.analytics.sources import EngineKind, Sources

_DIALECTS = {EngineKind.DUCKDB: "duckdb", EngineKind.POSTGRES: "postgres",
             EngineKind.SPARK: "pyspark"}


def _plain(value: Any) -> Any:
    """Python scalars for JSON: numpy/pandas values, NaN → None, timestamps → datetime."""
    if value is None or value is pd.NaT or value is pd.NA:  # NULL dates come back as NaT
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date | int | float | str | bool):
        return value
    return str(value)


#: SQL of recently run expressions: a dashboard asks the same questions again and again, and
#: compiling costs as much as DuckDB answering. Expressions compare by structure, and the
#: tables they read belong to one backend, so equal expressions compile to the same SQL.
_COMPILED: OrderedDict[Any, str] = OrderedDict()
_COMPILED_MAX = 256


def _compiled(backend: Any, table: ir.Table) -> str:
    key = table.op()
    sql = _COMPILED.get(key)
    if sql is None:
        sql = _COMPILED[key] = backend.compile(table)
        if len(_COMPILED) > _COMPILED_MAX:
            _COMPILED.popitem(last=False)
    else:
        _COMPILED.move_to_end(key)
    return sql


#: Small constant tables by content. ``ibis.memtable`` names every table anew, so a query
#: using one would never equal an earlier one and would be compiled on every run.
_CONSTANTS: OrderedDict[Any, ir.Table] = OrderedDict()


def constant_table(data: dict[str, list[Any]], schema: dict[str, str]) -> ir.Table:
    """An in-memory table; the same expression for the same content and schema."""
    key = (tuple((name, tuple(values)) for name, values in data.items()),
           tuple(schema.items()))
    table = _CONSTANTS.get(key)
    if table is None:
        table = _CONSTANTS[key] = ibis.memtable(data, schema=schema)
        if len(_CONSTANTS) > _COMPILED_MAX:
            _CONSTANTS.popitem(last=False)
    else:
        _CONSTANTS.move_to_end(key)
    return table


def _column_values(column: pd.Series) -> list[Any]:
    """A column as plain Python values, converted a column at a time where the type allows."""
    numpy_type = isinstance(column.dtype, np.dtype)  # not a pandas extension type with NA
    if numpy_type and column.dtype.kind in "iub":  # integers and booleans: no NULLs
        return column.tolist()
    if numpy_type and column.dtype.kind == "f":
        return [None if value != value else value for value in column.tolist()]  # NaN → None
    return [_plain(value) for value in column.tolist()]


@dataclass
class Runner:
    """Executes ibis expressions on one engine and records what it ran."""

    sources: Sources
    sql: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def engine(self) -> str:
        return self.sources.kind.value

    def rows(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Run ``expr`` and return its rows as plain dicts."""
        frame = self._execute(expr)
        columns = list(frame.columns)
        values = [_column_values(frame[name]) for name in columns]
        return [dict(zip(columns, record, strict=True)) for record in zip(*values, strict=True)]

    def scalar(self, expr: ir.Scalar) -> Any:
        """Run a scalar expression."""
        return _plain(self._execute(expr))

    def _execute(self, expr: ir.Expr) -> Any:
        """Compile ``expr`` once, keep the SQL, run it and time the engine."""
        if self.sources.kind is EngineKind.DUCKDB:
            return self._execute_duckdb(expr)
        self.sql.append(ibis.to_sql(expr, dialect=_DIALECTS[self.sources.kind]))
        started = time.perf_counter()
        result = self.sources.backend.execute(expr)
        self.seconds += time.perf_counter() - started
        return result

    def _execute_duckdb(self, expr: ir.Expr) -> Any:
        """DuckDB runs the SQL kept for the record, so the expression is compiled only once.

        The conversion of the Arrow result is the one ``ibis``'s own ``execute`` applies.
        """
        from ibis.backends.duckdb.converter import DuckDBPandasData

        backend = self.sources.backend
        table = expr.as_table()
        backend._run_pre_execute_hooks(table)  # registers in-memory tables (ibis.memtable)
        sql = _compiled(backend, table)
        self.sql.append(sql)
        started = time.perf_counter()
        arrow = backend.con.sql(sql).to_arrow_table()
        self.seconds += time.perf_counter() - started
        frame = pd.DataFrame({
            name: column.to_pylist() if _needs_pylist(column) else column.to_pandas()
            for name, column in zip(arrow.column_names, arrow.columns, strict=True)
        })
        return expr.__pandas_result__(DuckDBPandasData.convert_table(frame, table.schema()))


def _needs_pylist(column: Any) -> bool:
    import pyarrow.types as arrow_types

    return bool(arrow_types.is_nested(column.type) or arrow_types.is_dictionary(column.type)
                or column.null_count)
