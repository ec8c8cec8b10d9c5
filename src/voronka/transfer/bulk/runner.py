"""Run (or resume) a bulk import recorded in ``import_run``.

Modes:

* **per-row** — each batch is one transaction that also moves the run's checkpoint and adds
  its counts: a crash loses at most the batch being written, and ``execute`` on the same run
  continues after the last committed row; nothing is written twice, nothing counted twice.
* **atomic** — every batch in one transaction, kept only when no row failed; a crash or a
  bad row leaves nothing. The report still lists every bad row.
* **dry run** — like atomic, always rolled back: the counts, errors and sample are exactly
  what a real run would give.

The run's counts, errors and status are written by the runner in short transactions of
their own (atomic and dry runs) or with each batch (per-row), and one audit event with the
counts — never a value from the file — is recorded when a run that writes finishes.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from voronka import clock
from voronka.access.actor import Actor
from voronka.access.policy import Action, scope_for
from voronka.audit import service as audit
from voronka.config import get_settings
from voronka.db.session import unit_of_work
from voronka.errors import ErrorDetail, Forbidden, InvalidInput, NotFound
from voronka.transfer.bulk import pipeline
from voronka.transfer.bulk.activities import ActivityLoader
from voronka.transfer.bulk.base import BatchResult, Context, Loader
from voronka.transfer.bulk.clients import ClientLoader
from voronka.transfer.bulk.deals import DealLoader
from voronka.transfer.bulk.orders import OrderLoader
from voronka.transfer.bulk.products import ProductLoader
from voronka.transfer.bulk.touchpoints import TouchpointLoader
from voronka.transfer.mapping import ColumnMapping, Entity, resolve
from voronka.transfer.models import ImportRun, RunStatus
from voronka.transfer.options import ImportMode, OnDuplicate
from voronka.transfer.reading import FileFormat, ReadLimits, SourceRow, open_table
from voronka.transfer.report import MAX_REPORTED_ERRORS
from voronka.transfer.runs import bulk_batch_sizes

LOADERS: dict[Entity, Callable[[], Loader]] = {
    Entity.CLIENTS: ClientLoader,
    Entity.TOUCHPOINTS: TouchpointLoader,
    Entity.PRODUCTS: ProductLoader,
    Entity.ACTIVITIES: ActivityLoader,
    Entity.ORDERS: OrderLoader,
    Entity.DEALS: DealLoader,
}
Progress = Callable[[int, int | None, int], None]  # rows done, rows in the file, checkpoint
GroupKey = Callable[[SourceRow], object]
RESOURCES = {Entity.CLIENTS: "client", Entity.TOUCHPOINTS: "touchpoint",
             Entity.PRODUCTS: "product", Entity.ACTIVITIES: "activity",
             Entity.ORDERS: "order", Entity.DEALS: "deal"}
#: Bulk runs read large files in batches, so they take more rows than a row-by-row import
BULK_LIMITS = ReadLimits(max_rows=10_000_000)


def execute(
    engine: Engine,
    run_id: int,
    *,
    actor: Actor,
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
) -> ImportRun:
    """Run the import ``run_id`` as ``actor``, or resume it after its checkpoint."""
    run = _start(engine, run_id)
    if run.status in (RunStatus.DONE, RunStatus.REFUSED):
        return run
    entity = Entity(run.entity)
    scope = scope_for(actor, _resource(entity), Action.IMPORT)
    try:
        if not scope:
            raise Forbidden(f"your role may not import {entity.value}")
        path = Path(run.stored_path or "")
        with open_table(path, FileFormat(run.file_format), limits or BULK_LIMITS,
                        columnar=True) as table:
            mapping = resolve(entity, table.columns, run.options.get("explicit_mapping", {}),
                              bulk=True)
            _save(engine, run_id, mapping={"columns": mapping.fields,
                                           "unknown": mapping.unknown_columns},
                  rows_hint=table.row_count_hint)
            loader = LOADERS[entity]()
            if hasattr(loader, "configure"):  # options of one entity (orders: create_products)
                loader.configure(run.options)
            sizes = bulk_batch_sizes(run.options, engine.dialect.name)
            key = _group_key(loader, mapping)
            if key is None:
                batches: Iterator[Any] = table.batches(sizes, after=run.checkpoint_row)
            else:
                rows = (r for r in table.rows if r.number > run.checkpoint_row)
                batches = _batches(rows, sizes, key)
            job = _Job(engine, run, actor, scope, mapping, loader, progress,
                       table.row_count_hint)
            with _older_objects_frozen():
                if run.mode == ImportMode.PER_ROW and not run.dry_run:
                    job.per_batch(batches)
                else:
                    job.all_at_once(batches)
    except BaseException as exc:
        _fail(engine, run_id, actor, _message(exc))
        raise
    return _load(engine, run_id)


@contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """Leave the objects made before the import out of the garbage collector's passes while
    it runs. Each batch's lists of values survive long enough to set off full collections
    (three per 200,000 activities), and a full pass otherwise walks every module, class and
    function of the process too: 0.6 s of one import's 2 s of Python CPU, holding the GIL
    that both of its threads need (docs/benchmarks.md). Unfreezing hands them back, so an
    import running alongside only loses the benefit. A process that froze objects itself
    (a server after start-up, say) is left as it is: unfreezing would undo its choice."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _resource(entity: Entity) -> str:
    return RESOURCES[entity]


