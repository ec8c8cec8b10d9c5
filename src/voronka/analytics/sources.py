"""The one place analytic tables come from, on each engine, with the record scope applied.

* ``duckdb`` (default): an in-process DuckDB over the Parquet snapshot (``snapshot.py``).
* ``postgres``: the operational PostgreSQL database itself, in place.
* ``spark``: a Spark session over the same Parquet snapshot (local or a cluster).

Every engine sees the same canonical schema (``columns.py``): naive UTC timestamps, money in
minor units as BIGINT. Clients merged into another resolve to the survivor everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
from sqlalchemy.engine import make_url

from voronka.analytics import derived
from voronka.analytics.columns import ANALYTIC_TABLES, analytic_columns, sql_type, table


class EngineKind(StrEnum):
    DUCKDB = "duckdb"
    POSTGRES = "postgres"
    SPARK = "spark"


#: Tables whose rows belong to a client through ``client_id``.
CLIENT_BOUND = ("deal", "sales_order", "ticket", "feedback", "touchpoint", "consent_record",
                "contact_point", "client_tag")


T = TypeVar("T")
#: How many expressions one sources keeps; past it they are all dropped (simple, and rare).
MAX_BUILT = 512


@dataclass(frozen=True)
class RecordScope:
    """Which clients' facts a report may use: ``owner_ids`` None means every client."""

    owner_ids: frozenset[int] | None = None
    include_unassigned: bool = False

    @property
    def is_everything(self) -> bool:
        return self.owner_ids is None


@dataclass
class Sources:
    """Ibis tables of one engine, by table name; ``offset`` is the company's UTC offset."""

    kind: EngineKind
    backend: Any
    utc_offset: timedelta
    tables: dict[str, ir.Table] = field(default_factory=dict)
    #: Derived tables read as kept in the snapshot (the others are views over the tables).
    kept: frozenset[str] = frozenset()
    #: Expressions already built over these tables (:meth:`memo`).
    built: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, name: str) -> ir.Table:
        return self.tables[name]

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()`` once per ``key`` over these sources.

        Expressions are immutable, and building a report's takes about as long as DuckDB
        answering it; the same expression again also finds its compiled SQL in the runner's
        cache. ``key`` must name everything the expression depends on besides the tables.
        """
        if key not in self.built:
            if len(self.built) >= MAX_BUILT:
                self.built.clear()
            self.built[key] = build()
        return self.built[key]  # type: ignore[no-any-return]

    def local(self, column: ir.TimestampValue) -> ir.TimestampValue:
        """A UTC timestamp shifted into company local time (for day/week/month buckets)."""
        return column + ibis.interval(seconds=int(self.utc_offset.total_seconds()))

    def scoped(self, scope: RecordScope) -> Sources:
        """The same sources limited to the clients (and their facts) within ``scope``."""
        if scope.is_everything:
            return self
        client = self.tables["client"]
        owner_ok = client.owner_id.isin(list(scope.owner_ids or ()))
        if scope.include_unassigned:
            owner_ok = owner_ok | client.owner_id.isnull()
        visible = client.filter(owner_ok)
        tables = dict(self.tables, client=visible)
        ids = visible.select(visible_id=visible.id)
        for name in CLIENT_BOUND:
            t = self.tables[name]
            tables[name] = t.filter(t.client_id.isin(ids.visible_id))
        tables.update(_children_of_scoped(self.tables, tables, scope, ids))
        for name, kept in derived.DERIVED.items():
            if kept.rebuilt_when_scoped:
                tables[name] = kept.build(tables)
            elif kept.client_column is not None:
                t = self.tables[name]
                tables[name] = t.filter(t[kept.client_column].isin(ids.visible_id))
        rebuilt = {name for name, kept in derived.DERIVED.items() if kept.rebuilt_when_scoped}
        return Sources(self.kind, self.backend, self.utc_offset, tables, self.kept - rebuilt)


def _children_of_scoped(original: dict[str, ir.Table], scoped: dict[str, ir.Table],
                        scope: RecordScope, ids: ir.Table) -> dict[str, ir.Table]:
    activity = original["activity"]
    own_owner = activity.owner_id.isin(list(scope.owner_ids or ()))
    visible_activity = activity.filter(
        activity.client_id.isin(ids.visible_id) | (activity.client_id.isnull() & own_owner)
    )
    deal_ids, order_ids = scoped["deal"].id, scoped["sales_order"].id
    changes, lines = original["deal_stage_change"], original["order_line"]
    statuses = original["order_status_change"]
    return {  # IN (subquery) rather than semi joins: it compiles the same on every engine
        "activity": visible_activity,
        "deal_stage_change": changes.filter(changes.deal_id.isin(deal_ids)),
        "order_line": lines.filter(lines.order_id.isin(order_ids)),
        "order_status_change": statuses.filter(statuses.order_id.isin(order_ids)),
    }


def utc_offset(timezone: str) -> timedelta:
    """The zone's current UTC offset (exact for zones without DST, such as Europe/Moscow)."""
    return ZoneInfo(timezone).utcoffset(datetime.now()) or timedelta(0)


