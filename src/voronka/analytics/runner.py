"""The one place analyses are executed: compile, run, time and keep the SQL."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from voronka.analytics.sources import EngineKind, Sources

_DIALECTS = {EngineKind.DUCKDB: "duckdb", EngineKind.POSTGRES: "postgres",
             EngineKind.SPARK: "pyspark"}


def _plain(value: Any) -> Any:
    """Python scalars for JSON: numpy/pandas values, NaN → None, timestamps → datetime."""
    if value is None or value is pd.NaT:  # a NULL date or timestamp comes back as NaT
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
        self.sql.append(ibis.to_sql(expr, dialect=_DIALECTS[self.sources.kind]))
        started = time.perf_counter()
        frame = self.sources.backend.execute(expr)
        self.seconds += time.perf_counter() - started
        columns = list(frame.columns)
        return [dict(zip(columns, map(_plain, record), strict=True))
                for record in frame.itertuples(index=False, name=None)]

    def scalar(self, expr: ir.Scalar) -> Any:
        """Run a scalar expression."""
        self.sql.append(ibis.to_sql(expr, dialect=_DIALECTS[self.sources.kind]))
        started = time.perf_counter()
        value = self.sources.backend.execute(expr)
        self.seconds += time.perf_counter() - started
        return _plain(value)