def _message(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message)[:1000]


class _Job:
    """The batches of one execution and the totals carried from earlier executions."""

    def __init__(
        self,
        engine: Engine,
        run: ImportRun,
        actor: Actor,
        scope: Any,
        mapping: ColumnMapping,
        loader: Loader,
        progress: Progress | None,
        rows_hint: int | None,
    ) -> None:
        self.engine, self.run_id, self.actor, self.scope = engine, run.id, actor, scope
        self.mapping, self.loader, self.progress, self.rows_hint = (
            mapping, loader, progress, rows_hint
        )
        self.on_duplicate = OnDuplicate(run.options.get("on_duplicate", OnDuplicate.SKIP))
        self.default_owner_email = run.options.get("default_owner_email")
        self.dry_run, self.mode = run.dry_run, ImportMode(run.mode)
        self.checkpoint = run.checkpoint_row
        self.totals = BatchResult(
            rows=run.total, created=run.created, updated=run.updated, duplicates=run.duplicates
        )
        self.failed = run.failed
        self.errors: list[dict[str, Any]] = list(run.errors or [])
        self.sample: list[dict[str, Any]] = list((run.options or {}).get("sample", []))

    def per_batch(self, batches: Iterator[list[SourceRow]]) -> None:
        with self._connection() as conn:
            ctx = self._context(conn)
            for batch in pipeline.ahead(batches, self.loader, self.engine, ctx):
                with conn.begin():
                    result = self._write(ctx, batch)
                    self.checkpoint = batch[-1].number
                    self._record(ctx.session, result)
                    ctx.session.flush()
                    ctx.session.close()
                self._report()
        self._finish(RunStatus.DONE)

    def all_at_once(self, batches: Iterator[list[SourceRow]]) -> None:
        with self._connection() as conn:
            ctx = self._context(conn)
            transaction = conn.begin()
            try:
                for batch in pipeline.ahead(batches, self.loader, self.engine, ctx):
                    self._tally(self._write(ctx, batch))
                    ctx.session.close()
                    self._report()
            except BaseException:
                transaction.rollback()
                raise
            if self.dry_run or self.failed:
                transaction.rollback()
            else:
                transaction.commit()
        refused = self.mode is ImportMode.ATOMIC and self.failed > 0 and not self.dry_run
        self._finish(RunStatus.REFUSED if refused else RunStatus.DONE)

    def _connection(self) -> Connection:
        return self.engine.execution_options(voronka_write=True).connect()

    def _context(self, conn: Connection) -> Context:
        session = Session(bind=conn, autoflush=False)
        settings = get_settings()
        ctx = Context(
            conn=conn, session=session, actor=self.actor, scope=self.scope,
            mapping=self.mapping, on_duplicate=self.on_duplicate, default_owner_id=None,
            now=clock.now(), zone=ZoneInfo(settings.timezone),
            region=settings.default_phone_region,
        )
        ctx.default_owner_id = self._default_owner(ctx)
        session.close()  # the batches begin their own transactions
        if conn.in_transaction():
            conn.rollback()
        return ctx

    def _default_owner(self, ctx: Context) -> int | None:
        """The owner of new records whose row names none: given, else the importer."""
        email = self.default_owner_email
        if not email:
            return self.actor.user_id
        try:
            owner_id = ctx.lookups.user_id(email)
        except ValueError as exc:
            raise InvalidInput(
                f"default owner {email}: {exc}", [ErrorDetail(str(exc), field="owner")]
            ) from exc
        if not ctx.owner_allowed(owner_id):
            raise Forbidden(f"you may not make {email} the owner of imported records")
        return owner_id

    def _write(self, ctx: Context, batch: list[SourceRow]) -> BatchResult:
        result = BatchResult()
        for part in self.loader.parts(batch, self.mapping):
            result.add(self.loader.write(ctx, part))
        return result

    def _tally(self, result: BatchResult) -> None:
        self.totals.add(BatchResult(result.rows, result.created, result.updated,
                                    result.duplicates))
        self.failed += result.failed
        room = MAX_REPORTED_ERRORS - len(self.errors)
        for row in sorted(result.errors):
            for error in result.errors[row]:
                if room > 0:
                    self.errors.append(error.model_dump())
                    room -= 1
        self.sample.extend(result.sample[: max(10 - len(self.sample), 0)])

    def _record(self, session: Session, result: BatchResult) -> None:
        """Add a committed batch to the run, in the batch's own transaction."""
        self._tally(result)
        run = session.get_one(ImportRun, self.run_id)
        self._copy_to(run)

    def _copy_to(self, run: ImportRun) -> None:
        run.total, run.created, run.updated = (
            self.totals.rows, self.totals.created, self.totals.updated
        )
        run.duplicates, run.failed = self.totals.duplicates, self.failed
        run.errors = list(self.errors)
        run.checkpoint_row = self.checkpoint
        run.options = {**run.options, "sample": self.sample}

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(self.totals.rows, self.rows_hint, self.checkpoint)

    def _finish(self, status: RunStatus) -> None:
        with unit_of_work(self.engine) as session:
            run = session.get_one(ImportRun, self.run_id)
            if status is not RunStatus.DONE or self.dry_run or self.mode is ImportMode.ATOMIC:
                self._copy_to(run)
            run.status, run.finished_at, run.message = status, clock.now(), None
            if not self.dry_run:
                _audit(session, self.actor, run)


