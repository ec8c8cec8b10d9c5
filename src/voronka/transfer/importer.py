"""Import clients or deals from a CSV/XLSX file into the caller's transaction.

The whole import runs inside a savepoint, and every row inside its own savepoint:

* a bad row rolls back only itself, so in ``per-row`` mode the good rows are written exactly
  once and ``ok + failed = total``;
* in ``atomic`` mode every row is still tried, so the report lists every bad row, and then
  the import's savepoint is rolled back if any row failed — nothing is written;
* a dry run does exactly what a real run does and then rolls the import's savepoint back:
  the report is the one a real run would give, nothing is written, changes the caller made
  before the import survive, and the session forgets every object the import touched.

Rows are read and references (owners, channels) prefetched in batches of ``batch_size``;
duplicates are looked up row by row against what earlier rows wrote, so the result does not
depend on the batch size.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Scope
from voronka.access.scope import owner_in_scope
from voronka.audit import service as audit
from voronka.errors import ErrorDetail, Forbidden, InvalidInput, VoronkaError
from voronka.transfer.client_rows import ClientImport
from voronka.transfer.deal_rows import DealImport
from voronka.transfer.lookups import Lookups
from voronka.transfer.mapping import ColumnMapping, Entity, resolve
from voronka.transfer.options import ImportMode, ImportOptions, OnDuplicate
from voronka.transfer.reading import FileFormat, ReadLimits, SourceRow, open_table
from voronka.transfer.report import ImportReport
from voronka.transfer.rows import Outcome, RowFailure, RowHandler, RowReader

HANDLERS: dict[Entity, type[RowHandler]] = {
    Entity.CLIENTS: ClientImport,
    Entity.DEALS: DealImport,
}
RESOURCE = {Entity.CLIENTS: "client", Entity.DEALS: "deal"}
OVERFLOW = "the row has values to the right of the last named column"
CONSTRAINT = "the row breaks a rule of the stored data (a unique value or a reference)"


def import_file(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    entity: Entity,
    path: Path,
    file_format: FileFormat,
    options: ImportOptions,
    limits: ReadLimits | None = None,
) -> ImportReport:
    """Import ``path`` as ``actor`` with the IMPORT ``scope``; return the report.

    File-level problems (unreadable file, limits, mapping) raise before anything is
    written; row problems go into the report.
    """
    if options.batch_size < 1:
        raise InvalidInput("batch size must be at least 1", [ErrorDetail(">= 1", "batch_size")])
    with open_table(path, file_format, limits) as table:
        updating = options.on_duplicate is OnDuplicate.UPDATE
        mapping = resolve(entity, table.columns, options.mapping, updating=updating)
        lookups = Lookups(session, actor, scope)
        default_owner_id = _default_owner(session, actor, scope, lookups, options)
        handler = HANDLERS[entity](
            session, actor, scope, lookups, options.on_duplicate, default_owner_id
        )
        report = _empty_report(entity, options, mapping)
        _run_in_savepoint(
            session, handler, mapping, table.rows, report, options, table.row_count_hint
        )
    if not options.dry_run:  # a dry run writes nothing, not even an audit event
        _audit(session, actor, entity, file_format, report)
    return report


def _run_in_savepoint(
    session: Session,
    handler: RowHandler,
    mapping: ColumnMapping,
    rows: Iterable[SourceRow],
    report: ImportReport,
    options: ImportOptions,
    total_hint: int | None,
) -> None:
    savepoint = session.begin_nested()
    try:
        for batch in _batches(rows, options.batch_size):
            _import_batch(session, handler, mapping, batch, report)
            if options.progress is not None:
                options.progress(report.total, total_hint)
    except BaseException:
        if savepoint.is_active:
            savepoint.rollback()
        raise
    refused = options.mode is ImportMode.ATOMIC and report.failed > 0
    report.committed = not options.dry_run and not refused
    if report.committed:
        savepoint.commit()
    else:
        savepoint.rollback()


def _import_batch(
    session: Session,
    handler: RowHandler,
    mapping: ColumnMapping,
    batch: list[SourceRow],
    report: ImportReport,
) -> None:
    readers = [RowReader(row, mapping) for row in batch]
    handler.prefetch(readers)
    for reader in readers:
        report.total += 1
        _import_row(session, handler, reader, report)


def _import_row(
    session: Session, handler: RowHandler, reader: RowReader, report: ImportReport
) -> None:
    """Write one row in its own savepoint, or put its problems into the report."""
    if reader.row.overflow:
        reader.fail(None, OVERFLOW)
    prepared = handler.prepare(reader)
    if reader.errors:
        report.add_errors(reader.errors)
        return
    try:
        with session.begin_nested():
            outcome = handler.apply(prepared)
    except RowFailure as exc:
        report.add_errors(exc.errors)
    except VoronkaError as exc:
        report.add_errors(handler.errors_from(reader, exc))
    except ValidationError as exc:
        report.add_errors([reader.error(None, str(exc.errors()[0]["msg"]))])
    except (IntegrityError, DataError):
        report.add_errors([reader.error(None, CONSTRAINT)])
    else:
        _count(report, outcome)


def _count(report: ImportReport, outcome: Outcome) -> None:
    name = outcome.value
    setattr(report, name, getattr(report, name) + 1)


def _batches(rows: Iterable[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _default_owner(
    session: Session, actor: Actor, scope: Scope, lookups: Lookups, options: ImportOptions
) -> int | None:
    """The owner of new records whose row names none (checked once, before any row)."""
    email = options.default_owner_email
    if not email:
        return None
    try:
        owner_id = lookups.user_id(email)
    except ValueError as exc:
        raise InvalidInput(
            f"default owner {email}: {exc}", [ErrorDetail(str(exc), field="owner")]
        ) from exc
    if not owner_in_scope(session, actor, scope, owner_id):
        raise Forbidden(
            f"you may not make {email} the owner of imported records",
            [ErrorDetail("outside your scope", field="owner")],
        )
    return owner_id


def _empty_report(entity: Entity, options: ImportOptions, mapping: ColumnMapping) -> ImportReport:
    return ImportReport(
        entity=entity,
        mode=options.mode,
        on_duplicate=options.on_duplicate,
        dry_run=options.dry_run,
        columns=dict(mapping.fields),
        unknown_columns=list(mapping.unknown_columns),
        ignored_columns=list(mapping.ignored_columns),
    )


def _audit(
    session: Session, actor: Actor, entity: Entity, file_format: FileFormat, report: ImportReport
) -> None:
    """One audit event per import: counts and options, never a value from the file."""
    audit.record(
        session,
        actor,
        action="import",
        entity=RESOURCE[entity],
        row_count=report.total,
        detail={
            "format": file_format.value,
            "mode": report.mode.value,
            "on_duplicate": report.on_duplicate.value,
            "committed": report.committed,
            **{k: getattr(report, k) for k in ("created", "updated", "unchanged", "skipped")},
            "failed": report.failed,
        },
    )
