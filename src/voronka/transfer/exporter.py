"""Export any entity the actor may see as CSV or XLSX, streamed, and audit every export.

The Python API of exports; the CLI (``voronka export``) and the REST API
(``/api/v1/exports/<entity>.<csv|xlsx>``) are thin layers over it::

    scope = exporter.scope_of(actor, ExportEntity.ORDERS)          # Forbidden when none
    exporter.check(session, actor=actor, scope=scope, entity=..., export_filter=...)
    written = exporter.write(session, actor=actor, scope=scope, entity=..., file_format=...,
                             target=binary_file, export_filter=...)
    exporter.record(session, actor=actor, entity=..., file_format=..., row_count=written,
                    export_filter=...)

Rows come from each entity's spec (``voronka.transfer.exports``): the record scope of the
resource's EXPORT policy applied by the domain repositories' own ``visible_to`` conditions,
read a page at a time through a server-side cursor, so memory stays flat however many rows
there are. The column names are the import's field names, so an exported file imports back.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from voronka.access.actor import Actor
from voronka.access.policy import Action, Scope, scope_for
from voronka.audit import service as audit
from voronka.config import get_settings
from voronka.errors import Forbidden
from voronka.transfer.exports import filters
from voronka.transfer.exports.people import COLUMNS as CLIENT_COLUMNS
from voronka.transfer.exports.registry import EXPORTS
from voronka.transfer.exports.sales import DEAL_COLUMNS
from voronka.transfer.exports.spec import ExportEntity, ExportFilter, ExportSpec
from voronka.transfer.reading import FileFormat
from voronka.transfer.writing import csv_chunks, write_xlsx

__all__ = [
    "CLIENT_COLUMNS",
    "DEAL_COLUMNS",
    "MEDIA_TYPES",
    "ExportEntity",
    "ExportFilter",
    "check",
    "chunks",
    "count",
    "record",
    "rows",
    "scope_of",
    "spec_of",
    "write",
]

CHUNK_BYTES = 256 * 1024
PROGRESS_ROWS = 50_000
MEDIA_TYPES = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Progress = Callable[[int], None]  # rows written so far


def spec_of(entity: ExportEntity | str) -> ExportSpec:
    """The export of ``entity`` (an ``ExportEntity`` or its name, e.g. ``Entity.CLIENTS``)."""
    return EXPORTS[ExportEntity(str(entity))]


def scope_of(actor: Actor, entity: ExportEntity | str) -> Scope:
    """The actor's EXPORT scope on the entity's resource; ``Forbidden`` when none."""
    spec = spec_of(entity)
    scope = scope_for(actor, spec.resource, Action.EXPORT)
    if scope is Scope.NONE:
        raise Forbidden(f"your role may not export {spec.entity.value}")
    return scope


def check(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    entity: ExportEntity | str,
    export_filter: ExportFilter,
) -> None:
    """Refuse a filter the export cannot apply (422) or an owner outside the scope (403)."""
    filters.check(session, actor, scope, spec_of(entity), export_filter)


def count(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    entity: ExportEntity | str,
    export_filter: ExportFilter,
) -> int:
    """How many rows an export with these arguments gives."""
    return spec_of(entity).count(session, actor, scope, export_filter)


def rows(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    entity: ExportEntity | str,
    export_filter: ExportFilter,
) -> Iterator[tuple[Any, ...]]:
    """The export's rows in its columns' order, streamed (the filter checked first)."""
    spec = spec_of(entity)
    filters.check(session, actor, scope, spec, export_filter)
    return spec.rows(session, actor, scope, export_filter)


def write(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    entity: ExportEntity | str,
    file_format: FileFormat,
    target: BinaryIO,
    export_filter: ExportFilter | None = None,
    progress: Progress | None = None,
) -> int:
    """Write the export to ``target``; return the number of data rows written.

    The filter is checked first (``check``), so a bad filter writes nothing.
    """
    spec = spec_of(entity)
    chosen = export_filter or ExportFilter()
    filters.check(session, actor, scope, spec, chosen)
    written = 0

    def counted() -> Iterator[tuple[Any, ...]]:
        nonlocal written
        for row in spec.rows(session, actor, scope, chosen):
            written += 1
            if progress is not None and written % PROGRESS_ROWS == 0:
                progress(written)
            yield row

    zone = ZoneInfo(get_settings().timezone)
    if file_format is FileFormat.CSV:
        for chunk in csv_chunks(spec.columns, counted(), zone):
            target.write(chunk)
    else:
        write_xlsx(spec.columns, counted(), target, zone, spec.entity.value)
    return written


def chunks(
    session: Session,
    *,
    actor: Actor,
    scope: Scope,
    entity: ExportEntity | str,
    file_format: FileFormat,
    export_filter: ExportFilter,
) -> Iterator[bytes]:
    """The export file in chunks, for streaming: CSV as it is written; XLSX (a zip, whose
    directory comes last) written to a temporary file first, then read back."""
    spec = spec_of(entity)
    if file_format is FileFormat.CSV:
        zone = ZoneInfo(get_settings().timezone)
        filters.check(session, actor, scope, spec, export_filter)
        found = spec.rows(session, actor, scope, export_filter)
        yield from csv_chunks(spec.columns, found, zone)
        return
    with tempfile.TemporaryFile(prefix="voronka-export-") as spool:
        write(
            session,
            actor=actor,
            scope=scope,
            entity=entity,
            file_format=file_format,
            target=spool,
            export_filter=export_filter,
        )
        spool.seek(0)
        while data := spool.read(CHUNK_BYTES):
            yield data


def record(
    session: Session,
    *,
    actor: Actor,
    entity: ExportEntity | str,
    file_format: FileFormat,
    row_count: int,
    export_filter: ExportFilter,
) -> None:
    """Audit one export: who, when, what, format, filter and row count — no values."""
    spec = spec_of(entity)
    audit.record(
        session,
        actor,
        action="export",
        entity=spec.resource,
        row_count=row_count,
        detail={
            "export": spec.entity.value,
            "format": file_format.value,
            "filter": export_filter.as_audit(),
        },
    )