def _audit(session: Session, actor: Actor, run: ImportRun) -> None:
    """One event per import: counts and options, never a value from the file."""
    audit.record(
        session,
        actor,
        action="import",
        entity=_resource(Entity(run.entity)),
        row_count=run.total,
        detail={
            "run_id": run.id,
            "format": run.file_format,
            "mode": run.mode,
            "status": run.status.value,
            "created": run.created,
            "updated": run.updated,
            "duplicates": run.duplicates,
            "failed": run.failed,
        },
    )


def _group_key(loader: Loader, mapping: ColumnMapping) -> GroupKey | None:
    """The loader's key of rows that belong together (an order's lines), if it has one."""
    group_key = getattr(loader, "group_key", None)
    return group_key(mapping) if group_key is not None else None


def _batches(
    rows: Iterator[SourceRow], sizes: Iterator[int], key: GroupKey | None = None
) -> Iterator[list[SourceRow]]:
    """Batches of the sizes ``sizes`` gives; with ``key``, a batch goes on while the key of
    its last row does, so adjacent rows of one group (and the checkpoint after them) stay
    together."""
    carry: list[SourceRow] = []
    while batch := carry + list(islice(rows, max(next(sizes) - len(carry), 0))):
        carry = []
        if key is not None:
            last = key(batch[-1])
            for row in rows:
                if key(row) != last:
                    carry = [row]
                    break
                batch.append(row)
        yield batch


def _start(engine: Engine, run_id: int) -> ImportRun:
    with unit_of_work(engine) as session:
        run = session.get(ImportRun, run_id)
        if run is None:
            raise NotFound(f"no import run {run_id}")
        if run.status not in (RunStatus.DONE, RunStatus.REFUSED):
            if run.mode != ImportMode.PER_ROW or run.dry_run:
                run.checkpoint_row = 1  # all-or-nothing runs start over
                run.total = run.created = run.updated = run.duplicates = run.failed = 0
                run.errors = []
                run.options = {k: v for k, v in run.options.items() if k != "sample"}
            run.status, run.message = RunStatus.RUNNING, None
            run.started_at = run.started_at or clock.now()
        return run


def _fail(engine: Engine, run_id: int, actor: Actor, message: str) -> None:
    """Mark the run failed; batches a per-row run committed are audited now, with its counts
    so far (a resumed run is audited again when it finishes)."""
    with unit_of_work(engine) as session:
        run = session.get_one(ImportRun, run_id)
        run.status, run.message, run.finished_at = RunStatus.FAILED, message, clock.now()
        if run.mode == ImportMode.PER_ROW and not run.dry_run and run.total:
            _audit(session, actor, run)


def _save(engine: Engine, run_id: int, **values: Any) -> None:
    with unit_of_work(engine) as session:
        run = session.get_one(ImportRun, run_id)
        for name, value in values.items():
            setattr(run, name, value)


def _load(engine: Engine, run_id: int) -> ImportRun:
    with unit_of_work(engine, write=False) as session:
        return session.get_one(ImportRun, run_id)
