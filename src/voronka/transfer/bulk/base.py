"""What every bulk loader shares: the batch context, the batch result, owner checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import owner_in_scope
from voronka.transfer.lookups import Lookups
from voronka.transfer.mapping import ColumnMapping
from voronka.transfer.options import OnDuplicate
from voronka.transfer.reading import SourceRow
from voronka.transfer.report import RowError

SAMPLE_ROWS = 10


@dataclass
class Context:
    """One import's connection (in the batch's transaction), identity and options."""

    conn: Connection
    session: Session
    actor: Actor
    scope: Scope
    mapping: ColumnMapping
    on_duplicate: OnDuplicate
    default_owner_id: int | None
    now: datetime
    zone: ZoneInfo
    region: str
    lookups: Lookups = field(init=False)
    _owners_in_scope: dict[int | None, bool] = field(default_factory=dict)
    _batches_into: dict[str, int] = field(default_factory=dict)
    #: the shape of the rows each staging table's statistics describe (``Stage.load``)
    staged_shapes: dict[str, tuple[bool, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lookups = Lookups(self.session, self.actor, self.scope)

    @property
    def sqlite(self) -> bool:
        return self.conn.dialect.name == "sqlite"

    def wrote_into(self, table: str, columns: Sequence[str]) -> None:
        """Count a batch written into ``table``; on PostgreSQL, refresh its statistics after
        batches 1, 4, 16, 64, …: a table filled by this import still looks empty to the
        planner until autovacuum gets to it, and then the per-row duplicate probes may pick
        an index that scans every stored row (quadratic: minutes per batch at 100,000 rows).
        Once the statistics describe some of the import's rows the planner scales them by
        the table's size, so a quarter of the earlier refreshes does (each costs up to a
        tenth of a second on a large table).

        Only ``columns``, those the loader's statements look stored rows up by, are
        analysed (the table's size is refreshed all the same): a third of the cost of the
        whole table on ``activity``; autovacuum analyses the rest later."""
        done = self._batches_into[table] = self._batches_into.get(table, 0) + 1
        if not self.sqlite and done & (done - 1) == 0 and done.bit_length() % 2 == 1:
            self.conn.exec_driver_sql(f"ANALYZE {table} ({', '.join(columns)})")

    def owner_allowed(self, owner_id: int | None) -> bool:
        """Whether the importer may make ``owner_id`` the owner of a record (cached)."""
        if owner_id not in self._owners_in_scope:
            self._owners_in_scope[owner_id] = owner_in_scope(
                self.session, self.actor, self.scope, owner_id
            )
        return self._owners_in_scope[owner_id]


@dataclass
class BatchResult:
    """What one batch did: counts, the errors of its failed rows, a sample of outcomes."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    errors: dict[int, list[RowError]] = field(default_factory=dict)
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)

    def add(self, other: BatchResult) -> None:
        self.rows += other.rows
        self.created += other.created
        self.updated += other.updated
        self.duplicates += other.duplicates
        self.errors.update(other.errors)
        self.sample.extend(other.sample[: max(SAMPLE_ROWS - len(self.sample), 0)])


class Loader(Protocol):
    """Writes batches of one entity. ``write`` runs inside the batch's transaction.

    A loader may also split its work: ``prepare(ctx, rows)`` parses and checks a batch
    without writing (it may read users and channels through ``ctx.lookups``, nothing an
    import changes), and ``write`` then uses what ``prepared_of(rows)`` gives instead of
    parsing again. When ``prepare_ahead(mapping)`` is true the runner prepares the next
    batches in a thread with a read-only connection of its own while the database writes
    the current one (``bulk.pipeline``); otherwise ``write`` does everything, as before.
    """

    resource: str

    def parts(self, rows: list[SourceRow], mapping: ColumnMapping) -> list[list[SourceRow]]:
        """The batch split into parts written one after the other (usually one part)."""
        ...

    def write(self, ctx: Context, rows: list[SourceRow]) -> BatchResult: ...


def prepared_of(rows: object) -> Any:
    """What the loader's ``prepare`` made of this batch ahead of time (``None`` if nothing)."""
    return getattr(rows, "prepared", None)