def _resolve_merged(tables: dict[str, ir.Table]) -> dict[str, ir.Table]:
    """Point facts of merged-away clients at the surviving client."""
    client = tables["client"]
    alias = client.filter(client.merged_into_id.notnull()).select(
        alias_from=client.id, alias_to=client.merged_into_id)
    resolved = dict(tables)
    for name in ("touchpoint", "consent_record"):
        t = tables[name]
        joined = t.left_join(alias, t.client_id == alias.alias_from)
        resolved[name] = joined.mutate(
            client_id=ibis.coalesce(joined.alias_to, joined.client_id)
        ).select(*t.columns)
    resolved["client"] = client.filter(client.merged_into_id.isnull())
    return resolved


def from_snapshot(kind: EngineKind, backend: Any, directory: Path, timezone: str,
                  names: Iterable[str] = ANALYTIC_TABLES) -> Sources:
    """Sources over the Parquet snapshot in ``directory`` (DuckDB or Spark backend)."""
    def read(path: Path, name: str) -> ir.Table:
        pattern = str(path / "*.parquet") if kind is EngineKind.DUCKDB else str(path)
        return backend.read_parquet(pattern, table_name=f"v_{name}")

    tables = _resolve_merged({name: read(directory / name, name) for name in names})
    views = derived.views(tables)
    kept = {name for name in derived.DERIVED if derived.folder(directory, name).exists()}
    for name in derived.DERIVED:
        tables[name] = (read(derived.folder(directory, name), name) if name in kept
                        else views[name])
    return Sources(kind, backend, utc_offset(timezone), tables, frozenset(kept))


def duckdb_sources(directory: Path, timezone: str) -> Sources:
    from voronka.analytics.snapshot import connect_duckdb

    backend = ibis.duckdb.from_connection(connect_duckdb())
    return from_snapshot(EngineKind.DUCKDB, backend, directory, timezone)


def spark_sources(directory: Path, timezone: str, session: Any) -> Sources:
    return from_snapshot(EngineKind.SPARK, ibis.pyspark.connect(session), directory, timezone)


def postgres_sources(database_url: str, timezone: str) -> Sources:
    """The operational PostgreSQL database in place, cast to the canonical schema."""
    url = make_url(database_url)
    backend = ibis.postgres.connect(
        host=url.host, port=url.port or 5432, user=url.username, password=url.password,
        database=url.database, options="-c TimeZone=UTC",
    )
    tables = {name: _canonical(backend.table(name), name) for name in ANALYTIC_TABLES}
    tables = _resolve_merged(tables)
    tables.update(derived.views(tables))
    return Sources(EngineKind.POSTGRES, backend, utc_offset(timezone), tables)


_IBIS_TYPES = {"TIMESTAMP": "timestamp", "DATE": "date", "BOOLEAN": "boolean",
               "BIGINT": "int64", "VARCHAR": "string"}


def _canonical(t: ir.Table, name: str) -> ir.Table:
    return t.select(*[t[c.name].cast(_IBIS_TYPES[sql_type(c)]).name(c.name)
                      for c in analytic_columns(table(name))])
